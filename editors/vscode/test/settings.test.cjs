// settings -> hud-lsp's command line, environment and initializationOptions.
const test = require("node:test");
const assert = require("node:assert/strict");
const S = require("../out/lib/settings.js");

const hud = (o) => S.settingsFromObject(o);

test("initializationOptions carry hud-lsp's keys only, empties left out, never the key", () => {
  const s = hud({ url: " https://hud.example.com ", service: "shop", env: "", window: "15m", refreshSeconds: 10, key: "k_live" });
  assert.deepEqual(S.initializationOptions(s), { url: "https://hud.example.com", service: "shop", window: "15m", refreshSeconds: 10 });
  const d = S.initializationOptions(hud({}));
  assert.deepEqual(d, { window: "1h", refreshSeconds: 30 });
  assert.equal(JSON.stringify(S.initializationOptions(hud({ key: "k_live" }))).includes("k_live"), false);
});

test("a window of plain seconds is sent as a number, as hud-lsp accepts", () => {
  assert.equal(S.initializationOptions(hud({ window: "3600" })).window, 3600);
});

test("windowSeconds follows hud-lsp's rule", () => {
  assert.equal(S.windowSeconds("1h"), 3600);
  assert.equal(S.windowSeconds("90s"), 90);
  assert.equal(S.windowSeconds("90d"), 90 * 86400);
  assert.match(String(S.windowSeconds("59s")), /60s\.\.90d/);
  assert.match(String(S.windowSeconds("91d")), /60s\.\.90d/);
  assert.match(String(S.windowSeconds("1w")), /expected/);
});

test("numbers are clamped, unknown layouts fall back", () => {
  const s = hud({ refreshSeconds: 0, callGraph: { depth: 40, maxNodes: 0, edgeWidth: "bogus" }, lens: { layout: "sideways" } });
  assert.equal(s.refreshSeconds, 1);
  assert.equal(s.callGraph.depth, 16);
  assert.equal(s.callGraph.maxNodes, 1);
  assert.equal(s.callGraph.edgeWidth, "calls");
  assert.equal(s.lens.layout, "full");
  assert.equal(s.lens.enabled, true);
});

test("dotted names as VS Code's getConfiguration('hud').get reads them", () => {
  const flat = { "lens.layout": "split", "thresholds.p95Ms": 50, pathMaps: { "shop/": "src/shop/", bad: 3 } };
  const s = S.readSettings((n) => flat[n]);
  assert.equal(s.lens.layout, "split");
  assert.equal(s.thresholds.p95Ms, 50);
  assert.deepEqual(s.pathMaps, { "shop/": "src/shop/" });
});

test("the environment holds the key, CA file and libcurl's proxy variables", () => {
  const s = hud({ caFile: "/etc/ssl/corp.pem" });
  const env = S.serverEnv(s, "k_live_1", { httpProxy: "http://proxy:3128", noProxy: ["localhost", ".corp"] }, { PATH: "/bin", HOME: undefined });
  assert.equal(env.HUD_KEY, "k_live_1");
  assert.equal(env.HUD_CA_FILE, "/etc/ssl/corp.pem");
  assert.equal(env.http_proxy, "http://proxy:3128");
  assert.equal(env.HTTPS_PROXY, "http://proxy:3128");
  assert.equal(env.no_proxy, "localhost,.corp");
  assert.equal(env.PATH, "/bin");
  assert.equal("HOME" in env, false);
  assert.equal(S.describeEnv(env).includes("k_live_1"), false);
  assert.match(S.describeEnv(env), /HUD_KEY=\*{8}/);
});

test("without http.proxy the inherited HTTPS_PROXY is left alone; without a key no HUD_KEY is added", () => {
  const env = S.serverEnv(hud({}), undefined, { httpProxy: "", noProxy: [] }, { HTTPS_PROXY: "http://p:1" });
  assert.equal(env.HTTPS_PROXY, "http://p:1");
  assert.equal("HUD_KEY" in env, false);
  assert.equal("HUD_CA_FILE" in env, false);
});

test("serverCommand: bundled binary per platform, hud.serverPath wins, --config passed", () => {
  const have = new Set(["/ext/bin/linux-x64/hud-lsp", "/opt/hud-lsp"]);
  const exists = (p) => have.has(p);
  assert.deepEqual(S.serverCommand(hud({}), "/ext", "linux", "x64", exists), { command: "/ext/bin/linux-x64/hud-lsp", args: ["--stdio"] });
  assert.deepEqual(S.serverCommand(hud({ serverPath: "/opt/hud-lsp", configFile: "/c" }), "/ext", "linux", "x64", exists), {
    command: "/opt/hud-lsp",
    args: ["--stdio", "--config", "/c"],
  });
  assert.deepEqual(S.serverCommand(hud({ serverPath: "hud-lsp" }), "/ext", "darwin", "arm64", exists).command, "hud-lsp");
  assert.match(S.serverCommand(hud({}), "/ext", "darwin", "arm64", exists).error, /darwin-arm64.*hud\.serverPath/);
  assert.match(S.serverCommand(hud({ serverPath: "/nope/hud-lsp" }), "/ext", "linux", "x64", exists).error, /does not exist/);
});

test("folders with the same backend share one hud-lsp; another service gets its own", () => {
  const conf = { a: { service: "shop" }, b: { service: "shop" }, c: { service: "billing" }, d: { service: "shop", lens: { layout: "split" } } };
  const groups = S.groupFolders(["a", "b", "c", "d"], (f) => hud(conf[f]));
  assert.deepEqual(groups.map((g) => g.folders), [["a", "b", "d"], ["c"]]);
  assert.equal(groups[1].settings.service, "billing");
});
