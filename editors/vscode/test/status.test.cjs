const test = require("node:test");
const assert = require("node:assert/strict");
const S = require("../out/lib/status.js");
const st = (state, extra = {}) => ({ state, message: "", url: "http://127.0.0.1:7700", service: "shop", modules: 2, ...extra });

test("connected: service and data age; 401: the key; unconfigured: the service", () => {
  const now = 1_000_000_000;
  const ok = S.statusView(st("ok"), undefined, now, now - 125_000);
  assert.equal(ok.text, "$(pulse) hud shop · 2m");
  assert.match(ok.tooltip, /2 files mapped/);
  assert.equal(ok.severity, "");
  const u = S.statusView(st("unauthorized", { message: "API key not recognised" }), undefined, now, undefined);
  assert.equal(u.text, "$(key) hud: 401");
  assert.equal(u.severity, "error");
  assert.match(u.tooltip, /Set API Key[\s\S]*API key not recognised/);
  assert.equal(S.statusView(st("unconfigured", { service: "" }), undefined, now, undefined).text, "$(gear) hud: no service");
  assert.equal(S.statusView(undefined, undefined, now, undefined).text, "$(sync~spin) hud");
});

test("hud.explain's message for the active file is in the tooltip; a file without figures is marked", () => {
  const v = S.statusView(st("ok"), { reason: "module_not_found", message: "no suffix of x/y.py is a module of shop" }, 0, undefined);
  assert.match(v.tooltip, /this file: no suffix of x\/y\.py/);
  assert.ok(v.text.endsWith("$(info)"));
  assert.ok(!S.statusView(st("ok"), { reason: "ok", message: "1 of 2" }, 0, undefined).text.includes("$(info)"));
});

test("age", () => {
  assert.equal(S.age(10_000, 5_000), "5s");
  assert.equal(S.age(10_000, undefined), "");
  assert.equal(S.age(0, 5_000), "");
  assert.equal(S.age(3 * 86400_000, 0 + 1), "2d");
});
