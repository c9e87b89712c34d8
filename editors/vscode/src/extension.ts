// hud for VS Code and Cursor: starts hud-lsp, and adds the call-graph panel, the sidebar, the status bar
// item, the commands and the deep-link handler.
import * as vscode from "vscode";
import { buildFunctionLink, isFunctionId, parseDeepLink } from "./lib/deeplink";
import { findDefinitionLine, mapModulePath } from "./lib/locate";
import { checkKey, secretName } from "./lib/secrets";
import { tuiArgs, serverEnv } from "./lib/settings";
import { statusView } from "./lib/status";
import type { TreeEntry } from "./lib/trees";
import type { HudFailure, HudNode } from "./lib/types";
import { isFailure } from "./lib/types";
import { CallGraphView, type Target } from "./panel";
import { HudServer, Servers, settingsFor } from "./servers";
import { Sidebar } from "./sidebar";

let servers: Servers | undefined;

export async function activate(ctx: vscode.ExtensionContext): Promise<void> {
  const log = vscode.window.createOutputChannel("hud");
  const srv = new Servers(ctx, log);
  servers = srv;
  const sidebar = new Sidebar(srv);
  sidebar.register(ctx);
  const panel = new CallGraphView(ctx, (n, s) => void openNode(n, s), log);
  panel.setDefaultWeight(settingsFor().callGraph.edgeWidth);
  const item = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 50);
  item.command = "hud.explain";
  item.show();

  const paint = () => {
    const s = srv.active();
    const v = statusView(s?.status, s?.explain, Date.now(), s?.dataAt);
    item.text = v.text;
    item.tooltip = v.tooltip;
    item.backgroundColor = v.severity ? new vscode.ThemeColor(`statusBarItem.${v.severity}Background`) : undefined;
  };
  let explainTimer: NodeJS.Timeout | undefined;
  const explainActive = () => {
    clearTimeout(explainTimer);
    explainTimer = setTimeout(async () => {
      const doc = vscode.window.activeTextEditor?.document;
      const s = srv.active();
      if (!doc || !s || s.status?.state !== "ok") return paint();
      s.explain = await s.explainQuietly(doc.uri.toString());
      paint();
    }, 400);
  };

  const target = (): { server: HudServer; target: Target } | undefined => {
    const ed = vscode.window.activeTextEditor;
    const s = srv.active();
    if (!ed || !s) {
      void vscode.window.showInformationMessage("hud: place the cursor in a function of a source file first");
      return undefined;
    }
    const p = ed.selection.active;
    return { server: s, target: { textDocument: { uri: ed.document.uri.toString() }, position: { line: p.line, character: p.character } } };
  };
  /** The function_id under the cursor (hud/functionDetail), or undefined with a message. */
  const functionIdHere = async (): Promise<{ server: HudServer; id: string } | undefined> => {
    const t = target();
    if (!t) return undefined;
    const d = await t.server.request<{ function: HudNode } | HudFailure>("hud/functionDetail", t.target);
    if (isFailure(d)) {
      void vscode.window.showInformationMessage(`hud: ${d.error.message}`);
      return undefined;
    }
    return { server: t.server, id: d.function.functionId };
  };

  async function openNode(n: HudNode, s: HudServer): Promise<void> {
    if (n.location) {
      const uri = vscode.Uri.parse(n.location.uri);
      if (uri.scheme === "file") {
        const r = n.location.range;
        await vscode.window.showTextDocument(uri, { selection: new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character) });
        return;
      }
    }
    // Not located by hud-lsp: hud.pathMaps, then a search of the workspace for the module path.
    const roots = s.folders.length ? s.folders : vscode.workspace.workspaceFolders ?? [];
    for (const rel of mapModulePath(n.modulePath, s.settings.pathMaps)) {
      for (const f of roots) {
        const uri = vscode.Uri.joinPath(f.uri, rel);
        try {
          await vscode.workspace.fs.stat(uri);
          return reveal(uri, n.name);
        } catch {
          /* next candidate */
        }
      }
    }
    if (n.modulePath) {
      const [found] = await vscode.workspace.findFiles(`**/${n.modulePath}`, "**/node_modules/**", 1);
      if (found) return reveal(found, n.name);
    }
    void vscode.window.showInformationMessage(`hud: ${n.name} (${n.modulePath || "unknown module"}) is not in this workspace (hud.pathMaps maps module paths to folders)`);
  }

  async function reveal(uri: vscode.Uri, name: string): Promise<void> {
    const doc = await vscode.workspace.openTextDocument(uri);
    const line = Math.max(0, findDefinitionLine(doc.getText(), name));
    await vscode.window.showTextDocument(doc, { selection: new vscode.Range(line, 0, line, 0) });
  }

  /** Opens a function by id (deep links): its definition when found, and its call graph. */
  async function openFunctionId(id: string): Promise<void> {
    const s = srv.active();
    if (!s) return void vscode.window.showErrorMessage("hud: hud-lsp is not running");
    const d = await s.request<{ function: HudNode } | HudFailure>("hud/functionDetail", { functionId: id });
    if (isFailure(d)) return void vscode.window.showErrorMessage(`hud: function ${id}: ${d.error.message}`);
    await openNode(d.function, s);
    await panel.show(s, { functionId: id });
  }

  /** An alert's link: the issue selected in the Issues view, its headline said. */
  async function openIssue(issueId: string): Promise<void> {
    const e = await sidebar.revealIssue(issueId);
    if (!e) return void vscode.window.showWarningMessage(`hud: issue ${issueId} is not among the active issues (muted, resolved or another service's)`);
    void vscode.window.showInformationMessage(`hud: ${e.label}${e.description ? ` (${e.description})` : ""}`);
  }

  const cmd = (id: string, f: (...a: any[]) => unknown) => ctx.subscriptions.push(vscode.commands.registerCommand(id, f));
  cmd("hud.refresh", async () => {
    await Promise.all(srv.list.map((s) => s.command("hud.refresh").catch(() => undefined)));
    await sidebar.refresh();
  });
  cmd("hud.setApiKey", async () => {
    const url = settingsFor(vscode.window.activeTextEditor?.document.uri).url;
    const input = await vscode.window.showInputBox({ prompt: `hud API key (read role) for ${url || "the configured backend"}`, password: true, ignoreFocusOut: true });
    if (input === undefined) return;
    const k = checkKey(input);
    if ("error" in k) return void vscode.window.showErrorMessage(`hud: ${k.error}`);
    await ctx.secrets.store(secretName(url), k.key);
    await srv.restart();
    void vscode.window.showInformationMessage("hud: API key stored in the editor's secret storage");
  });
  cmd("hud.clearApiKey", async () => {
    await ctx.secrets.delete(secretName(settingsFor(vscode.window.activeTextEditor?.document.uri).url));
    await srv.restart();
  });
  cmd("hud.toggleLenses", async () => {
    const c = vscode.workspace.getConfiguration("hud");
    await c.update("lens.enabled", !c.get<boolean>("lens.enabled", true), vscode.ConfigurationTarget.Global);
  });
  cmd("hud.showCallGraph", async (arg?: unknown) => {
    if (typeof arg === "string" && isFunctionId(arg)) {
      const s = srv.active();
      if (s) await panel.show(s, { functionId: arg });
      return;
    }
    const t = target();
    if (t) await panel.show(t.server, t.target);
  });
  cmd("hud.showHotPaths", async () => {
    const t = target();
    if (t) await sidebar.showHotPaths(t.target);
  });
  cmd("hud.toggleHotPathsOrder", async () => {
    sidebar.by = sidebar.by === "time" ? "calls" : "time";
    await sidebar.refresh();
  });
  cmd("hud.explain", async () => {
    const doc = vscode.window.activeTextEditor?.document;
    const s = srv.active();
    if (!doc || !s) return;
    s.explain = await s.command<{ reason: string; message: string }>("hud.explain", [doc.uri.toString()]);
    paint();
  });
  cmd("hud.openInTui", async () => {
    const f = await functionIdHere();
    if (!f) return;
    const st = f.server.settings;
    const key = await ctx.secrets.get(secretName(st.url));
    const http = vscode.workspace.getConfiguration("http");
    const env = serverEnv(st, key, { httpProxy: http.get<string>("proxy") ?? "", noProxy: http.get<string[]>("noProxy") ?? [] }, {});
    const term = vscode.window.createTerminal({ name: "hud-tui", shellPath: st.tuiPath, shellArgs: tuiArgs(st, f.id), env });
    term.show();
  });
  cmd("hud.copyDeepLink", async () => {
    const f = await functionIdHere();
    if (!f) return;
    const link = buildFunctionLink(vscode.env.uriScheme, ctx.extension.id, f.id);
    await vscode.env.clipboard.writeText(link);
    void vscode.window.showInformationMessage(`hud: copied ${link}`);
  });
  cmd("hud.restartServer", () => srv.restart());
  cmd("hud.openEntry", async (e: TreeEntry) => {
    const s = srv.active();
    if (!s) return;
    if (e.flowId && !e.functionId) return sidebar.showHotPaths({ flowId: e.flowId });
    if (e.flowId) await sidebar.showHotPaths({ flowId: e.flowId });
    if (e.functionId) {
      await openNode({ functionId: e.functionId, name: e.label, modulePath: e.modulePath ?? null, location: e.location }, s);
      if (!e.flowId) await panel.show(s, { functionId: e.functionId });
    }
  });

  ctx.subscriptions.push(
    log,
    item,
    srv,
    vscode.window.registerWebviewViewProvider(CallGraphView.id, panel),
    vscode.window.registerUriHandler({
      handleUri(uri: vscode.Uri) {
        const l = parseDeepLink(uri.path, uri.query);
        if (l.kind === "invalid") return void vscode.window.showErrorMessage(`hud: ${l.error}`);
        void openFunctionId(l.functionId).then(() => (l.issueId ? openIssue(l.issueId) : undefined));
      },
    }),
    srv.onStatus(() => {
      paint();
      explainActive();
    }),
    vscode.window.onDidChangeActiveTextEditor(() => {
      paint();
      explainActive();
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration("hud") && !e.affectsConfiguration("http")) return;
      const display = ["hud.lens", "hud.inlayHints", "hud.hover", "hud.diagnostics", "hud.thresholds", "hud.pathMaps", "hud.callGraph", "hud.tuiPath"];
      const startUp = ["hud.serverPath", "hud.configFile", "hud.caFile", "hud.url", "hud.service", "hud.env", "hud.window", "hud.refreshSeconds", "http"];
      if (startUp.some((k) => e.affectsConfiguration(k))) void srv.restart();
      else if (display.some((k) => e.affectsConfiguration(k))) srv.redraw();
      panel.setDefaultWeight(settingsFor().callGraph.edgeWidth);
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => void srv.restart()),
  );
  const ticker = setInterval(paint, 30_000);
  ctx.subscriptions.push({ dispose: () => clearInterval(ticker) });
  paint();
  await srv.start();
  paint();
  void sidebar.refresh();
}

export async function deactivate(): Promise<void> {
  await servers?.stop();
}
