// hud/hotPaths, hud/flows and hud/issues -> the sidebar's tree entries.
import type { Flows, HotPaths, HudFailure, HudNode, Issues, Location, PathNode } from "./types";
import { isFailure } from "./types";
import { fmtMs } from "./graph";

export interface TreeEntry {
  id: string;
  label: string;
  description: string;
  tooltip: string;
  /** A codicon name. */
  icon: string;
  /** Red: an exception edge leads here, or an error issue. */
  alert: boolean;
  functionId?: string;
  flowId?: string;
  modulePath?: string;
  location?: Location;
  children: TreeEntry[];
}

function failureEntry(f: HudFailure, id: string): TreeEntry[] {
  return [{ id, label: f.error.message || f.error.reason, description: f.error.reason, tooltip: f.error.message, icon: "warning", alert: false, children: [] }];
}

function nodeFields(n: HudNode) {
  return { functionId: n.functionId || undefined, modulePath: n.modulePath ?? undefined, location: n.location };
}

/** `name (module)`, or the name alone when production never declared the function. */
function named(n: HudNode): string {
  return n.modulePath ? `${n.name} (${n.modulePath})` : n.name;
}

export function pct(x: number): string {
  const p = x * 100;
  if (p <= 0) return "0%";
  if (p < 0.1) return "<0.1%";
  return p < 9.95 ? `${p.toFixed(1)}%` : `${Math.round(p)}%`;
}

/** 0.999 -> "99.9%" (pct would round it to 100%, a certainty the server does not claim). */
function confidencePct(c: number): string {
  return `${(Math.floor(c * 1000 + 1e-6) / 10).toFixed(1).replace(/\.0$/, "")}%`;
}

function pathEntry(n: PathNode, by: string, id: string, note = ""): TreeEntry {
  const figures = `${pct(n.share)} · ${fmtMs(n.totalMs)} · ${Math.round(n.calls)} calls${n.errors > 0 ? ` · ${n.errors} err` : ""}`;
  return {
    id,
    label: n.name,
    description: figures + note,
    tooltip: `${named(n)}\n${figures}${n.exception ? "\nan exception edge leads here" : ""}${note ? "\nthe tree is cut: not every path is listed" : ""}`,
    icon: n.exception ? "error" : "symbol-function",
    alert: n.exception,
    ...nodeFields(n),
    children: (n.children ?? []).map((c, i) => pathEntry(c, by, `${id}/${i}`)),
  };
}

export function hotPathEntries(hp: HotPaths | HudFailure): TreeEntry[] {
  if (isFailure(hp)) return failureEntry(hp, "hot:error");
  return [pathEntry(hp.root, hp.by, "hot:0", hp.truncated ? " · truncated" : "")];
}

export function flowEntries(f: Flows | HudFailure): TreeEntry[] {
  if (isFailure(f)) return failureEntry(f, "flow:error");
  return f.flows.map((fl) => {
    const figures = `${fl.callsPerMinute.toFixed(fl.callsPerMinute < 10 ? 1 : 0)}/min · p95 ${fmtMs(fl.p95Ms)} · ${pct(fl.errorRate)} err`;
    return {
      id: `flow:${fl.flowId}`,
      label: fl.name,
      description: figures,
      tooltip: `${fl.kind} ${fl.name}\n${figures}${fl.topFunction ? `\nheaviest function: ${fl.topFunction.name}` : ""}`,
      icon: fl.kind === "consumer" ? "inbox" : "globe",
      alert: fl.errorRate > 0.05,
      flowId: fl.flowId,
      ...(fl.topFunction ? nodeFields(fl.topFunction) : {}),
      children: [],
    };
  });
}

export function issueEntries(is: Issues | HudFailure): TreeEntry[] {
  if (isFailure(is)) return failureEntry(is, "issue:error");
  return is.issues.map((it) => ({
    id: `issue:${it.issueId}`,
    label: it.subject.name,
    description: it.message,
    tooltip: `${it.kind}: ${it.message}\nconfidence ${confidencePct(it.confidence)}${it.baselineVersion ? `\n${it.baselineVersion} → ${it.currentVersion ?? "?"}` : ""}`,
    icon: it.kind === "errors" ? "error" : "graph-line",
    alert: it.kind === "errors",
    functionId: it.subject.functionId,
    flowId: it.subject.flowId,
    children: it.rootCauses.map((rc, i) => ({
      id: `issue:${it.issueId}/${i}`,
      label: rc.name,
      description: `root cause · ${pct(rc.share)} of the change`,
      tooltip: rc.evidence || named(rc),
      icon: "target",
      alert: false,
      ...nodeFields(rc),
      children: [],
    })),
  }));
}
