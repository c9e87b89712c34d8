// The sidebar's trees: hot paths (hud/hotPaths), flows (hud/flows), issues (hud/issues).
import * as vscode from "vscode";
import { flowEntries, hotPathEntries, issueEntries, type TreeEntry } from "./lib/trees";
import type { Flows, HotPaths, HudFailure, Issues } from "./lib/types";
import { isFailure } from "./lib/types";
import type { Servers } from "./servers";
import type { Target } from "./panel";

class EntryTree implements vscode.TreeDataProvider<TreeEntry> {
  private entries: TreeEntry[] = [];
  private parents = new Map<TreeEntry, TreeEntry>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;

  set(entries: TreeEntry[]): void {
    this.entries = entries;
    this.parents.clear();
    const walk = (e: TreeEntry) => e.children.forEach((c) => (this.parents.set(c, e), walk(c)));
    entries.forEach(walk);
    this.changed.fire();
  }

  getChildren(e?: TreeEntry): TreeEntry[] {
    return e ? e.children : this.entries;
  }

  /** For TreeView.reveal. */
  getParent(e: TreeEntry): TreeEntry | undefined {
    return this.parents.get(e);
  }

  find(issueId: string): TreeEntry | undefined {
    return this.entries.find((e) => e.issueId === issueId);
  }

  getTreeItem(e: TreeEntry): vscode.TreeItem {
    const item = new vscode.TreeItem(
      e.label,
      e.children.length ? (e.id.split("/").length < 3 ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed) : vscode.TreeItemCollapsibleState.None,
    );
    item.id = e.id;
    item.description = e.description;
    item.tooltip = e.tooltip;
    item.iconPath = new vscode.ThemeIcon(e.icon, e.alert ? new vscode.ThemeColor("errorForeground") : undefined);
    if (e.functionId || e.flowId) {
      item.command = { command: "hud.openEntry", title: "Open", arguments: [e] };
      item.contextValue = e.flowId && !e.functionId ? "flow" : "function";
    }
    return item;
  }
}

export class Sidebar {
  readonly hot = new EntryTree();
  readonly flows = new EntryTree();
  readonly issues = new EntryTree();
  private hotTarget?: Target | { flowId: string };
  by: "time" | "calls" = "time";

  constructor(private readonly servers: Servers) {}

  private issuesView?: vscode.TreeView<TreeEntry>;

  register(ctx: vscode.ExtensionContext): void {
    this.issuesView = vscode.window.createTreeView("hud.issues", { treeDataProvider: this.issues });
    ctx.subscriptions.push(
      vscode.window.registerTreeDataProvider("hud.hotPaths", this.hot),
      vscode.window.registerTreeDataProvider("hud.flows", this.flows),
      this.issuesView,
    );
  }

  /** A deep link's issue: the issues are asked for again, then the issue is selected in its view. False when
   * the active issues do not hold it (muted, resolved, or another service's). */
  async revealIssue(issueId: string): Promise<TreeEntry | undefined> {
    await this.refresh();
    const e = this.issues.find(issueId);
    if (e && this.issuesView) await this.issuesView.reveal(e, { select: true, focus: true, expand: true });
    return e;
  }

  async showHotPaths(target: Target | { flowId: string }): Promise<void> {
    this.hotTarget = target;
    const s = this.servers.active();
    if (!s) return;
    const r = await s.request<HotPaths | HudFailure>("hud/hotPaths", { ...target, by: this.by }).catch((e) => fail(e));
    this.hot.set(hotPathEntries(r));
  }

  async refresh(): Promise<void> {
    const s = this.servers.active();
    if (!s) return;
    const [flows, issues] = await Promise.all([
      s.request<Flows | HudFailure>("hud/flows", {}).catch((e) => fail(e)),
      s.request<Issues | HudFailure>("hud/issues", {}).catch((e) => fail(e)),
    ]);
    if (!isFailure(flows)) s.dataAt = Math.max(s.dataAt ?? 0, flows.window.to);
    this.flows.set(flowEntries(flows));
    this.issues.set(issueEntries(issues));
    if (this.hotTarget) await this.showHotPaths(this.hotTarget);
  }
}

function fail(e: unknown): HudFailure {
  return { error: { reason: "error", message: `hud-lsp did not answer: ${String(e)}` } };
}
