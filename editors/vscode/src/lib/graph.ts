// hud/callGraph + hud/errorFlows -> the call-graph panel's layout model: callers in the left column, the
// function in the middle, callees to the right by depth; call edges with a width by calls and by time,
// exception edges (raiser -> its caller) from both answers, merged.
import type { CallGraph, CallGraphEdge, ErrorFlows, HudFailure, HudNode, HudWindow, Location } from "./types";
import { isFailure } from "./types";

export const NODE_W = 180;
export const NODE_H = 44;
export const COL_GAP = 90;
export const ROW_GAP = 18;
export const MAX_WIDTH = 14;
/** Exception edges stay thinner: they are counts of exceptions, not of calls. */
export const MAX_EXC_WIDTH = 6;

export type Side = "caller" | "root" | "callee";

export interface LayoutNode {
  id: string;
  name: string;
  /** "" when production never declared the function. */
  modulePath: string;
  location?: Location;
  side: Side;
  column: number;
  row: number;
  x: number;
  y: number;
  calls: number;
  errors: number;
  totalMs: number;
  selfMs: number;
  /** Known only from an error flow (not in the call graph's nodes). */
  fromFlow: boolean;
}

export interface LayoutEdge {
  from: string;
  to: string;
  kind: "call" | "exception";
  calls: number;
  totalMs: number;
  exceptionType?: string;
  widthCalls: number;
  widthTime: number;
  label: string;
}

export interface LayoutModel {
  root: string;
  rootName: string;
  window?: HudWindow;
  truncated: boolean;
  width: number;
  height: number;
  nodes: LayoutNode[];
  edges: LayoutEdge[];
  error?: { reason: string; message: string };
}

/** Width 1..MAX_WIDTH, by the square root of the share of the largest value (areas read as amounts). */
export function edgeWidth(value: number, max: number, top = MAX_WIDTH): number {
  if (!(max > 0) || !(value > 0)) return 1;
  return Math.round((1 + (top - 1) * Math.sqrt(Math.min(1, value / max))) * 10) / 10;
}

function emptyModel(error: { reason: string; message: string }): LayoutModel {
  return { root: "", rootName: "", truncated: false, width: 0, height: 0, nodes: [], edges: [], error };
}

function fmtCount(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(n >= 1e4 ? 0 : 1)}k`;
  return String(Math.round(n));
}

export function fmtMs(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(ms >= 10000 ? 0 : 1)} s`;
  if (ms >= 10) return `${Math.round(ms)} ms`;
  if (ms >= 1) return `${ms.toFixed(1)} ms`;
  return `${Math.round(ms * 1000)} µs`;
}

/** The exception edges an error flow implies: origin -> first of through -> ... -> caughtIn. */
function flowEdges(flows: ErrorFlows): { from: HudNode; to: HudNode; type: string; count: number }[] {
  const out: { from: HudNode; to: HudNode; type: string; count: number }[] = [];
  for (const f of flows.flows ?? []) {
    const chain = [f.origin, ...(f.through ?? [])];
    if (f.caughtIn) chain.push(f.caughtIn);
    for (let i = 0; i + 1 < chain.length; i++)
      out.push({ from: chain[i], to: chain[i + 1], type: f.exceptionType, count: f.count });
  }
  return out;
}

/** A function production never declared is named by its id: shown short, as such. */
function displayName(n: HudNode): string {
  if (!n.functionId) return n.name || "<uninstrumented caller>";
  if (!n.name || (n.name === n.functionId && !n.modulePath)) return `undeclared ${n.functionId.slice(0, 8)}`;
  return n.name;
}

