// hud/hotPaths, hud/flows, hud/issues (answers recorded from real hud-lsp by scripts/record.mjs) -> trees.
const test = require("node:test");
const assert = require("node:assert/strict");
const T = require("../out/lib/trees.js");
const fx = (n) => JSON.parse(JSON.stringify(require(`./fixtures/${n}.json`)));

test("hot paths: the tree below the root, exception nodes marked, share of the root's time", () => {
  const [root] = T.hotPathEntries(fx("hotPaths"));
  assert.equal(root.label, "view_cart");
  assert.match(root.description, /^100% · 7\.5 s · 6000 calls · 14 err$/);
  assert.deepEqual(root.children.map((c) => c.label), ["checkout"]);
  const checkout = root.children[0];
  assert.deepEqual(checkout.children.map((c) => c.label), ["apply_discounts", "compute_tax"]);
  const [apply, tax] = checkout.children;
  assert.deepEqual(apply.children.map((c) => c.label), ["load_rules"]);
  const rules = apply.children[0];
  assert.equal(rules.alert, true);
  assert.equal(rules.icon, "error");
  assert.match(rules.description, /^80% · 6\.0 s · 8000 calls · 14 err$/);
  assert.ok(rules.location.uri.endsWith("/app/shop/pricing.py"));
  assert.equal(tax.location, undefined); // billing/tax.py is not in the workspace
  assert.equal(tax.modulePath, "billing/tax.py");
  assert.match(tax.tooltip, /^compute_tax \(billing\/tax\.py\)/);
  const ids = [root, checkout, apply, tax, rules].map((e) => e.id);
  assert.equal(new Set(ids).size, 5);
  assert.ok(!root.description.includes("truncated"));
});

test("hot paths by calls (a flow) and by position; a cut tree says so", () => {
  const [flow] = T.hotPathEntries(fx("hotPathsByCalls"));
  assert.equal(flow.label, "checkout");
  // by calls: compute_tax's edge ties apply_discounts' (8000), then by name
  assert.deepEqual(flow.children.map((c) => c.label), ["apply_discounts", "compute_tax"]);
  const [pos] = T.hotPathEntries(fx("hotPathsByPosition"));
  assert.equal(pos.label, "checkout");
  assert.equal(pos.functionId, fx("callGraph").root);
  const cut = fx("hotPaths");
  cut.truncated = true;
  const [t] = T.hotPathEntries(cut);
  assert.match(t.description, / · truncated$/);
  assert.match(t.tooltip, /the tree is cut/);
  const [idle] = T.hotPathEntries(fx("hotPathsIdle"));
  assert.equal(idle.label, "save_order");
  assert.deepEqual(idle.children, []);
});

test("flows and issues", () => {
  const flows = T.flowEntries(fx("flows"));
  assert.deepEqual(flows.map((f) => f.label), ["GET /cart"]);
  assert.equal(flows[0].icon, "globe");
  assert.equal(flows[0].alert, false);
  assert.match(flows[0].description, /^100\/min · p95 0 µs · 0\.2% err$/);
  assert.equal(flows[0].functionId, fx("callGraph").root);
  // One issue per root cause, stored by the server: the recording's GET /cart is 7 ms slower per request
  // and no function's own time explains it (its functions' self times do not change), so the flow is the issue.
  const rec = fx("issues").issues;
  const issues = T.issueEntries(fx("issues"));
  assert.deepEqual(issues.map((i) => i.label), ["GET /cart +7 ms per request (1.0.0 \u2192 1.1.0)"]); // the headline
  const [ad] = issues;
  assert.equal(ad.description, "open"); // the status
  assert.match(ad.tooltip, /^regression: GET \/cart \+7 ms per request .*\nstatus open/);
  assert.equal(ad.flowId, flows[0].flowId);
  assert.equal(ad.issueId, rec[0].issueId);
  assert.deepEqual(ad.children.map((c) => c.label), ["GET /cart"]); // its affected flow, no root cause
});

test("an issue with flows: the headline, status, code change and p; one child per affected flow", () => {
  const is = fx("issues");
  Object.assign(is.issues[0], {
    headline: "apply_discounts self time +4.13 ms per call (v1 → v2)", status: "acknowledged", codeChanged: true, pText: "< 1e-16",
    driftPct: 12.4, hostShiftPct: 35.2,
    firstSeen: "2024-08-19T10:00:00.000000+00:00", timesReopened: 1,
    affectedFlows: [{ flowId: "05fc0d6e-f176-524c-b2ef-1981f240c4bf", name: "POST /orders", text: "POST /orders +4.13 ms per request (+206%)",
      msPerRequest: 4.13, effectPct: 206.5, baselineMs: 2, currentMs: 6.13, baselineErrorRate: 0, currentErrorRate: 0, requests: 900 }],
    callPath: [{ functionId: "a", name: "create_order", modulePath: null }, { functionId: "b", name: "apply_discounts", modulePath: null }],
  });
  const [e] = T.issueEntries(is);
  assert.equal(e.label, "apply_discounts self time +4.13 ms per call (v1 → v2)");
  assert.equal(e.description, "acknowledged · code changed");
  assert.equal(e.tooltip.split("\n").slice(0, 6).join("\n"),
    "regression: apply_discounts self time +4.13 ms per call (v1 → v2)\nstatus acknowledged · first seen 2024-08-19 10:00 · reopened 1×\n" +
    "code changed in this version\nPOST /orders +4.13 ms per request (+206%)\ncall path: create_order → apply_discounts\n" +
    "p < 1e-16 · confidence 99.9% · drift allowance 12% · host shift +35% taken off");
  assert.equal(e.children[0].label, "POST /orders");
  assert.equal(e.children[0].description, "+4.13 ms per request (+206%)");
  assert.equal(e.children[0].flowId, "05fc0d6e-f176-524c-b2ef-1981f240c4bf");
  // An hud-lsp without the members: the subject and the message, as before.
  is.issues[1] = fx("issues").issues[0];
  for (const k of ["headline", "status", "affectedFlows", "callPath", "codeChanged", "pText"]) delete is.issues[1][k];
  const [, old] = T.issueEntries(is);
  assert.equal(old.label, is.issues[1].subject.name);
  assert.equal(old.description, is.issues[1].message);
});

test("root causes: a module path of null is not shown", () => {
  const is = fx("issues");
  is.issues[0].rootCauses = [{ functionId: "f", name: "f", modulePath: null, share: 0.5, evidence: null }];
  is.issues[0].affectedFlows = [];
  const [e] = T.issueEntries(is);
  assert.equal(e.children[0].tooltip, "f");
  assert.equal(e.children[0].modulePath, undefined);
});

test("a failure answer is one entry saying why", () => {
  for (const f of [T.hotPathEntries, T.flowEntries, T.issueEntries]) {
    const e = f(fx("unauthorized"));
    assert.equal(e.length, 1);
    assert.match(e[0].label, /authentication failed/);
    assert.equal(e[0].description, "unauthorized");
  }
  for (const [name, reason] of [["serviceNotFound", "service_not_found"], ["noFunction", "no_function"], ["notOpen", "not_open"], ["functionNotFound", "function_not_found"]]) {
    const [e] = T.hotPathEntries(fx(name));
    assert.equal(e.description, reason);
    assert.equal(e.label, fx(name).error.message);
  }
});
