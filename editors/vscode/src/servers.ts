// One hud-lsp per group of workspace folders that share a backend and service (hud-lsp serves one service).
import * as fs from "node:fs";
import * as vscode from "vscode";
import {
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  ShowMessageNotification,
  MessageType,
  type StaticFeature,
  type DynamicFeature,
} from "vscode-languageclient/node";
import {
  describeEnv,
  documentSelector,
  groupFolders,
  initializationOptions,
  readSettings,
  serverCommand,
  serverEnv,
  type HudSettings,
} from "./lib/settings";
import { layoutLens } from "./lib/lens";
import { secretName } from "./lib/secrets";
import type { HudStatus } from "./lib/status";

/** The extension runs the server's commands itself (several servers must not register the same ids). */
class HudLanguageClient extends LanguageClient {
  override registerFeature(f: StaticFeature | DynamicFeature<unknown>): void {
    const method = (f as { registrationType?: { method?: string } }).registrationType?.method;
    if (method === ExecuteCommandRequest.method) return;
    super.registerFeature(f);
  }
}

export function settingsFor(scope?: vscode.ConfigurationScope): HudSettings {
  const c = vscode.workspace.getConfiguration("hud", scope);
  return readSettings((n) => c.get(n));
}

export class HudServer {
  status?: HudStatus;
  explain?: { reason: string; message: string };
  dataAt?: number;
  private quiet = 0;
  private held: { type: number; message: string }[] = [];

  constructor(
    readonly client: LanguageClient,
    readonly folders: readonly vscode.WorkspaceFolder[],
    readonly settings: HudSettings,
  ) {}

  holds(uri: vscode.Uri): boolean {
    return this.folders.length === 0 || this.folders.some((f) => uri.fsPath === f.uri.fsPath || uri.fsPath.startsWith(f.uri.fsPath + "/"));
  }

  request<T>(method: string, params: unknown): Promise<T> {
    return this.client.sendRequest<T>(method, params);
  }

  command<T>(command: string, args: unknown[] = []): Promise<T> {
    return this.client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args }) as Promise<T>;
  }

  /** hud.explain without the pop-up hud-lsp sends with it (for the status bar). */
  async explainQuietly(uri: string): Promise<{ reason: string; message: string } | undefined> {
    this.quiet++;
    let r: { reason: string; message: string } | undefined;
    try {
      r = await this.command<{ reason: string; message: string }>("hud.explain", [uri]);
      return r;
    } catch {
      return undefined;
    } finally {
      // Messages that came meanwhile are shown, except hud.explain's own.
      if (--this.quiet === 0) for (const m of this.held.splice(0)) if (!r || m.message !== r.message) show(m);
    }
  }

  onShowMessage(m: { type: number; message: string }): void {
    if (this.quiet > 0 && m.type === MessageType.Info) this.held.push(m);
    else show(m);
  }
}

function show(m: { type: number; message: string }): void {
  if (m.type === MessageType.Error) void vscode.window.showErrorMessage(m.message);
  else if (m.type === MessageType.Warning) void vscode.window.showWarningMessage(m.message);
  else void vscode.window.showInformationMessage(m.message);
}

export class Servers implements vscode.Disposable {
  list: HudServer[] = [];
  private readonly statusEmitter = new vscode.EventEmitter<HudServer>();
  readonly onStatus = this.statusEmitter.event;

  constructor(
    private readonly ctx: vscode.ExtensionContext,
    private readonly log: vscode.OutputChannel,
  ) {}

  async start(): Promise<void> {
    const folders = vscode.workspace.workspaceFolders ?? [];
    const groups = folders.length
      ? groupFolders([...folders], (f) => settingsFor(f))
      : [{ signature: "", folders: [] as vscode.WorkspaceFolder[], settings: settingsFor() }];
    for (const g of groups) {
      try {
        const s = await this.startOne(g.folders, g.settings, groups.length > 1);
        if (s) this.list.push(s);
      } catch (e) {
        this.log.appendLine(`hud-lsp did not start: ${String(e)}`);
        void vscode.window.showErrorMessage(`hud: hud-lsp did not start: ${String(e)}`);
      }
    }
  }

