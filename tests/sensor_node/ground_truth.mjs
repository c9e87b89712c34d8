// Ground truth: a workload with known exact call counts (sync, async/await, generators, async
// generators, class methods/accessors/fields, closures, callbacks, arrows with expression
// bodies, promises rejected and caught) in CommonJS and as an ES module, each started the
// three ways the sensor is started (--import, NODE_OPTIONS, init()); the runtime's counters
// (counts(), over the shared C core) must give exactly fixtures/expected.json, and the program's own results (fn.name,
// fn.length, strict mode) must be those of the run without the sensor.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { makeApp, node, lastJson } from './support.mjs';

const app = makeApp('ground_truth');
const expected = JSON.parse(fs.readFileSync(path.join(app, 'expected.json'), 'utf8'));
let checked = 0;

for (const workload of ['workload.cjs', 'workload.mjs']) {
  const plain = lastJson(node(['ground_truth_driver.cjs', workload], app), `${workload} plain`);
  assert.equal(plain.counts, null, 'without HUD_ENABLE nothing is installed');
  assert.equal(plain.result.strict, true);
  const ways = {
    '--import': [['--import', 'hud-sensor/register', 'ground_truth_driver.cjs', workload], {}],
    NODE_OPTIONS: [['ground_truth_driver.cjs', workload], { NODE_OPTIONS: '--import hud-sensor/register' }],
    'init()': [['ground_truth_driver.cjs', workload, 'init'], {}],
  };
  if (workload.endsWith('.mjs')) ways['an ES module entry'] = [['--import', 'hud-sensor/register', 'ground_truth_entry.mjs'], {}];
  for (const [way, [args, extra]] of Object.entries(ways)) {
    const what = `${workload} via ${way}`;
    const r = node(args, app, { HUD_ENABLE: '1', HUD_STATUS: 'stderr', ...extra });
    const got = lastJson(r, what);
    assert.match(r.stderr, /hud: sensor enabled/, what);
    assert.deepEqual(got.result, plain.result, `${what}: the program's results change`);
    const mine = {};
    for (const c of Object.values(got.counts))
      if (c.module_path === workload) mine[c.name] = [c.calls, c.errors];
    assert.deepEqual(mine, expected, `${what}: counts`);
    if (args.includes('ground_truth_entry.mjs'))
      assert.ok(Object.values(got.counts).some((c) => c.module_path === 'ground_truth_entry.mjs' && c.name === 'report' && c.calls === 1),
        `${what}: the entry point's own function`);
    checked++;
  }
}
// `for await` keeps Node's order of ticks (the sensor wraps each loop's iterator).
const orderPlain = lastJson(node(['await_order.cjs'], app), 'await order plain');
const order = lastJson(node(['--import', 'hud-sensor/register', 'await_order.cjs'], app, { HUD_ENABLE: '1', HUD_STATUS: 'off' }), 'await order');
assert.deepEqual(order.log, orderPlain.log, 'for await: the order of ticks changes');
// A generator resumed inside another call of the same generator (untimed calls share their
// function's handle): mark's 40000 calls all come from relay.
const relay = lastJson(node(['--import', 'hud-sensor/register', 'relay.cjs'], app, { HUD_ENABLE: '1', HUD_STATUS: 'off' }), 'relay');
assert.deepEqual(relay, { relay: 40000 }, 'callers of mark');
// Rewrite edge cases (fixtures/edge.{cjs,mjs}: hashbang, directives, empty bodies, nested
// arrows, default parameters, derived constructors, accessors, default exports, private methods).
fs.mkdirSync(path.join(app, 'node_modules', 'dep'));
fs.writeFileSync(path.join(app, 'node_modules', 'dep', 'package.json'), '{"name": "dep", "main": "index.js"}');
fs.writeFileSync(path.join(app, 'node_modules', 'dep', 'index.js'), 'exports.dep = function dep() { return "dep" };\n');
const edgeExpected = JSON.parse(fs.readFileSync(path.join(app, 'expected_edge.json'), 'utf8'));
const edgePlain = lastJson(node(['edge_driver.cjs'], app), 'edge plain');
const edge = lastJson(node(['--import', 'hud-sensor/register', 'edge_driver.cjs'], app, { HUD_ENABLE: '1', HUD_STATUS: 'off' }), 'edge');
assert.deepEqual(edge.result, edgePlain.result, 'edge cases: results change');
const edgeGot = {};
for (const c of Object.values(edge.counts))
  if (edgeExpected[c.module_path]) (edgeGot[c.module_path] ||= {})[c.name] = [c.calls, c.errors];
