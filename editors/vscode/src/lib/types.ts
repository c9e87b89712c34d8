// Shapes of hud-lsp's panel requests (hud/callGraph, hud/errorFlows, hud/hotPaths, hud/flows, hud/issues,
// hud/functionDetail) as the editor receives them.

export interface Range {
  start: { line: number; character: number };
  end: { line: number; character: number };
}
export interface Location {
  uri: string;
  range: Range;
}
/**
 * A function. `modulePath` is null when production never declared it (its `name` is then the function
 * id); code that is not instrumented is `functionId` "" named `<uninstrumented caller>`.
 */
export interface HudNode {
  functionId: string;
  name: string;
  modulePath: string | null;
  location?: Location;
}
export interface HudWindow {
  from: number;
  to: number;
}
/** A backend failure or a position outside any function: answered as a result, not a JSON-RPC error. */
export interface HudFailure {
  error: { reason: string; message: string };
}

export interface CallGraphNode extends HudNode {
  calls: number;
  errors: number;
  totalMs: number;
  selfMs: number;
}
export interface CallGraphEdge {
  from: string;
  to: string;
  kind: "call" | "exception";
  calls: number;
  totalMs: number;
  exceptionType?: string;
}
export interface CallGraph {
  window: HudWindow;
  root: string;
  truncated: boolean;
  nodes: CallGraphNode[];
  edges: CallGraphEdge[];
}
export interface ErrorFlow {
  exceptionType: string;
  count: number;
  origin: HudNode;
  through: HudNode[];
  caughtIn: HudNode | null;
  escaped: boolean;
}
export interface ErrorFlows {
  window: HudWindow;
  function: HudNode;
  flows: ErrorFlow[];
}
export interface PathNode extends HudNode {
  calls: number;
  totalMs: number;
  share: number;
  errors: number;
  exception: boolean;
  children: PathNode[];
}
export interface HotPaths {
  window: HudWindow;
  by: "time" | "calls";
  /** The tree was cut (hud-lsp's node cap or the call graph's limits). */
  truncated?: boolean;
  root: PathNode;
}
export interface Flow {
  flowId: string;
  kind: "endpoint" | "consumer";
  name: string;
  calls: number;
  callsPerMinute: number;
  errorRate: number;
  p95Ms: number;
  topFunction: HudNode | null;
}
export interface Flows {
  window: HudWindow;
  flows: Flow[];
}
export interface AffectedFlow {
  flowId: string;
  name: string;
  /** "GET /orders/<id> +4.13 ms per request (+206%)" */
  text: string;
  msPerRequest: number;
  effectPct: number;
  baselineMs: number;
  currentMs: number;
  baselineErrorRate: number;
  currentErrorRate: number;
  requests: number;
}
export interface Issue {
  issueId: string;
  kind: "regression" | "errors" | "new_exception";
  subject: { name: string; functionId?: string; flowId?: string };
  message: string;
  effectPct: number;
  confidence: number;
  baselineVersion: string | null;
  currentVersion: string | null;
  rootCauses: (HudNode & { share: number; evidence: string | null })[];
  /** Members of hud-lsp builds that know stored issues (absent from older ones). */
  status?: "open" | "acknowledged" | "muted" | "resolved" | null;
  headline?: string | null;
  pText?: string | null;
  codeChanged?: boolean | null;
  qValue?: number;
  driftPct?: number;
  hostShiftPct?: number;
  vscodeLink?: string | null;
  effectPctCapped?: boolean;
  selfIncludesUninstrumented?: boolean;
  firstSeen?: string | null;
  lastSeen?: string | null;
  timesReopened?: number;
  affectedFlows?: AffectedFlow[];
  callPath?: HudNode[];
}
export interface Issues {
  window: HudWindow;
  issues: Issue[];
}

export function isFailure(x: unknown): x is HudFailure {
  return !!x && typeof x === "object" && "error" in x && !!(x as HudFailure).error;
}
