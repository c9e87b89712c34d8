const test = require("node:test");
const assert = require("node:assert/strict");
const K = require("../out/lib/secrets.js");

test("one secret per backend, the URL normalised", () => {
  assert.equal(K.secretName("HTTPS://Hud.Example.com/"), "hud.apiKey/https://hud.example.com");
  assert.equal(K.secretName("https://hud.example.com/Base/"), "hud.apiKey/https://hud.example.com/Base");
  assert.equal(K.secretName(""), "hud.apiKey/default");
  assert.notEqual(K.secretName("http://a:7700"), K.secretName("http://b:7700"));
});

test("keys are trimmed; empty, blank-holding, control characters and huge keys are refused", () => {
  assert.deepEqual(K.checkKey("  hud_2_abc  \n"), { key: "hud_2_abc" });
  assert.match(K.checkKey("").error, /empty/);
  assert.match(K.checkKey(undefined).error, /empty/);
  assert.match(K.checkKey("hud 2").error, /blanks/);
  assert.match(K.checkKey("a\u0007b").error, /control/);
  assert.match(K.checkKey("x".repeat(5000)).error, /4096/);
});

test("redact masks every occurrence", () => {
  assert.equal(K.redact("key hud_2_abc and hud_2_abc", "hud_2_abc"), "key ******** and ********");
  assert.equal(K.redact("nothing", undefined), "nothing");
});
