// The call-graph panel: draws the layout model the extension posts (src/lib/graph.ts) as SVG.
// Messages in: {type:"graph", model, weight}, {type:"loading", name}, {type:"error", message}.
// Messages out: {type:"ready"}, {type:"open", functionId, name, modulePath, location}, {type:"focus", functionId},
// {type:"weight", weight}.
(function () {
  "use strict";
  const vscode = acquireVsCodeApi();
  const SVG = "http://www.w3.org/2000/svg";
  const W = 180, H = 44, PAD = 28, TOP = 22;
  const stage = document.getElementById("stage");
  const byCalls = document.getElementById("by-calls");
  const byTime = document.getElementById("by-time");
  const windowEl = document.getElementById("window");
  let state = vscode.getState() || { model: null, weight: "calls" };

  function el(name, attrs, parent) {
    const e = document.createElementNS(SVG, name);
    for (const k in attrs) e.setAttribute(k, String(attrs[k]));
    if (parent) parent.appendChild(e);
    return e;
  }

  function note(text, isError) {
    stage.textContent = "";
    const p = document.createElement("p");
    p.id = "note";
    if (isError) p.className = "error";
    p.textContent = text;
    stage.appendChild(p);
  }

  function fit(text, max) {
    return text.length > max ? text.slice(0, max - 1) + "…" : text;
  }

  function count(n) {
    if (n >= 1e6) return (n / 1e6).toFixed(1) + "M";
    if (n >= 1e3) return (n / 1e3).toFixed(1) + "k";
    return String(Math.round(n));
  }

  function edgePath(a, b, offset) {
    const ay = a.y + H / 2 + offset, by = b.y + H / 2 + offset;
    if (a.id === b.id) {
      const x = a.x + W, y = a.y + H / 2;
      return `M ${x} ${y - 8} C ${x + 40} ${y - 30}, ${x + 40} ${y + 30}, ${x} ${y + 8}`;
    }
    if (a.column === b.column) {
      const x = a.x + W;
      return `M ${x} ${ay} C ${x + 50} ${ay}, ${x + 50} ${by}, ${x} ${by}`;
    }
    const forward = a.column < b.column;
    const sx = forward ? a.x + W : a.x, ex = forward ? b.x : b.x + W;
    const dx = (ex - sx) / 2;
    return `M ${sx} ${ay} C ${sx + dx} ${ay}, ${ex - dx} ${by}, ${ex} ${by}`;
  }

  function open(n) {
    vscode.postMessage({ type: "open", functionId: n.id, name: n.name, modulePath: n.modulePath, location: n.location || null });
  }

  function render() {
    const m = state.model;
    byCalls.setAttribute("aria-pressed", String(state.weight === "calls"));
    byTime.setAttribute("aria-pressed", String(state.weight === "time"));
    if (!m) return;
    if (m.error) {
      windowEl.textContent = "";
      note(m.error.message || m.error.reason, true);
      return;
    }
    if (m.window) {
      const mins = Math.round((m.window.to - m.window.from) / 60000);
      windowEl.textContent = `${m.rootName} · last ${mins >= 120 ? Math.round(mins / 60) + "h" : mins + "m"}${m.truncated ? " · truncated" : ""}`;
    }
    stage.textContent = "";
    const svg = el("svg", { width: m.width + 2 * PAD + 60, height: m.height + 2 * PAD + TOP, role: "img", "aria-label": `call graph of ${m.rootName}` }, stage);
    const defs = el("defs", {}, svg);
    for (const kind of ["call", "exception"]) {
      const mk = el("marker", { id: `arrow-${kind}`, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 9, markerHeight: 9, orient: "auto", markerUnits: "userSpaceOnUse" }, defs);
      el("path", { d: "M 0 0 L 10 5 L 0 10 z" }, mk);
    }
    const g = el("g", { transform: `translate(${PAD} ${PAD + TOP})` }, svg);
    const byId = new Map(m.nodes.map((n) => [n.id, n]));
    const cols = new Map();
    for (const n of m.nodes) if (!cols.has(n.column)) cols.set(n.column, n);
    for (const [col, n] of cols) {
      const label = n.side === "caller" ? "callers" : n.side === "root" ? "function" : col === 2 ? "callees" : `depth ${col - 1}`;
      el("text", { class: "column-label", x: n.x, y: -10 }, g).textContent = label;
    }
    const edges = el("g", { class: "edges" }, g);
    const labelsAt = new Map(); // exception labels of the same two nodes (one per type) go one below the other
    for (const e of m.edges) {
      const a = byId.get(e.from), b = byId.get(e.to);
      if (!a || !b) continue;
      const exc = e.kind === "exception";
      const width = state.weight === "time" ? e.widthTime : e.widthCalls;
      const p = el("path", {
        class: `edge ${e.kind}`,
        d: edgePath(a, b, exc ? 6 : 0),
        "stroke-width": width,
        "marker-end": `url(#arrow-${e.kind})`,
        "data-from": e.from,
        "data-to": e.to,
      }, edges);
      el("title", {}, p).textContent = `${a.name} → ${b.name}: ${e.label}`;
      if (exc) {
        const fwd = a.column < b.column;
        const sx = fwd ? a.x + W : a.x, ex = a.id === b.id ? a.x + W : fwd ? b.x : b.x + W;
        const pair = `${e.from}>${e.to}`;
        const nth = labelsAt.get(pair) || 0;
        labelsAt.set(pair, nth + 1);
        const t = el("text", { class: "edge-label", x: (sx + ex) / 2, y: (a.y + b.y + H) / 2 + 6 + 14 * (nth + 1), "text-anchor": "middle" }, edges);
        t.textContent = e.label;
      }
    }
    for (const n of m.nodes) {
      const cls = ["node", n.side, n.fromFlow ? "flow" : "", n.errors > 0 ? "errors" : ""].filter(Boolean).join(" ");
      const ng = el("g", { class: cls, transform: `translate(${n.x} ${n.y})`, tabindex: 0, role: "button", "data-id": n.id }, g);
      el("rect", { width: W, height: H, rx: 4 }, ng);
      el("text", { class: "name", x: 8, y: 18 }, ng).textContent = fit(n.name, 24);
      const sub = n.fromFlow && !n.calls ? n.modulePath : `${count(n.calls)} calls${n.errors ? ` · ${count(n.errors)} err` : ""}`;
      el("text", { class: "sub", x: 8, y: 35 }, ng).textContent = fit(sub, 30);
      el("title", {}, ng).textContent = `${n.name}\n${n.modulePath}\nclick: go to definition · double-click: centre the graph here`;
      ng.addEventListener("click", () => open(n));
      ng.addEventListener("dblclick", () => vscode.postMessage({ type: "focus", functionId: n.id }));
      ng.addEventListener("keydown", (ev) => {
        if (ev.key === "Enter" || ev.key === " ") {
          ev.preventDefault();
          open(n);
        }
      });
    }
  }

  function setWeight(w) {
    state.weight = w;
    vscode.setState(state);
    vscode.postMessage({ type: "weight", weight: w });
    render();
  }
  byCalls.addEventListener("click", () => setWeight("calls"));
  byTime.addEventListener("click", () => setWeight("time"));

  window.addEventListener("message", (ev) => {
    const msg = ev.data;
    if (!msg || typeof msg !== "object") return;
    if (msg.type === "graph") {
      state = { model: msg.model, weight: msg.weight === "time" ? "time" : state.weight };
      vscode.setState(state);
      render();
    } else if (msg.type === "loading") {
      note(`Loading the call graph of ${msg.name || "the function"}…`, false);
    } else if (msg.type === "error") {
      note(String(msg.message), true);
    }
  });
  render();
  vscode.postMessage({ type: "ready" });
})();
