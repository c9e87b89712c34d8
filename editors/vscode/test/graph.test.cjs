// hud/callGraph + hud/errorFlows (recorded answers, test/fixtures) -> the panel's layout model.
const test = require("node:test");
const assert = require("node:assert/strict");
const G = require("../out/lib/graph.js");
const fx = (n) => require(`./fixtures/${n}.json`);

const byName = (m) => Object.fromEntries(m.nodes.map((n) => [n.name, n]));

test("callers left, the function in the middle, callees right by depth", () => {
  const m = G.layoutCallGraph(fx("callGraph"), fx("errorFlows"));
  const n = byName(m);
  assert.equal(m.rootName, "checkout");
  assert.equal(n.checkout.side, "root");
  assert.equal(n.checkout.column, 1);
  for (const c of ["view_cart", "api_checkout"]) assert.equal(n[c].side, "caller"), assert.equal(n[c].column, 0);
  assert.equal(n.apply_discounts.column, 2);
  assert.equal(n.fetch_order.column, 2);
  assert.equal(n.load_rules.column, 3);
  assert.equal(n.query.column, 3);
  assert.ok(n.view_cart.x < n.checkout.x && n.checkout.x < n.apply_discounts.x && n.apply_discounts.x < n.query.x);
  // heaviest first in a column
  assert.ok(n.view_cart.y < n.api_checkout.y);
  // no two nodes overlap
  const seen = new Set(m.nodes.map((x) => `${x.x},${x.y}`));
  assert.equal(seen.size, m.nodes.length);
  assert.ok(m.width >= n.query.x + G.NODE_W && m.height >= n.api_checkout.y + G.NODE_H);
});

test("exception edges come from both answers, merged, raiser -> its caller", () => {
  const m = G.layoutCallGraph(fx("callGraph"), fx("errorFlows"));
  const n = byName(m);
  const exc = m.edges.filter((e) => e.kind === "exception");
  const name = (id) => m.nodes.find((x) => x.id === id).name;
  assert.deepEqual(exc.map((e) => `${name(e.from)}>${name(e.to)}:${e.exceptionType}:${e.calls}`).sort(), [
    "apply_discounts>checkout:ValueError:7",
    "fetch_order>checkout:KeyError:12", // in both answers: once
    "parse_coupon>apply_discounts:ValueError:7",
  ]);
  // parse_coupon is known only from the error flow: placed right of the function it raised into
  assert.equal(n.parse_coupon.fromFlow, true);
  assert.equal(n.parse_coupon.column, n.apply_discounts.column + 1);
  assert.equal(exc.find((e) => e.exceptionType === "KeyError").label, "KeyError ×12");
});

test("edge widths by calls and by time, 1..MAX_WIDTH", () => {
  const m = G.layoutCallGraph(fx("callGraph"), null);
  const calls = m.edges.filter((e) => e.kind === "call");
  for (const e of calls) assert.ok(e.widthCalls >= 1 && e.widthCalls <= G.MAX_WIDTH && e.widthTime >= 1 && e.widthTime <= G.MAX_WIDTH);
  const heaviestTime = calls.reduce((a, b) => (b.totalMs > a.totalMs ? b : a));
  assert.equal(heaviestTime.widthTime, G.MAX_WIDTH);
  const name = (id) => m.nodes.find((x) => x.id === id).name;
  const e = (f, t) => calls.find((x) => name(x.from) === f && name(x.to) === t);
  // same calls, different time: equal by calls, different by time
  assert.equal(e("checkout", "apply_discounts").widthCalls, e("fetch_order", "query").widthCalls);
  assert.ok(e("checkout", "apply_discounts").widthTime > e("fetch_order", "query").widthTime);
  assert.equal(G.edgeWidth(0, 10), 1);
  assert.equal(G.edgeWidth(5, 0), 1);
  assert.equal(G.edgeWidth(10, 10), G.MAX_WIDTH);
});

test("a failure answer becomes the model's error; no nodes", () => {
  const m = G.layoutCallGraph(fx("unauthorized"), fx("errorFlows"));
  assert.equal(m.error.reason, "unauthorized");
  assert.equal(m.nodes.length, 0);
  assert.equal(G.layoutCallGraph(fx("noFunction")).error.reason, "no_function");
});

test("a failed errorFlows answer still draws the call graph", () => {
  const m = G.layoutCallGraph(fx("callGraph"), fx("unauthorized"));
  assert.equal(m.error, undefined);
  assert.equal(m.edges.filter((e) => e.kind === "exception").length, 1);
});

test("recursion and a root missing from nodes do not break the layout", () => {
  const g = { window: { from: 0, to: 60000 }, root: "r", truncated: true, nodes: [{ functionId: "a", name: "a", modulePath: "m.py", calls: 1, errors: 0, totalMs: 1, selfMs: 1 }],
    edges: [{ from: "r", to: "a", kind: "call", calls: 3, totalMs: 2 }, { from: "a", to: "a", kind: "call", calls: 2, totalMs: 1 }, { from: "a", to: "r", kind: "call", calls: 1, totalMs: 1 }] };
  const m = G.layoutCallGraph(g);
  assert.equal(m.truncated, true);
  assert.equal(m.nodes.length, 2);
  assert.equal(m.edges.length, 3);
});

test("exception edges are at most MAX_EXC_WIDTH wide, the same in both modes", () => {
  const m = G.layoutCallGraph(fx("callGraph"), fx("errorFlows"));
  const exc = m.edges.filter((e) => e.kind === "exception");
  assert.equal(Math.max(...exc.map((e) => e.widthCalls)), G.MAX_EXC_WIDTH);
  for (const e of exc) assert.equal(e.widthTime, e.widthCalls);
});
