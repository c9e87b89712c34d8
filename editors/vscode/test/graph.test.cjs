// hud/callGraph + hud/errorFlows (answers recorded from real hud-lsp by scripts/record.mjs, test/fixtures)
// -> the panel's layout model.
const test = require("node:test");
const assert = require("node:assert/strict");
const G = require("../out/lib/graph.js");
const fx = (n) => JSON.parse(JSON.stringify(require(`./fixtures/${n}.json`)));

const byName = (m) => Object.fromEntries(m.nodes.map((n) => [n.name, n]));
const undeclared = (g) => g.nodes.find((n) => n.modulePath === null);

test("callers left, the function in the middle, callees right by depth", () => {
  const g = fx("callGraph");
  const m = G.layoutCallGraph(g, fx("errorFlows"));
  const n = byName(m);
  assert.equal(m.rootName, "checkout");
  assert.equal(m.truncated, false);
  assert.equal(m.nodes.length, 7);
  assert.equal(n.checkout.side, "root");
  assert.equal(n.checkout.column, 1);
  // rebuild_carts was never declared: hud-lsp names it by its id, modulePath null
  const rebuild = undeclared(g);
  assert.equal(rebuild.name, rebuild.functionId);
  assert.equal(rebuild.selfMs, 0);
  const shown = `undeclared ${rebuild.functionId.slice(0, 8)}`;
  assert.equal(n[shown].id, rebuild.functionId);
  for (const c of ["view_cart", "api_checkout", shown]) assert.equal(n[c].side, "caller"), assert.equal(n[c].column, 0);
  assert.equal(n[shown].modulePath, "");
  assert.equal(n.apply_discounts.column, 2);
  assert.equal(n.compute_tax.column, 2);
  assert.equal(n.load_rules.column, 3);
  assert.equal(n.compute_tax.location, undefined); // billing/tax.py is not in the workspace
  assert.ok(n.view_cart.x < n.checkout.x && n.checkout.x < n.apply_discounts.x && n.apply_discounts.x < n.load_rules.x);
  // heaviest first in a column
  assert.ok(n.view_cart.y < n.api_checkout.y && n.api_checkout.y < n[shown].y);
  // no two nodes overlap
  const seen = new Set(m.nodes.map((x) => `${x.x},${x.y}`));
  assert.equal(seen.size, m.nodes.length);
  assert.ok(m.width >= n.load_rules.x + G.NODE_W && m.height >= n[shown].y + G.NODE_H);
});

test("the answer by position is the same graph", () => {
  const a = G.layoutCallGraph(fx("callGraph"), fx("errorFlows"));
  const b = G.layoutCallGraph(fx("callGraphByPosition"), fx("errorFlowsByPosition"));
  assert.equal(b.root, a.root);
  assert.deepEqual(b.nodes.map((x) => x.name).sort(), a.nodes.map((x) => x.name).sort());
});

test("exception edges come from both answers, merged, raiser -> its caller", () => {
  const m = G.layoutCallGraph(fx("callGraph"), fx("errorFlows"));
  const exc = m.edges.filter((e) => e.kind === "exception");
  const name = (id) => m.nodes.find((x) => x.id === id).name;
  assert.deepEqual(exc.map((e) => `${name(e.from)}>${name(e.to)}:${e.exceptionType}:${e.calls}`).sort(), [
    "apply_discounts>checkout:KeyError:14", // in both answers: once
    "checkout>view_cart:KeyError:14", // from the error flows only
    "checkout>view_cart:TaxError:7",
    "compute_tax>checkout:TaxError:7",
    "load_rules>apply_discounts:KeyError:14",
  ]);
  assert.equal(exc.find((e) => e.exceptionType === "TaxError").label, "TaxError ×7");
});