assert.deepEqual(edgeGot, edgeExpected, 'edge cases: counts');
// node_modules only when included; an exclude glob wins.
const modulesOf = (extra) => {
  const r = lastJson(node(['--import', 'hud-sensor/register', 'edge_driver.cjs'], app, { HUD_ENABLE: '1', HUD_STATUS: 'off', ...extra }), JSON.stringify(extra));
  return [...new Set(Object.values(r.counts).filter((c) => c.calls > 0).map((c) => c.module_path))].sort();
};
assert.deepEqual(modulesOf({}), ['edge.cjs', 'edge.mjs', 'edge_driver.cjs']);
assert.deepEqual(modulesOf({ HUD_INCLUDE_MODULES: 'dep' }), ['edge.cjs', 'edge.mjs', 'edge_driver.cjs', 'index.js']);
assert.deepEqual(modulesOf({ HUD_INCLUDE_MODULES: 'de?', HUD_EXCLUDE_MODULES: 'edge.*, dep/index.js' }), ['edge_driver.cjs']);

// Sampling keeps to the CPU budget before the first batch too: with a budget of 0.001% the quota
// drops within seconds (the cost of a timed call is measured at start); with the default budget
// three hot functions keep the starting quota.
const sampling = (budget, ms) => lastJson(node(['--import', 'hud-sensor/register', 'sampling.cjs', String(ms)], app,
  { HUD_ENABLE: '1', HUD_STATUS: 'off', HUD_URL: 'http://127.0.0.1:1', HUD_FLUSH_INTERVAL: '3600', ...(budget ? { HUD_CPU_BUDGET: budget } : {}) }), `sampling ${budget}`);
const low = sampling('0.00001', 8000);
assert.ok(low.quota < 2000, `a tiny budget lowers the quota before the first batch: ${JSON.stringify(low)}`);
assert.ok(low.timed_call_ns > 0 && low.timed_call_ns < 1e6, `the timed call's cost is measured: ${JSON.stringify(low)}`);
const usual = sampling('', 1500);
assert.equal(usual.quota, 2000, `three functions under the default budget: ${JSON.stringify(usual)}`);
// After a quiet first period the quota is adapted to its few edges (high); 40 hot functions then
// lower it within a second or so, not at the next batch (6 s later here): without that, their
// calls were timed at that high quota until then (seen: 38,062 a second per function, unchanged
// after 2.5 s).
const idle = lastJson(node(['--import', 'hud-sensor/register', 'sampling_idle.cjs', '6300', '4000'], app,
  { HUD_ENABLE: '1', HUD_STATUS: 'off', HUD_URL: 'http://127.0.0.1:1', HUD_FLUSH_INTERVAL: '6' }), 'sampling after idle');
assert.ok(idle.quota < idle.idle / 4, `the quota after a quiet period drops with the hot functions: ${JSON.stringify(idle)}`);
// The budget counts what a sampled call costs where it runs, with the timed calls of its callees
// (its self time): after a snapshot, the cost measured in place replaces the calibrated one.
const cost = lastJson(node(['--import', 'hud-sensor/register', 'timed_cost.cjs'], app,
  { HUD_ENABLE: '1', HUD_STATUS: 'off', HUD_URL: 'http://127.0.0.1:1', HUD_FLUSH_INTERVAL: '0.2' }), 'timed cost');
assert.ok(cost.after > 5 * cost.before, `a sampled call that times 50 callees costs more than a lone timed call: ${JSON.stringify(cost)}`);

console.log(`ground truth: ${checked} runs, ${Object.keys(expected).length} functions each, exact; ` +
  `edge cases: ${Object.values(edgeExpected).reduce((n, m) => n + Object.keys(m).length, 0)} functions, exact`);
