const test = require("node:test");
const assert = require("node:assert/strict");
const T = require("../out/lib/trees.js");
const fx = (n) => require(`./fixtures/${n}.json`);

test("hot paths: the tree below the root, exception nodes marked, share shown", () => {
  const [root] = T.hotPathEntries(fx("hotPaths"));
  assert.equal(root.label, "checkout");
  assert.match(root.description, /^100% · 26 s · 1500 calls · 19 err$/);
  assert.deepEqual(root.children.map((c) => c.label), ["apply_discounts", "fetch_order"]);
  const parse = root.children[0].children[1];
  assert.equal(parse.label, "parse_coupon");
  assert.equal(parse.alert, true);
  assert.equal(parse.icon, "error");
  assert.ok(parse.location.uri.endsWith("shop/pricing.py"));
  assert.equal(new Set([root.id, ...root.children.map((c) => c.id)]).size, 3);
});

test("flows and issues", () => {
  const flows = T.flowEntries(fx("flows"));
  assert.deepEqual(flows.map((f) => f.label), ["GET /cart", "POST /api/checkout", "send_receipt"]);
  assert.equal(flows[2].icon, "inbox");
  assert.equal(flows[2].alert, true);
  assert.equal(flows[0].functionId, fx("callGraph").root);
  const issues = T.issueEntries(fx("issues"));
  assert.equal(issues[0].description, "mean duration +88% since 1.1.0");
  assert.equal(issues[0].children[0].label, "apply_discounts");
  assert.match(issues[0].children[0].description, /92% of the change/);
  assert.equal(issues[1].flowId, fx("flows").flows[1].flowId);
});

test("a failure answer is one entry saying why", () => {
  for (const f of [T.hotPathEntries, T.flowEntries, T.issueEntries]) {
    const e = f(fx("unauthorized"));
    assert.equal(e.length, 1);
    assert.match(e[0].label, /API key was rejected/);
    assert.equal(e[0].description, "unauthorized");
  }
});