  async stop(): Promise<void> {
    const l = this.list;
    this.list = [];
    await Promise.all(l.map((s) => s.client.stop().catch(() => undefined)));
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  forUri(uri?: vscode.Uri): HudServer | undefined {
    if (uri) {
      const s = this.list.find((x) => x.folders.length > 0 && x.holds(uri));
      if (s) return s;
    }
    return this.list[0];
  }

  active(): HudServer | undefined {
    return this.forUri(vscode.window.activeTextEditor?.document.uri);
  }

  /** Makes VS Code ask every server for lenses and inlay hints again (after a display setting changed). */
  redraw(): void {
    for (const s of this.list) {
      for (const method of ["textDocument/codeLens", "textDocument/inlayHint"]) {
        const f = s.client.getFeature(method as "textDocument/codeLens") as unknown as {
          getAllProviders?: () => Iterable<{ onDidChangeCodeLensEmitter?: vscode.EventEmitter<void>; onDidChangeInlayHints?: vscode.EventEmitter<void> }>;
        };
        for (const p of f?.getAllProviders?.() ?? []) {
          p.onDidChangeCodeLensEmitter?.fire();
          p.onDidChangeInlayHints?.fire();
        }
      }
    }
  }

  private async startOne(folders: vscode.WorkspaceFolder[], st: HudSettings, several: boolean): Promise<HudServer | undefined> {
    const cmd = serverCommand(st, this.ctx.extensionPath, process.platform, process.arch, (p) => fs.existsSync(p));
    if ("error" in cmd) {
      void vscode.window.showErrorMessage(`hud: ${cmd.error}`);
      return undefined;
    }
    if (cmd.command.startsWith(this.ctx.extensionPath)) {
      try {
        fs.accessSync(cmd.command, fs.constants.X_OK);
      } catch {
        fs.chmodSync(cmd.command, 0o755); // some unpackers drop the execute bit
      }
    }
    const key = await this.ctx.secrets.get(secretName(st.url));
    const http = vscode.workspace.getConfiguration("http");
    const env = serverEnv(st, key, { httpProxy: http.get<string>("proxy") ?? "", noProxy: http.get<string[]>("noProxy") ?? [] }, process.env);
    const name = several ? `hud (${folders.map((f) => f.name).join(", ")})` : "hud";
    this.log.appendLine(`starting ${cmd.command} ${cmd.args.join(" ")} ${describeEnv(env)}`);
    const serverOptions: ServerOptions = { command: cmd.command, args: cmd.args, options: { env } };
    const scope = folders[0];
    const current = () => settingsFor(scope);
    const clientOptions: LanguageClientOptions = {
      documentSelector: documentSelector(folders.map((f) => f.uri.fsPath)),
      workspaceFolder: several ? scope : undefined,
      initializationOptions: initializationOptions(st),
      outputChannel: this.log,
      middleware: {
        workspace: {
          configuration: (params) => params.items.map((it) => (it.section === "hud" || !it.section ? initializationOptions(current()) : null)),
        },
        provideCodeLenses: async (doc, token, next) => {
          const s = current();
          if (!s.lens.enabled) return [];
          const lenses = (await next(doc, token)) ?? [];
          const out: vscode.CodeLens[] = [];
          for (const l of lenses) {
            const fid = l.command?.arguments?.[0];
            for (const title of layoutLens(l.command?.title ?? "", s))
              out.push(new vscode.CodeLens(l.range, { title, command: fid ? "hud.showCallGraph" : "", arguments: fid ? [fid] : [], tooltip: "hud: production call graph" }));
          }
          return out;
        },
        provideHover: (doc, pos, token, next) => (current().hover ? next(doc, pos, token) : undefined),
        provideInlayHints: (doc, range, token, next) => (current().inlayHints ? next(doc, range, token) : []),
        handleDiagnostics: (uri, diags, next) => next(uri, current().diagnostics ? diags : []),
      },
    };
    const client = new HudLanguageClient("hud", name, serverOptions, clientOptions);
    const server = new HudServer(client, folders, st);
    // Registered before start: they replace the client's own showMessage handler and catch the first status.
    client.onNotification(ShowMessageNotification.type, (m) => server.onShowMessage(m));
    client.onNotification("hud/status", (p: HudStatus) => {
      server.status = p;
      if (p.state === "ok") server.dataAt = Date.now();
      this.statusEmitter.fire(server);
    });
    await client.start();
    return server;
  }

  dispose(): void {
    void this.stop();
    this.statusEmitter.dispose();
  }
}
