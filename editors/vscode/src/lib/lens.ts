// hud-lsp's lens titles ("⚡ 1.2k/min · p95 38 ms ▲12% · 0.4% err · ≠ prod (1.1.0)", docs/lsp.md) read back
// into figures, so the editor can lay them out, hide quiet functions and flag those over a threshold.
import type { HudSettings, LensLayout } from "./settings";

export interface LensFigures {
  rate: string; // "1.2k"
  perMinute: number;
  p95?: string; // "38 ms"
  p95Ms?: number;
  trend?: string; // "▲12%"
  err: string; // "0.4%"
  errPct: number;
  prod?: string; // "≠ prod (1.1.0)"
}

const SUFFIX: Record<string, number> = { "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
const UNIT_MS: Record<string, number> = { ns: 1e-6, "µs": 1e-3, ms: 1, s: 1000 };

export function parseLensTitle(title: string): LensFigures | null {
  const m =
    /^⚡ ([0-9.e+-]+)([kMGT]?)\/min(?: · p95 ([0-9.]+) (ns|µs|ms|s)(?: ([▲▼][0-9]+%))?)? · (<?[0-9.]+)% err(?: · (≠ prod.*))?$/u.exec(
      title,
    );
  if (!m) return null;
  const f: LensFigures = {
    rate: m[1] + m[2],
    perMinute: Number(m[1]) * SUFFIX[m[2]],
    err: `${m[6]}%`,
    errPct: Number(m[6].replace("<", "")),
  };
  if (m[3]) {
    f.p95 = `${m[3]} ${m[4]}`;
    f.p95Ms = Number(m[3]) * UNIT_MS[m[4]];
  }
  if (m[5]) f.trend = m[5];
  if (m[7]) f.prod = m[7];
  return f;
}

/** Which thresholds the figures pass (empty: none set or none passed). */
export function overThresholds(f: LensFigures, t: HudSettings["thresholds"]): string[] {
  const out: string[] = [];
  if (t.p95Ms > 0 && f.p95Ms !== undefined && f.p95Ms >= t.p95Ms) out.push(`p95 ≥ ${t.p95Ms} ms`);
  if (t.errorRatePercent > 0 && f.errPct >= t.errorRatePercent) out.push(`errors ≥ ${t.errorRatePercent}%`);
  return out;
}

/**
 * The titles to show for one of hud-lsp's lenses: none when lenses are off or the function runs less often
 * than thresholds.minCallsPerMinute; one (full, compact) or one per figure (split); "⚠ " first when over a
 * threshold. A title that does not parse is shown as it came.
 */
export function layoutLens(title: string, s: Pick<HudSettings, "lens" | "thresholds">): string[] {
  if (!s.lens.enabled) return [];
  const f = parseLensTitle(title);
  if (!f) return [title];
  if (s.thresholds.minCallsPerMinute > 0 && f.perMinute < s.thresholds.minCallsPerMinute) return [];
  const warn = overThresholds(f, s.thresholds).length > 0 ? "⚠ " : "";
  const layout: LensLayout = s.lens.layout;
  if (layout === "split") {
    const parts = [`⚡ ${f.rate}/min`];
    if (f.p95) parts.push(`p95 ${f.p95}${f.trend ? ` ${f.trend}` : ""}`);
    parts.push(`${f.err} err`);
    if (f.prod) parts.push(f.prod);
    parts[0] = warn + parts[0];
    return parts;
  }
  if (layout === "compact") {
    const bits = [f.p95 ? `p95 ${f.p95}${f.trend ? ` ${f.trend}` : ""}` : `${f.rate}/min`];
    if (f.errPct > 0 || f.err.startsWith("<")) bits.push(`${f.err} err`);
    if (f.prod) bits.push("≠ prod");
    return [warn + bits.join(" · ")];
  }
  return [warn + title];
}
