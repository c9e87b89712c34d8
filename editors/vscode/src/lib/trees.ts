// hud/hotPaths, hud/flows and hud/issues -> the sidebar's tree entries.
import type { Flows, HotPaths, HudFailure, HudNode, Issue, Issues, Location, PathNode } from "./types";
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
  /** Issues: the issue this entry is (deep links reveal it). */
  issueId?: string;
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

/** "status open · first seen 2024-08-19 10:00 · code changed in this version · p < 1e-16" and the flows. */
function issueTooltip(it: Issue): string {
  const lines = [`${it.kind}: ${it.headline ?? it.message}`];
  const facts: string[] = [];
  if (it.status) facts.push(`status ${it.status}`);
  if (it.firstSeen) facts.push(`first seen ${it.firstSeen.slice(0, 16).replace("T", " ")}`);
  if ((it.timesReopened ?? 0) > 0) facts.push(`reopened ${it.timesReopened}×`);
  if (facts.length) lines.push(facts.join(" · "));
  if (it.codeChanged === true) lines.push("code changed in this version");
  if (it.selfIncludesUninstrumented) lines.push("its self time includes calls that are not instrumented");
  for (const f of it.affectedFlows ?? []) lines.push(f.text);
  if (it.callPath?.length) lines.push(`call path: ${it.callPath.map((n) => n.name).join(" → ")}`);
  const stats = [`confidence ${confidencePct(it.confidence)}`];
  if (it.pText) stats.unshift(`p ${it.pText.startsWith("<") ? "" : "= "}${it.pText}`);
  if ((it.driftPct ?? 0) > 0) stats.push(`drift allowance ${Math.round(it.driftPct ?? 0)}%`);
  const shift = Math.round(it.hostShiftPct ?? 0);
  if (shift !== 0) stats.push(`host shift ${shift > 0 ? "+" : ""}${shift}% taken off`);
  lines.push(stats.join(" · "));
  if (it.baselineVersion) lines.push(`${it.baselineVersion} → ${it.currentVersion ?? "?"}`);
  return lines.join("\n");
}

export function issueEntries(is: Issues | HudFailure): TreeEntry[] {
  if (isFailure(is)) return failureEntry(is, "issue:error");
  return is.issues.map((it) => ({
    id: `issue:${it.issueId}`,
    label: it.headline ?? it.subject.name,
    description: it.headline
      ? [it.status ?? "open", it.codeChanged === true ? "code changed" : ""].filter(Boolean).join(" · ")
      : it.message,
    tooltip: issueTooltip(it),
    icon: it.kind === "regression" ? "graph-line" : "error",
    alert: it.kind !== "regression" && it.status !== "muted",
    functionId: it.subject.functionId,
    flowId: it.subject.flowId,
    issueId: it.issueId,
    children: [
      ...(it.affectedFlows ?? []).map((f, i) => ({
        id: `issue:${it.issueId}/flow${i}`,
        label: f.name,
        description: f.text.startsWith(f.name) ? f.text.slice(f.name.length).trim() : f.text,
        tooltip: f.text,
        icon: "globe",
        alert: false,
        flowId: f.flowId,
        children: [],
      })),
      ...it.rootCauses.map((rc, i) => ({
        id: `issue:${it.issueId}/${i}`,
        label: rc.name,
        description: `root cause · ${pct(rc.share)} of the change`,
        tooltip: rc.evidence || named(rc),
        icon: "target",
        alert: false,
        ...nodeFields(rc),
        children: [],
      })),
    ],
  }));
}
