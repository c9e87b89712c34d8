// The call-graph webview's page: no inline script or style; the CSP allows the nonce'd script and the
// extension's own style sheet only.

export interface PanelPage {
  cspSource: string; // webview.cspSource
  nonce: string;
  scriptUri: string;
  styleUri: string;
}

export function makeNonce(random: (n: number) => Uint8Array): string {
  return Buffer.from(random(18)).toString("base64").replace(/[^A-Za-z0-9]/g, "x");
}

function attr(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}

export function panelHtml(p: PanelPage): string {
  const csp = [
    "default-src 'none'",
    `style-src ${p.cspSource}`,
    `img-src ${p.cspSource} data:`,
    `font-src ${p.cspSource}`,
    `script-src 'nonce-${p.nonce}'`,
  ].join("; ");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${attr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${attr(p.styleUri)}">
<title>hud call graph</title>
</head>
<body>
<header id="bar">
  <span id="title">Production call graph</span>
  <span id="window"></span>
  <span class="spacer"></span>
  <span class="legend"><span class="swatch call"></span>calls <span class="swatch exception"></span>exceptions</span>
  <span class="toggle" role="group" aria-label="edge width">width by
    <button id="by-calls" type="button" aria-pressed="true">calls</button><button id="by-time" type="button" aria-pressed="false">time</button>
  </span>
</header>
<main id="stage"><p id="note">Place the cursor in a function and run “Hud: Show Call Graph”.</p></main>
<script nonce="${attr(p.nonce)}" src="${attr(p.scriptUri)}"></script>
</body>
</html>
`;
}
