// The Node sensor against the real hud-server (from the build tree) on loopback with a real
// SQLite file: the ground-truth workload (CommonJS and ES module) sent by the core's sender,
// and the query API answers with its exact figures: calls and escaped exceptions per
// function, exceptions per type, exception paths (raised, propagated, caught), and caller
// edges (also right after an await resumes, and for generators, callbacks and promise
// reactions) with their call-site lines. A spinning and a sleeping function's mean
// durations agree with the program's own timing within 5%. With the backend down the program
// runs as without it and exits promptly.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { makeApp, node, lastJson, env, hudServer } from './support.mjs';

const app = makeApp('server');
const hud = await hudServer(app);
const { port, keys, get } = hud;

// Functions of SERVICE by name (top by calls); names shared by several functions add up on
// the server already (one function_id).
async function functions(service) {
  const top = await get('/v1/functions/top', { service, sort: 'calls', limit: 500 });
  return Object.fromEntries(top.items.map((f) => [f.name, f]));
}

const sensorEnv = (service, extra = {}) => ({
  HUD_ENABLE: '1', HUD_STATUS: 'off', HUD_URL: `http://127.0.0.1:${port}`, HUD_KEY: keys.ingest,
  HUD_SERVICE: service, HUD_FLUSH_INTERVAL: '0.5', HUD_LOG_FILE: path.join(app, `${service}.log`), XDG_CONFIG_HOME: '/nonexistent-hud-config', ...extra,
});

const expected = JSON.parse(fs.readFileSync(path.join(app, 'expected.json'), 'utf8'));
// Callers per function ('' = no instrumented caller: a promise reaction, a timer, the top level).
const callers = {
  fib: { main: 1, fib: 176 },
  square: { main: 3 }, // called by Array.prototype.map, inside main
  'makeCounter.inc': { main: 2 },
  'Shape.constructor': { 'Shape.create': 1 },
  'Shape.create': { main: 1 },
  range: { main: 2 },                   // a generator runs on its first next(): main's for-of
  ticks: { main: 1 },                   // an async generator, from main's for await
  delay: { main: 3 },                   // after main resumed from an await
  fails: { main: 2 },
  throwsSync: { rethrows: 2 },
  rethrows: { catches: 2 },
  catches: { main: 2 },                 // main long resumed
  each: { main: 1 },
  'main.<anonymous>': { each: 4, main: 1, '': 1 }, // the callback; the executor; a catch handler
  'main.wait': { main: 1 },
  'main.onReject': { '': 1 },
  'api.twice': { main: 1 },
  'api.nested.deep': { 'api.twice': 2 },
  onRejectName: { main: 1 },
  next1: { '': 1, close: 1 },           // after a rejection left rejects(), after return() left pair()
  pair: { tail: 1 },
  rejects: { tail: 1 },
  tail: { main: 1 },
  guarded: { tail: 1 },
  release: { guarded: 1 },              // from guarded's own finally, after its return
  tock: { '': 1 },                      // a timer, while main waits in a for await over an array
  main: { '<anonymous>': 1 },           // the driver, after its own await (ES module) or not
  relay: { main: 2 },
  mark: { relay: 2 },                   // one relay resumed by another call of relay (handles name functions)
};
// The call-site line of each edge in its caller (fixtures/workload.cjs; main's caller is the
// driver): the line of the edge's first call, 0 with no caller.
const callerLines = {
  fib: { main: 31, fib: 4 },
  square: { main: 32 },                 // through Array.prototype.map: main's line
  'makeCounter.inc': { main: 34 },      // called on 34 and 35: the first call's line
  'Shape.constructor': { 'Shape.create': 14 },
  range: { main: 41 },
  ticks: { main: 43 },
  delay: { main: 44 },
  throwsSync: { rethrows: 22 },
  rethrows: { catches: 23 },
  catches: { main: 48 },
  'main.<anonymous>': { each: 24, main: 52, '': 0 },
  'api.nested.deep': { 'api.twice': 26 },
  onRejectName: { main: 60 },
  next1: { '': 0, close: 70 },
  pair: { tail: 74 },
  rejects: { tail: 72 },
  release: { guarded: 79 },
  tail: { main: 54 },
  main: { '<anonymous>': 9 },
};
const byType = { fails: { Error: 2 }, throwsSync: { TypeError: 2 }, rethrows: { TypeError: 2 }, rejects: { RangeError: 1 } };