test("a function known only from an error flow is placed right of the function it raised into", () => {
  // The recorded graph without load_rules (as a depth-1 graph would be): the KeyError flow brings it back.
  const g = fx("callGraph");
  const lr = g.nodes.find((x) => x.name === "load_rules").functionId;
  g.nodes = g.nodes.filter((x) => x.functionId !== lr);
  g.edges = g.edges.filter((e) => e.from !== lr && e.to !== lr);
  const n = byName(G.layoutCallGraph(g, fx("errorFlows")));
  assert.equal(n.load_rules.fromFlow, true);
  assert.equal(n.load_rules.column, n.apply_discounts.column + 1);
  assert.equal(n.apply_discounts.fromFlow, false);
});

test("edge widths by calls and by time, 1..MAX_WIDTH", () => {
  const m = G.layoutCallGraph(fx("callGraph"), null);
  const calls = m.edges.filter((e) => e.kind === "call");
  assert.equal(calls.length, 6);
  for (const e of calls) assert.ok(e.widthCalls >= 1 && e.widthCalls <= G.MAX_WIDTH && e.widthTime >= 1 && e.widthTime <= G.MAX_WIDTH);
  const heaviestTime = calls.reduce((a, b) => (b.totalMs > a.totalMs ? b : a));
  assert.equal(heaviestTime.widthTime, G.MAX_WIDTH);
  const name = (id) => m.nodes.find((x) => x.id === id).name;
  const e = (f, t) => calls.find((x) => name(x.from) === f && name(x.to) === t);
  // same calls, different time: equal by calls, different by time
  assert.equal(e("checkout", "apply_discounts").widthCalls, e("checkout", "compute_tax").widthCalls);
  assert.ok(e("checkout", "apply_discounts").widthTime > e("checkout", "compute_tax").widthTime);
  assert.equal(G.edgeWidth(0, 10), 1);
  assert.equal(G.edgeWidth(5, 0), 1);
  assert.equal(G.edgeWidth(10, 10), G.MAX_WIDTH);
});

test("a failure answer becomes the model's error; no nodes", () => {
  const m = G.layoutCallGraph(fx("unauthorized"), fx("errorFlows"));
  assert.equal(m.error.reason, "unauthorized");
  assert.equal(m.nodes.length, 0);
  for (const [f, reason] of [["noFunction", "no_function"], ["notOpen", "not_open"], ["functionNotFound", "function_not_found"]]) {
    const e = G.layoutCallGraph(fx(f)).error;
    assert.equal(e.reason, reason);
    assert.ok(e.message.length > 0);
  }
});

test("a failed errorFlows answer still draws the call graph", () => {
  const m = G.layoutCallGraph(fx("callGraph"), fx("unauthorized"));
  assert.equal(m.error, undefined);
  assert.equal(m.edges.filter((e) => e.kind === "exception").length, 3);
});

test("recursion, an uninstrumented node and a root missing from nodes do not break the layout", () => {
  const g = { window: { from: 0, to: 60000 }, root: "r", truncated: true, nodes: [{ functionId: "a", name: "a", modulePath: null, calls: 1, errors: 0, totalMs: 1, selfMs: 1 }],
    edges: [{ from: "r", to: "a", kind: "call", calls: 3, totalMs: 2 }, { from: "a", to: "a", kind: "call", calls: 2, totalMs: 1 }, { from: "a", to: "r", kind: "call", calls: 1, totalMs: 1 }] };
  const m = G.layoutCallGraph(g, { window: g.window, function: { functionId: "r", name: "r", modulePath: null },
    flows: [{ exceptionType: "E", count: 1, origin: { functionId: "a", name: "a", modulePath: null }, through: [], caughtIn: { functionId: "", name: "", modulePath: null }, escaped: false }] });
  assert.equal(m.truncated, true);
  assert.equal(m.nodes.length, 3);
  assert.equal(m.nodes.find((n) => n.id === "").name, "<uninstrumented caller>");
  assert.equal(m.edges.length, 4);
});

test("exception edges are at most MAX_EXC_WIDTH wide, the same in both modes", () => {
  const m = G.layoutCallGraph(fx("callGraph"), fx("errorFlows"));
  const exc = m.edges.filter((e) => e.kind === "exception");
  assert.equal(Math.max(...exc.map((e) => e.widthCalls)), G.MAX_EXC_WIDTH);
  for (const e of exc) assert.equal(e.widthTime, e.widthCalls);
});
