// bench/sensor_node_attrib.sh: where an Express app's CPU goes at full speed, plain against the
// sensor, from `perf record -e cpu-clock` (V8's --perf-basic-prof-only-functions names the JIT
// code). Per round a fresh plain app and a fresh instrumented one (bench/node/express_app.cjs,
// on CPU 1; autocannon with 10 connections in this process on CPU 0), each warmed up, then
// profiled over a fixed time. The sensor's own CPU per request is what its samples attribute to:
//   js      the sensor's JavaScript (JIT code of files in its package: wrappers, slow paths);
//   addon   its native module (timed calls, flows, the sender thread);
//   glue    Node-API's entry and argument code, Atomics builtins, performance.now(): under the
//           sensor less plain's (Node's own C++ calls some of the same V8 functions);
//   inlined the growth of the app's own functions (the hooks V8 inlines into them): their
//           samples per request under the sensor less plain's.
// Printed: each part in us per request, and the whole as a share of plain's CPU per request
// (median over rounds, 95% bootstrap interval). Also printed for reference: the total CPU per
// request of each (it moves with other processes' load and the hypervisor's steal, which the
// attribution does not).
//   node sensor_node_attrib_bench.mjs PKG OUT [rounds]   (HUD_BENCH_WARM, HUD_BENCH_SECONDS)
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { installBenchDeps } from './node/install.mjs';
import { median, bootstrap } from './node/stats.mjs';
import { pinToCpu0, startExpressApp, stopApp } from './node/express.mjs';

const [pkg, outArg, roundsArg] = process.argv.slice(2);
const out = path.resolve(outArg);
const rounds = Number(roundsArg || 4);
const warm = Number(process.env.HUD_BENCH_WARM || 5);
const secs = Number(process.env.HUD_BENCH_SECONDS || 8);
if (!installBenchDeps(out, pkg)) {
  console.log('sensor_node_attrib: skipped (needs npm)');
  process.exit(0);
}
const autocannon = createRequire(path.join(out, 'package.json'))('autocannon');
const pkgDir = fs.realpathSync(pkg) + path.sep;
const appFile = path.join(out, 'express_app.cjs');
const base = { ...process.env, HUD_STATUS: 'off', HUD_URL: 'http://127.0.0.1:1', XDG_CONFIG_HOME: '/nonexistent-hud-config' };
delete base.HUD_ENABLE;
const MODES = {
  plain: { args: [], env: base },
  sensor: { args: ['--import', 'hud-sensor/register'], env: { ...base, HUD_ENABLE: '1' } },
};
const pin = pinToCpu0(); // autocannon on CPU 0, the apps on CPU 1

function startApp(m) {
  return startExpressApp(m, ['--perf-basic-prof-only-functions', ...MODES[m].args], { cwd: out, env: MODES[m].env, pin });
}

