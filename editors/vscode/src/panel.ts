// The production call graph, a webview in the bottom panel (media/callgraph.js draws it).
import * as crypto from "node:crypto";
import * as vscode from "vscode";
import { layoutCallGraph, type LayoutModel } from "./lib/graph";
import { makeNonce, panelHtml } from "./lib/html";
import type { EdgeWeight } from "./lib/settings";
import type { CallGraph, ErrorFlows, HudFailure, HudNode } from "./lib/types";
import { isFailure } from "./lib/types";
import type { HudServer } from "./servers";

export type Target = { functionId: string } | { textDocument: { uri: string }; position: { line: number; character: number } };

export class CallGraphView implements vscode.WebviewViewProvider {
  static readonly id = "hud.callGraph";
  private view?: vscode.WebviewView;
  private pending?: { server: HudServer; target: Target };
  private weight: EdgeWeight = "calls";

  constructor(
    private readonly ctx: vscode.ExtensionContext,
    private readonly open: (n: HudNode, server: HudServer) => void,
    private readonly log: vscode.OutputChannel,
  ) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const media = vscode.Uri.joinPath(this.ctx.extensionUri, "media");
    view.webview.options = { enableScripts: true, localResourceRoots: [media] };
    view.webview.html = panelHtml({
      cspSource: view.webview.cspSource,
      nonce: makeNonce((n) => crypto.randomBytes(n)),
      scriptUri: view.webview.asWebviewUri(vscode.Uri.joinPath(media, "callgraph.js")).toString(),
      styleUri: view.webview.asWebviewUri(vscode.Uri.joinPath(media, "callgraph.css")).toString(),
    });
    view.webview.onDidReceiveMessage((m) => this.onMessage(m));
    view.onDidDispose(() => (this.view = undefined));
  }

  private last?: { server: HudServer; model: LayoutModel };

  private onMessage(m: { type: string; functionId?: string; name?: string; modulePath?: string; location?: HudNode["location"] | null; weight?: EdgeWeight }): void {
    if (m.type === "ready") {
      if (this.pending) void this.show(this.pending.server, this.pending.target);
      else if (this.last) void this.view?.webview.postMessage({ type: "graph", model: this.last.model, weight: this.weight });
    } else if (m.type === "open" && m.functionId && this.last) {
      this.open({ functionId: m.functionId, name: m.name ?? "", modulePath: m.modulePath ?? "", location: m.location ?? undefined }, this.last.server);
    } else if (m.type === "focus" && m.functionId && this.last) {
      void this.show(this.last.server, { functionId: m.functionId });
    } else if (m.type === "weight" && (m.weight === "calls" || m.weight === "time")) {
      this.weight = m.weight;
    }
  }

  /** Asks hud/callGraph and hud/errorFlows for the target and draws them; reveals the panel. */
  async show(server: HudServer, target: Target): Promise<void> {
    this.pending = { server, target };
    if (!this.view) {
      await vscode.commands.executeCommand(`${CallGraphView.id}.focus`);
      return; // drawn when the page says it is ready
    }
    this.view.show?.(true);
    this.pending = undefined;
    void this.view.webview.postMessage({ type: "loading", name: "" });
    const cg = server.settings.callGraph;
    try {
      const [graph, flows] = await Promise.all([
        server.request<CallGraph | HudFailure>("hud/callGraph", { ...target, depth: cg.depth, maxNodes: cg.maxNodes }),
        server.request<ErrorFlows | HudFailure>("hud/errorFlows", target).catch(() => null),
      ]);
      const model = layoutCallGraph(graph, flows);
      if (!isFailure(graph)) server.dataAt = Math.max(server.dataAt ?? 0, graph.window.to);
      this.last = { server, model };
      void this.view.webview.postMessage({ type: "graph", model, weight: this.weight });
    } catch (e) {
      this.log.appendLine(`hud/callGraph failed: ${String(e)}`);
      void this.view.webview.postMessage({ type: "error", message: `hud-lsp did not answer hud/callGraph: ${String(e)}` });
    }
  }

  setDefaultWeight(w: EdgeWeight): void {
    this.weight = w;
  }
}