try {
  for (const workload of ['workload.cjs', 'workload.mjs']) {
    const service = `gt-${workload.replace('.', '-')}`;
    const r = node(['--import', 'hud-sensor/register', 'ground_truth_driver.cjs', workload], app, sensorEnv(service));
    lastJson(r, workload);
    const log = fs.readFileSync(path.join(app, `${service}.log`), 'utf8');
    assert.ok(/sent batch/.test(log) && !/failed/.test(log), `${workload}: batches refused:\n${log}`);
    const fns = await functions(service);
    const got = {};
    for (const [name, f] of Object.entries(fns)) if (f.module_path === workload) got[name] = [f.calls, f.errors];
    assert.deepEqual(got, expected, `${workload}: calls and errors on the server`);
    for (const [name, want] of Object.entries(callers)) {
      const d = await get(`/v1/functions/${fns[name].function_id}`, { service });
      const have = {};
      for (const c of d.callers) have[c.name || ''] = (have[c.name || ''] || 0) + c.calls;
      assert.deepEqual(have, want, `${workload}: callers of ${name}`);
      if (callerLines[name]) {
        const lines = {};
        for (const c of d.callers) lines[c.name || ''] = c.line;
        assert.deepEqual(lines, callerLines[name], `${workload}: call-site lines of ${name}`);
      }
      assert.deepEqual(d.errors_by_type || {}, byType[name] || {}, `${workload}: exceptions of ${name} by type`);
    }
    // Exception paths: where each error was raised, what it went through, where it was caught.
    const xf = (await get('/v1/exception-flows', { service, limit: 100 })).flows;
    const paths = xf.map((x) => [x.exception_type, x.origin?.name, x.propagated_through.map((p) => p.name),
      x.caught_in?.name ?? null, x.count]).sort((a, b) => String(a).localeCompare(String(b)));
    assert.deepEqual(paths, [['Error', 'fails', [], 'main', 2], ['RangeError', 'rejects', [], 'tail', 1],
      ['TypeError', 'throwsSync', ['rethrows'], 'catches', 2]],
      `${workload}: exception paths`);
  }

  // 3000 edges: the edge table grows (twice) while the program runs; every count stays exact,
  // in the process (counts()) and on the server (by caller: f<i> calls g, i % 7 + 1 times).
  const N = 3000;
  let src = '"use strict";\nfunction g() { return 1 }\n';
  for (let i = 0; i < N; i++) src += `function f${i}() { let s = 0; for (let k = 0; k < ${i % 7 + 1}; k++) s += g(); return s }\n`;
  src += `const fs = [${Array.from({ length: N }, (_, i) => `f${i}`).join(',')}];\n` +
    'let total = 0;\nfor (const f of fs) total += f();\n' +
    'process.stdout.write(JSON.stringify({ total, counts: require("hud-sensor").counts() }) + "\\n");\n';
  fs.writeFileSync(path.join(app, 'many.cjs'), src);
  const many = lastJson(node(['--import', 'hud-sensor/register', 'many.cjs'], app, sensorEnv('many')), 'many.cjs');
  const byName = Object.fromEntries(Object.values(many.counts).map((c) => [c.name, c.calls]));
  let want = 0;
  for (let i = 0; i < N; i++) {
    want += i % 7 + 1;
    assert.equal(byName[`f${i}`], 1, `f${i} calls`);
  }
  assert.equal(many.total, want);
  assert.equal(byName.g, want, 'calls of g (one edge per caller)');
  const gId = (await functions('many')).g.function_id;
  const gCallers = (await get(`/v1/functions/${gId}`, { service: 'many' })).callers;
  assert.equal(gCallers.length, N, 'callers of g on the server');
  for (const c of gCallers) assert.equal(c.calls, Number(c.name.slice(1)) % 7 + 1, `calls of g from ${c.name}`);

  // A function's run moves between its callers' edges millions of times while the sender reads
  // every 20 ms: every edge exact on the server.
  const alt = lastJson(node(['--import', 'hud-sensor/register', 'alternate.cjs'], app, sensorEnv('alternate', { HUD_FLUSH_INTERVAL: '0.02' })), 'alternate.cjs');
  const altLeaf = {};
  for (const c of (await get(`/v1/functions/${(await functions('alternate')).leaf.function_id}`, { service: 'alternate' })).callers)
    altLeaf[c.name] = (altLeaf[c.name] || 0) + c.calls;
  assert.deepEqual(altLeaf, alt.want, 'callers of leaf under 20 ms snapshots');

  // After stack overflows, callers are right again.
  assert.equal(node(['--import', 'hud-sensor/register', 'deep.cjs'], app, sensorEnv('deep')).status, 0, 'deep.cjs');
  const deep = await functions('deep');
  const leafCallers = {};
  for (const c of (await get(`/v1/functions/${deep.leaf.function_id}`, { service: 'deep' })).callers)
    leafCallers[c.name || ''] = c.calls;
  assert.deepEqual(leafCallers, { main: 10, '': 1 }, 'callers of leaf after stack overflows');

  // Every timed frame taken: a sampled call that found no frame free still records its exception.
  const full = lastJson(node(['--import', 'hud-sensor/register', 'frames_full.cjs'], app,
    sensorEnv('frames', { HUD_CPU_BUDGET: '1' })), 'frames_full.cjs');
  assert.ok(full.timed >= 65535, `timed calls while the frames were taken: ${full.timed}`);
  assert.deepEqual([full.caught, full.late], [1, [1, 1]], 'calls and exceptions of a call that found no frame');

  // Durations.
  const t = lastJson(node(['--import', 'hud-sensor/register', 'timing.cjs'], app, sensorEnv('timing')), 'timing');
  const tlog = fs.readFileSync(path.join(app, 'timing.log'), 'utf8');
  const fns = await functions('timing');
  const within = (what, got, want) =>
    assert.ok(Math.abs(got - want) <= 0.05 * want, `${what}: ${(got / 1e6).toFixed(2)} ms, measured ${(want / 1e6).toFixed(2)} ms`);
  assert.deepEqual([fns.spin?.calls, fns.sleeper?.calls, fns.both?.calls], [20, 10, 10], `timing calls; sender log:\n${tlog}`);
  within('spin mean', fns.spin.mean_duration, (t.own.spin + t.own.inner) / 20);
  within('sleeper mean', fns.sleeper.mean_duration, t.own.sleeper / 10);
  within('both mean', fns.both.mean_duration, t.own.both / 10);
  within('both self time', fns.both.self_duration_mean, t.own.self / 10); // without spin()'s 10 ms
  assert.deepEqual([fns.loop?.calls, fns.tick?.calls], [1, 202000], 'loop calls');
  // Without its 2,000 calls of tick(). A timed tick() stands for up to 32 calls, so time the
  // process waited for a CPU meanwhile (a loaded machine) can move the figure by up to 32 times
  // as much: that much is allowed beyond the 5%.
  assert.ok(Math.abs(fns.loop.self_duration_mean - t.own.loop) <= 0.05 * t.own.loop + 32 * t.own.loopWaited,
    `loop self time: ${(fns.loop.self_duration_mean / 1e6).toFixed(2)} ms, measured ${(t.own.loop / 1e6).toFixed(2)} ms ` +
    `(5%; waited for a CPU ${(t.own.loopWaited / 1e6).toFixed(2)} ms)`);
  assert.ok(t.own.loopTimed < 1000, `timed calls under one long sampled call: ${t.own.loopTimed} for its 2,000 calls`);

  // Backend down: the same results, and the process ends within the exit budget (2 s).
  for (const [what, url] of [['nothing listening', 'http://127.0.0.1:1'], ['unroutable', 'http://10.255.255.1:9']]) {
    const r = node(['--import', 'hud-sensor/register', 'ground_truth_driver.cjs', 'workload.cjs'], app,
      sensorEnv('down', { HUD_URL: url }));
    const plain = lastJson(node(['ground_truth_driver.cjs', 'workload.cjs'], app), 'plain');
    assert.deepEqual(lastJson(r, what).result, plain.result, `${what}: results`);
    const tr = node(['--import', 'hud-sensor/register', 'timing.cjs'], app, sensorEnv('down', { HUD_URL: url }));
    const delay = Date.now() - lastJson(tr, what).end;
    assert.ok(delay < 3000, `${what}: exit took ${delay} ms after the program ended (budget 2 s)`);
  }
  console.log(`server: 2 workloads exact (${Object.keys(expected).length} functions, ${Object.keys(callers).length} caller sets); ` +
    `durations spin ${(fns.spin.mean_duration / 1e6).toFixed(2)} ms, sleeper ${(fns.sleeper.mean_duration / 1e6).toFixed(2)} ms, ` +
    `both ${(fns.both.mean_duration / 1e6).toFixed(2)} ms (self ${(fns.both.self_duration_mean / 1e6).toFixed(2)} ms), ` +
    `loop self ${(fns.loop.self_duration_mean / 1e6).toFixed(2)} ms against ${(t.own.loop / 1e6).toFixed(2)} ms ` +
    `(${t.own.loopTimed} timed calls; waited for a CPU ${(t.own.loopWaited / 1e6).toFixed(2)} ms)`);
} finally {
  hud.stop();
}
