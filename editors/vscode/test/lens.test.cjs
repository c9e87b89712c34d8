// hud-lsp's lens titles (lsp/format.c) read back, laid out, filtered and flagged.
const test = require("node:test");
const assert = require("node:assert/strict");
const L = require("../out/lib/lens.js");
const S = require("../out/lib/settings.js");
const st = (o) => S.settingsFromObject(o);

const full = "⚡ 1.2k/min · p95 38 ms ▲12% · 0.4% err · ≠ prod (1.1.0)";

test("every form hud-lsp writes parses", () => {
  assert.deepEqual(L.parseLensTitle(full), { rate: "1.2k", perMinute: 1200, p95: "38 ms", p95Ms: 38, trend: "▲12%", err: "0.4%", errPct: 0.4, prod: "≠ prod (1.1.0)" });
  assert.equal(L.parseLensTitle("⚡ 3/min · 0% err").p95, undefined);
  assert.equal(L.parseLensTitle("⚡ 0.05/min · p95 1.5 s · <0.1% err").p95Ms, 1500);
  assert.equal(L.parseLensTitle("⚡ 20/min · p95 120 µs · 0% err").p95Ms, 0.12);
  assert.equal(L.parseLensTitle("something else"), null);
});

test("layouts: full as served, compact, split into one lens per figure", () => {
  assert.deepEqual(L.layoutLens(full, st({})), [full]);
  assert.deepEqual(L.layoutLens(full, st({ lens: { layout: "compact" } })), ["p95 38 ms ▲12% · 0.4% err · ≠ prod"]);
  assert.deepEqual(L.layoutLens("⚡ 3/min · 0% err", st({ lens: { layout: "compact" } })), ["3/min"]);
  assert.deepEqual(L.layoutLens(full, st({ lens: { layout: "split" } })), ["⚡ 1.2k/min", "p95 38 ms ▲12%", "0.4% err", "≠ prod (1.1.0)"]);
});

test("lenses off, quiet functions hidden, thresholds flag", () => {
  assert.deepEqual(L.layoutLens(full, st({ lens: { enabled: false } })), []);
  assert.deepEqual(L.layoutLens(full, st({ thresholds: { minCallsPerMinute: 2000 } })), []);
  assert.deepEqual(L.layoutLens(full, st({ thresholds: { p95Ms: 30 } })), ["⚠ " + full]);
  assert.deepEqual(L.layoutLens(full, st({ thresholds: { p95Ms: 40 } })), [full]);
  assert.deepEqual(L.layoutLens(full, st({ thresholds: { errorRatePercent: 0.3 } })), ["⚠ " + full]);
  assert.deepEqual(L.layoutLens("odd title", st({ thresholds: { minCallsPerMinute: 5 } })), ["odd title"]);
});
