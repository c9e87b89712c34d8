// hud/status (and hud.explain for the active file) -> the status bar item's text and tooltip.

export interface HudStatus {
  state: string; // connecting | ok | unreachable | unauthorized | error | unconfigured
  message: string;
  url: string;
  service: string;
  modules: number;
}

export interface StatusView {
  text: string;
  tooltip: string;
  /** "error" and "warning" colour the item; "" leaves it plain. */
  severity: "" | "warning" | "error";
}

/** "5s", "3m", "2h", "4d" since `since` (ms), or "" when unknown. */
export function age(now: number, since: number | undefined): string {
  if (!since || now < since) return "";
  const s = Math.floor((now - since) / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/**
 * `dataAt`: when figures last arrived (an `ok` status or a panel answer's window end);
 * `explain`: hud.explain's answer for the active file, if any.
 */
export function statusView(
  st: HudStatus | undefined,
  explain: { reason: string; message: string } | undefined,
  now: number,
  dataAt: number | undefined,
): StatusView {
  if (!st) return { text: "$(sync~spin) hud", tooltip: "hud: starting hud-lsp", severity: "" };
  const svc = st.service || "no service";
  const lines = [`hud — ${svc} at ${st.url || "(no URL)"}`];
  let text: string;
  let severity: StatusView["severity"] = "";
  switch (st.state) {
    case "ok": {
      const a = age(now, dataAt);
      text = `$(pulse) hud ${svc}${a ? ` · ${a}` : ""}`;
      lines.push(`connected; ${st.modules} file${st.modules === 1 ? "" : "s"} mapped to production modules`);
      if (a) lines.push(`data from ${a} ago`);
      break;
    }
    case "connecting":
      text = `$(sync~spin) hud ${svc}`;
      lines.push("connecting");
      break;
    case "unauthorized":
      text = "$(key) hud: 401";
      severity = "error";
      lines.push("the API key was rejected (401/403): run “Hud: Set API Key”");
      break;
    case "unreachable":
      text = "$(debug-disconnect) hud: unreachable";
      severity = "warning";
      lines.push("hud-server is unreachable (connection refused, DNS, timeout)");
      break;
    case "unconfigured":
      text = "$(gear) hud: no service";
      severity = "warning";
      lines.push("no service configured: set hud.service");
      break;
    default:
      text = `$(warning) hud: ${st.state}`;
      severity = "error";
  }
  if (st.message) lines.push(st.message);
  if (explain) {
    lines.push("", `this file: ${explain.message}`);
    if (st.state === "ok" && explain.reason !== "ok") text += " $(info)";
  }
  return { text, tooltip: lines.join("\n"), severity };
}
