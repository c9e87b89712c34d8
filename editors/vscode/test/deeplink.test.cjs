const test = require("node:test");
const assert = require("node:assert/strict");
const D = require("../out/lib/deeplink.js");
const ID = "5b6f8d1e-2c4a-5e8f-9a1b-3c5d7e9f1a2b";

test("a built link parses back to its function id", () => {
  const link = D.buildFunctionLink("cursor", "hud-dev.hud", ID.toUpperCase());
  assert.equal(link, `cursor://hud-dev.hud/function?id=${ID}`);
  const u = new URL(link);
  assert.deepEqual(D.parseDeepLink(u.pathname, u.search.slice(1)), { kind: "function", functionId: ID });
});

test("bad links are refused with a reason", () => {
  assert.match(D.parseDeepLink("/flow", `id=${ID}`).error, /unknown hud link path/);
  assert.match(D.parseDeepLink("/function", "").error, /without id/);
  assert.match(D.parseDeepLink("/function", "id=../../etc/passwd").error, /not a function id/);
  assert.match(D.parseDeepLink("/function", `id=${ID}x`).error, /not a function id/);
  assert.equal(D.parseDeepLink("/function/", `x=1&id=${ID}`).kind, "function");
});

test("an alert's link names the issue too", () => {
  const ISSUE = "1b4e28ba-2fa1-41d2-883f-0016d3cca427";
  const u = new URL(`vscode://hud-dev.hud/function?id=${ID}&issue=${ISSUE.toUpperCase()}`);
  assert.deepEqual(D.parseDeepLink(u.pathname, u.search.slice(1)), { kind: "function", functionId: ID, issueId: ISSUE });
  assert.deepEqual(D.parseDeepLink("/function", `id=${ID}`), { kind: "function", functionId: ID });
  assert.match(D.parseDeepLink("/function", `id=${ID}&issue=42`).error, /not an issue id/);
  assert.match(D.parseDeepLink("/function", `id=${ID}&issue=`).error, /not an issue id/);
});