export function layoutCallGraph(graph: CallGraph | HudFailure, flows?: ErrorFlows | HudFailure | null): LayoutModel {
  if (isFailure(graph)) return emptyModel(graph.error);
  const byId = new Map<string, LayoutNode>();
  const add = (n: HudNode & Partial<Omit<LayoutNode, "modulePath">>, fromFlow: boolean) => {
    if (byId.has(n.functionId)) return byId.get(n.functionId)!;
    const ln: LayoutNode = {
      id: n.functionId,
      name: displayName(n),
      modulePath: n.modulePath ?? "",
      location: n.location,
      side: "callee",
      column: 0,
      row: 0,
      x: 0,
      y: 0,
      calls: n.calls ?? 0,
      errors: n.errors ?? 0,
      totalMs: n.totalMs ?? 0,
      selfMs: n.selfMs ?? 0,
      fromFlow,
    };
    byId.set(ln.id, ln);
    return ln;
  };
  for (const n of graph.nodes) add(n, false);
  if (!byId.has(graph.root)) add({ functionId: graph.root, name: "", modulePath: "" }, false);

  // Edges: the graph's, then the error flows' exception edges not already there (same ends and type).
  const edges: CallGraphEdge[] = graph.edges.filter((e) => e.from !== e.to || e.kind === "call").map((e) => ({ ...e }));
  const flowCount = new Map<string, number>();
  if (flows && !isFailure(flows)) {
    for (const fe of flowEdges(flows)) {
      add(fe.from, true);
      add(fe.to, true);
      const k = `${fe.from.functionId}>${fe.to.functionId}>${fe.type}`;
      flowCount.set(k, (flowCount.get(k) ?? 0) + fe.count);
    }
    for (const [k, count] of flowCount) {
      const [from, to, type] = k.split(">");
      const have = edges.find((e) => e.kind === "exception" && e.from === from && e.to === to && e.exceptionType === type);
      if (have) have.calls = Math.max(have.calls, count);
      else edges.push({ from, to, kind: "exception", calls: count, totalMs: 0, exceptionType: type });
    }
  }

  // Columns: callers (call edges into the root) at 0, the root at 1, callees at 1 + depth (BFS on calls).
  const root = byId.get(graph.root)!;
  root.side = "root";
  root.column = 1;
  const placed = new Set([root.id]);
  for (const e of edges)
    if (e.kind === "call" && e.to === root.id && !placed.has(e.from)) {
      const n = byId.get(e.from);
      if (!n) continue;
      n.side = "caller";
      n.column = 0;
      placed.add(n.id);
    }
  let frontier = [root.id];
  for (let depth = 1; frontier.length > 0; depth++) {
    const next: string[] = [];
    for (const id of frontier)
      for (const e of edges)
        if (e.kind === "call" && e.from === id && !placed.has(e.to) && byId.has(e.to)) {
          const n = byId.get(e.to)!;
          n.side = "callee";
          n.column = 1 + depth;
          placed.add(n.id);
          next.push(n.id);
        }
    frontier = next;
  }
  // Functions reached only by exception edges: a raiser sits right of its caller, a catcher left of the raiser.
  for (let changed = true; changed; ) {
    changed = false;
    for (const e of edges) {
      if (e.kind !== "exception") continue;
      const a = byId.get(e.from), b = byId.get(e.to);
      if (!a || !b) continue;
      if (!placed.has(a.id) && placed.has(b.id)) {
        a.column = b.column + 1;
        a.side = "callee";
        placed.add(a.id);
        changed = true;
      } else if (placed.has(a.id) && !placed.has(b.id)) {
        b.column = Math.max(0, a.column - 1);
        b.side = b.column === 0 ? "caller" : "callee";
        placed.add(b.id);
        changed = true;
      }
    }
  }
  const nodes = [...byId.values()].filter((n) => placed.has(n.id));
  const keep = new Set(nodes.map((n) => n.id));

  // Rows: heaviest first within a column; columns centred on the tallest.
  const columns = new Map<number, LayoutNode[]>();
  for (const n of nodes) columns.set(n.column, [...(columns.get(n.column) ?? []), n]);
  const tallest = Math.max(...[...columns.values()].map((c) => c.length));
  for (const [col, list] of columns) {
    list.sort((a, b) => b.calls - a.calls || b.totalMs - a.totalMs || a.name.localeCompare(b.name));
    const offset = ((tallest - list.length) * (NODE_H + ROW_GAP)) / 2;
    list.forEach((n, i) => {
      n.row = i;
      n.x = col * (NODE_W + COL_GAP);
      n.y = offset + i * (NODE_H + ROW_GAP);
    });
  }
  const maxCol = Math.max(...nodes.map((n) => n.column));

  const kept = edges.filter((e) => keep.has(e.from) && keep.has(e.to));
  const maxCalls = Math.max(0, ...kept.filter((e) => e.kind === "call").map((e) => e.calls));
  const maxTime = Math.max(0, ...kept.filter((e) => e.kind === "call").map((e) => e.totalMs));
  const maxExc = Math.max(0, ...kept.filter((e) => e.kind === "exception").map((e) => e.calls));
  const layoutEdges: LayoutEdge[] = kept.map((e) => {
    const exc = e.kind === "exception";
    const wc = exc ? edgeWidth(e.calls, maxExc, MAX_EXC_WIDTH) : edgeWidth(e.calls, maxCalls);
    return {
      from: e.from,
      to: e.to,
      kind: e.kind,
      calls: e.calls,
      totalMs: e.totalMs,
      exceptionType: e.exceptionType,
      widthCalls: wc,
      widthTime: exc ? wc : edgeWidth(e.totalMs, maxTime),
      label: exc ? `${e.exceptionType ?? "exception"} ×${fmtCount(e.calls)}` : `${fmtCount(e.calls)} calls · ${fmtMs(e.totalMs)}`,
    };
  });
  return {
    root: root.id,
    rootName: root.name,
    window: graph.window,
    truncated: !!graph.truncated,
    width: (maxCol + 1) * NODE_W + maxCol * COL_GAP,
    height: tallest * (NODE_H + ROW_GAP) - ROW_GAP,
    nodes,
    edges: layoutEdges,
  };
}