// PERIOD per (dso, symbol) of a recording: [{ns, dso, sym}].
function samples(data) {
  const r = spawnSync('perf', ['report', '-i', data, '--sort', 'dso,sym', '--stdio', '-q', '-F', 'period,dso,sym', '-t', '|'],
    { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`perf report: ${r.stderr}`);
  return r.stdout.split('\n').map((l) => l.split('|')).filter((f) => f.length === 3)
    .map(([ns, dso, sym]) => ({ ns: Number(ns), dso: dso.trim(), sym: sym.replace(/^\[.\]\s*/, '').trim() }));
}
const GLUE = /^(napi_|v8impl::|v8::External::Value|v8::Number::Value|v8::Boolean::Value|v8::Value::Is|Builtins_Atomics|node::performance::FastPerformanceNow)/;
function part(s) {
  if (s.dso === 'hud_sensor.node') return 'addon';
  if (s.sym.startsWith('JS:') && s.sym.includes(pkgDir)) return 'js';
  if (s.sym.startsWith('JS:') && s.sym.includes(appFile)) return 'app';
  if (GLUE.test(s.sym) && !s.dso.startsWith('[kernel')) return 'glue';
  return 'rest';
}

// One profiled run of mode M: {n requests, parts: us per request}.
async function run(m) {
  const app = await startApp(m);
  await autocannon({ url: app.url, connections: 10, duration: warm });
  const data = path.join(out, `perf-${m}.data`);
  const p = spawn('perf', ['record', '-e', 'cpu-clock', '-F', '2000', '-p', String(app.c.pid), '-o', data, '-q'], { stdio: 'ignore' });
  await new Promise((x) => setTimeout(x, 500)); // perf attached
  const a = await autocannon({ url: app.url, connections: 10, duration: secs });
  p.kill('SIGINT');
  await new Promise((x) => p.once('exit', x));
  await stopApp(app.c);
  if (a.non2xx || a.errors) throw new Error(`${m}: ${a.non2xx} non-2xx, ${a.errors} errors`);
  const n = a.requests.total; // the app is idle in the half second of recording before autocannon
  const parts = { js: 0, addon: 0, glue: 0, app: 0, rest: 0 };
  const rest = new Map(); // the other symbols (JIT code by function name and file), us per request
  for (const s of samples(data)) {
    const k = part(s), us = s.ns / n / 1000;
    parts[k] += us;
    if (k === 'rest') {
      const sym = s.sym.replace(/^JS:[*~^+]?/, 'JS:');
      rest.set(sym, (rest.get(sym) || 0) + us);
    }
  }
  fs.rmSync(data, { force: true });
  fs.rmSync(`/tmp/perf-${app.c.pid}.map`, { force: true }); // V8's symbol map
  return { n, parts, rest, total: Object.values(parts).reduce((x, y) => x + y, 0) };
}

const per = { plain: [], sensor: [] };
for (let r = 0; r < rounds; r++)
  for (const m of r % 2 ? ['sensor', 'plain'] : ['plain', 'sensor']) per[m].push(await run(m));

const own = per.sensor.map((s, i) => {
  const p = per.plain[i];
  const inlined = Math.max(0, s.parts.app - p.parts.app);
  const glue = Math.max(0, s.parts.glue - p.parts.glue); // Node's own C++ runs some of it too
  const us = s.parts.js + s.parts.addon + glue + inlined;
  return { js: s.parts.js, addon: s.parts.addon, glue, inlined, us, share: us / p.total };
});
const f = (x) => x.toFixed(2);
const [lo, hi] = bootstrap(own.map((o) => o.share));
console.log(`express GET /orders/:id at full speed, perf cpu-clock, ${rounds} rounds (fresh apps, ${warm} s warm-up, ` +
  `${secs} s profiled${pin ? ', apps on CPU 1, autocannon on CPU 0' : ''}):`);
console.log(`  plain CPU per request ${f(median(per.plain.map((p) => p.total)))} us, sensor ${f(median(per.sensor.map((p) => p.total)))} us (both move with the machine's load)`);
console.log(`  the sensor's own CPU per request: js ${f(median(own.map((o) => o.js)))} us, addon ${f(median(own.map((o) => o.addon)))} us, ` +
  `Node-API and builtins ${f(median(own.map((o) => o.glue)))} us, inlined hooks ${f(median(own.map((o) => o.inlined)))} us; ` +
  `in all ${f(median(own.map((o) => o.us)))} us = ${(100 * median(own.map((o) => o.share))).toFixed(2)}% of plain's ` +
  `(95% ${(100 * lo).toFixed(2)}-${(100 * hi).toFixed(2)}%)`);

// Outside the sensor's own code: the symbols whose CPU per request grew most (medians over
// rounds): where an indirect cost (the collector, V8's caches, the kernel) would show.
const syms = new Set(per.sensor.flatMap((x) => [...x.rest.keys()]));
const growth = [...syms].map((k) => [k, median(per.sensor.map((x) => x.rest.get(k) || 0)) - median(per.plain.map((x) => x.rest.get(k) || 0))]);
growth.sort((a, b) => b[1] - a[1]);
console.log(`  elsewhere (${f(median(per.plain.map((p) => p.parts.rest)))} us plain, ${f(median(per.sensor.map((p) => p.parts.rest)))} us sensor), ` +
  `grew most: ${growth.slice(0, 6).map(([k, v]) => `${k.slice(0, 60)} +${f(v)}`).join('; ')}`);
