// The call-graph panel's page (src/lib/html.ts + media/) in Debian's headless chromium, fed the layout of
// hud-lsp answers recorded from real hud-lsp + hud-server (scripts/record.mjs) as the extension posts it; acquireVsCodeApi is a stub that records messages.
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const { chromium } = require("playwright-core");
const { panelHtml } = require("../out/lib/html.js");
const { layoutCallGraph } = require("../out/lib/graph.js");

const root = path.join(__dirname, "..");
const fx = (n) => JSON.parse(fs.readFileSync(path.join(root, "test/fixtures", `${n}.json`), "utf8"));
const ORIGIN = "https://webview.test";
const artifacts = process.env.HUD_VSCODE_ARTIFACTS || path.join(root, "out");
const CHROMIUM = process.env.HUD_CHROMIUM || "/usr/bin/chromium";

let browser;
test.before(async () => {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"], timeout: 20000 });
});
test.after(async () => {
  await browser?.close();
});

async function openPanel() {
  const page = await browser.newPage({ viewport: { width: 1200, height: 520 } });
  const html = panelHtml({ cspSource: ORIGIN, nonce: "n0nce1234", scriptUri: `${ORIGIN}/media/callgraph.js`, styleUri: `${ORIGIN}/media/callgraph.css` });
  await page.route(`${ORIGIN}/**`, (route) => {
    const p = new URL(route.request().url()).pathname;
    if (p === "/index.html") return route.fulfill({ contentType: "text/html", body: html });
    const file = path.join(root, p);
    if (!p.startsWith("/media/") || !fs.existsSync(file)) return route.fulfill({ status: 404, body: "" });
    return route.fulfill({ contentType: p.endsWith(".js") ? "text/javascript" : "text/css", body: fs.readFileSync(file) });
  });
  const problems = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(String(e)));
  await page.addInitScript(() => {
    window.__posted = [];
    let state;
    window.acquireVsCodeApi = () => ({
      postMessage: (m) => window.__posted.push(m),
      getState: () => state,
      setState: (s) => (state = s),
    });
    document.addEventListener("securitypolicyviolation", (e) => window.__posted.push({ type: "csp", directive: e.violatedDirective }));
  });
  await page.goto(`${ORIGIN}/index.html`);
  await page.waitForFunction(() => window.__posted.some((m) => m.type === "ready"));
  return { page, problems };
}

const post = (page, msg) => page.evaluate((m) => window.postMessage(m, "*"), msg);
const posted = (page) => page.evaluate(() => window.__posted);

test("the graph draws: nodes, red exception edges, widths; a click posts the jump; no CSP violation", async () => {
  const { page, problems } = await openPanel();
  const model = layoutCallGraph(fx("callGraph"), fx("errorFlows"));
  await post(page, { type: "graph", model, weight: "calls" });
  await page.waitForSelector("g.node");

  const names = await page.$$eval("g.node text.name", (ts) => ts.map((t) => t.textContent));
  assert.deepEqual(names.sort(), model.nodes.map((n) => n.name).sort());
  assert.equal(names.length, 7);
  assert.ok(names.includes("checkout") && names.includes("view_cart") && names.includes("load_rules"));
  assert.equal(await page.$$eval("g.node.root", (g) => g.length), 1);

  const strokes = await page.$$eval("path.edge", (ps) =>
    ps.map((p) => ({ kind: p.classList.contains("exception") ? "exception" : "call", stroke: getComputedStyle(p).stroke, width: p.getAttribute("stroke-width"), from: p.dataset.from, to: p.dataset.to })),
  );
  const rgb = (s) => s.match(/\d+/g).slice(0, 3).map(Number);
  const exc = strokes.filter((s) => s.kind === "exception");
  assert.equal(exc.length, 5);
  for (const s of exc) {
    const [r, g, b] = rgb(s.stroke);
    assert.ok(r > 180 && g < 120 && b < 120, `exception edge not red: ${s.stroke}`);
  }
  for (const s of strokes.filter((x) => x.kind === "call")) {
    const [r, , b] = rgb(s.stroke);
    assert.ok(b > r, `call edge should not be red: ${s.stroke}`);
  }
  const id = (n) => model.nodes.find((x) => x.name === n).id;
  const edge = (f, t) => strokes.find((s) => s.kind === "call" && s.from === id(f) && s.to === id(t));
  const me = (f, t) => model.edges.find((e) => e.kind === "call" && e.from === id(f) && e.to === id(t));
  assert.equal(Number(edge("checkout", "apply_discounts").width), me("checkout", "apply_discounts").widthCalls);

  await page.click("#by-time");
  const wTime = await page.$eval(`path.edge.call[data-from="${id("checkout")}"][data-to="${id("compute_tax")}"]`, (p) => p.getAttribute("stroke-width"));
  assert.equal(Number(wTime), me("checkout", "compute_tax").widthTime);
  assert.notEqual(me("checkout", "compute_tax").widthTime, me("checkout", "compute_tax").widthCalls);

  // checkout -> view_cart carries KeyError and TaxError: their labels do not overlap
  const boxes = await page.$$eval("text.edge-label", (ts) => ts.map((t) => { const b = t.getBBox(); return { text: t.textContent, x: b.x, y: b.y, w: b.width, h: b.height }; }));
  assert.equal(boxes.length, 5);
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) {
      const [p, q] = [boxes[i], boxes[j]];
      const overlap = p.x < q.x + q.w && q.x < p.x + p.w && p.y < q.y + q.h && q.y < p.y + p.h;
      assert.ok(!overlap, `labels overlap: ${p.text} / ${q.text}`);
    }

  fs.mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, "callgraph.png"), fullPage: true });

  await page.click(`g.node[data-id="${id("view_cart")}"]`);
  const msgs = await posted(page);
  assert.deepEqual(msgs.find((m) => m.type === "weight"), { type: "weight", weight: "time" });
  const open = msgs.find((m) => m.type === "open");
  assert.equal(open.functionId, id("view_cart"));
  assert.ok(open.location.uri.endsWith("/app/shop/views.py"), open.location.uri);
  assert.equal(open.location.range.start.line, 3);
  // a caller production never declared: no module path, no location; the click still posts its id
  const rebuild = model.nodes.find((n) => n.modulePath === "");
  await page.click(`g.node[data-id="${rebuild.id}"]`);
  const open2 = (await posted(page)).filter((m) => m.type === "open").pop();
  assert.deepEqual([open2.functionId, open2.modulePath, open2.location], [rebuild.id, "", null]);
  assert.deepEqual(msgs.filter((m) => m.type === "csp"), []);
  assert.deepEqual(problems, []);
  await page.close();
});

test("a failure answer shows its message instead of a graph", async () => {
  const { page } = await openPanel();
  await post(page, { type: "graph", model: layoutCallGraph(fx("unauthorized")), weight: "calls" });
  await page.waitForSelector("#note.error");
  assert.match(await page.$eval("#note", (p) => p.textContent), /authentication failed/);
  assert.equal(await page.$$eval("g.node", (g) => g.length), 0);
  await page.close();
});

test("an inline script is refused by the page's CSP (the policy is in force)", async () => {
  const { page } = await openPanel();
  await page.evaluate(() => {
    const s = document.createElement("script");
    s.textContent = "window.__inline = true";
    document.body.appendChild(s);
  });
  await page.waitForFunction(() => window.__posted.some((m) => m.type === "csp"));
  assert.equal(await page.evaluate(() => window.__inline), undefined);
  await page.close();
});
