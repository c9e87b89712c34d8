// bench/sensor_node_compare.sh: the Node sensor side by side with `node --cpu-prof` and
// OpenTelemetry's Node auto-instrumentation (pinned in bench/node/package-lock.json), against
// plain Node, in one run:
// 1. Call-heavy: recursive fib(27), each mode in a fresh process (best of 15 runs); rounds run
//    every mode once, in a rotating order. OpenTelemetry does not instrument plain function
//    calls, so there it measures only what loading it costs.
// 2. An Express app (bench/node/express_app.cjs) under autocannon (10 connections): per round
//    fresh apps of every mode, warmed up, then driven in turns (see the round below).
// Per round, each mode's figure over plain's of the same round; printed: the median ratio over
// rounds and a 95% bootstrap interval of that median.
//   node sensor_node_compare_bench.mjs PKG OUT [rounds]   (HUD_BENCH_MODES, default all;
//   HUD_BENCH_WARM, HUD_BENCH_SLICES, HUD_BENCH_SECONDS: the Express rounds' shape)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { installBenchDeps } from './node/install.mjs';
import { median, bootstrap } from './node/stats.mjs';
import { appCpuNs, pinToCpu0, startExpressApp, stopApp } from './node/express.mjs';

const [pkg, outArg, roundsArg] = process.argv.slice(2);
const out = path.resolve(outArg);
const rounds = Number(roundsArg || 11);
if (!installBenchDeps(out, pkg)) {
  console.log('sensor_node_compare: skipped (needs npm)');
  process.exit(0);
}
const prof = path.join(out, 'cpu-prof');
const base = { ...process.env, HUD_STATUS: 'off', HUD_URL: 'http://127.0.0.1:1', XDG_CONFIG_HOME: '/nonexistent-hud-config' };
delete base.HUD_ENABLE;
for (const k of Object.keys(base)) if (k.startsWith('OTEL_')) delete base[k];
// Both exporters aim at a closed port, as HUD_URL does: the work of recording and batching is
// paid, the sending fails at once.
const otelEnv = {
  OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1',
  OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none',
  OTEL_NODE_RESOURCE_DETECTORS: 'env,host,os,process', OTEL_LOG_LEVEL: 'none',
};
const MODES = {
  plain: { args: [], env: base },
  sensor: { args: ['--import', 'hud-sensor/register'], env: { ...base, HUD_ENABLE: '1' } },
  'cpu-prof': { args: ['--cpu-prof', '--cpu-prof-dir', prof], env: base },
  otel: { args: ['--require', '@opentelemetry/auto-instrumentations-node/register'], env: { ...base, ...otelEnv } },
  // Only when asked for: the sensor with no timed calls after its first second (a CPU budget too
  // small for any: counting and flows), with none of the app's code instrumented (its flows
  // alone), and imported but not enabled (plain against itself: the bench's resolution).
  notime: { args: ['--import', 'hud-sensor/register'], env: { ...base, HUD_ENABLE: '1', HUD_CPU_BUDGET: '0.000001' } },
  'flows-only': { args: ['--import', 'hud-sensor/register'], env: { ...base, HUD_ENABLE: '1', HUD_EXCLUDE_MODULES: '**' } },
  disabled: { args: ['--import', 'hud-sensor/register'], env: base },
};
const OPTIONAL = ['notime', 'flows-only', 'disabled'];
// HUD_BENCH_MODES=plain,sensor: a subset (plain always first).
const wanted = (process.env.HUD_BENCH_MODES || '').split(',').filter(Boolean);
const names = Object.keys(MODES).filter((m) => m === 'plain' || (wanted.length ? wanted.includes(m) : !OPTIONAL.includes(m)));
const order = (r) => names.map((_, i) => names[(i + r) % names.length]);

function report(title, unit, per, fmt) {
  console.log(title);
  for (const m of names) {
    const v = per[m].map((x) => x.v);
    let line = `  ${m.padEnd(9)} ${fmt(median(v))} ${unit}`;
    if (m !== 'plain') {
      const ratios = per[m].map((x, i) => x.ratio ?? x.v / per.plain[i].v);
      const [lo, hi] = bootstrap(ratios);
      line += `: ${median(ratios).toFixed(3)}x plain (95% ${lo.toFixed(3)}-${hi.toFixed(3)})`;
    }
    console.log(line);
  }
}

// ---- 1. call-heavy ----
fs.writeFileSync(path.join(out, 'fib.cjs'), `
function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2) }
let best = Infinity;
for (let i = 0; i < 15; i++) {
  const t = process.hrtime.bigint();
  fib(27);
  best = Math.min(best, Number(process.hrtime.bigint() - t));
}
process.stdout.write(best / 317811 + '\\n'); // ns per call
`);
const fib = Object.fromEntries(names.map((m) => [m, []]));
for (let r = 0; r < rounds; r++)
  for (const m of order(r)) {
    const res = spawnSync(process.execPath, [...MODES[m].args, 'fib.cjs'], { cwd: out, encoding: 'utf8', env: MODES[m].env });
    if (res.status !== 0) throw new Error(`${m}: ${res.stderr}`);
    fib[m].push({ v: Number(res.stdout.trim().split('\n').pop()) });
    fs.rmSync(prof, { recursive: true, force: true });
  }
report(`call-heavy: fib(27), ns per call, best of 15 per process, ${rounds} rounds (medians; otel: its load ` +
  'cost only, it does not instrument plain function calls):', 'ns/call', fib, (x) => x.toFixed(2));

// ---- 2. Express under autocannon ----
const autocannon = createRequire(path.join(out, 'package.json'))('autocannon');
const pin = pinToCpu0(); // autocannon on CPU 0, the apps on CPU 1
function startApp(m) {
  return startExpressApp(m, MODES[m].args, { cwd: out, env: MODES[m].env, pin });
}
// SECS seconds of APP under autocannon (10 connections): [requests per second, the app's CPU
// ns per request on its main thread, on all its threads].
async function slice(m, app, secs) {
  const [m0, a0] = appCpuNs(app.c.pid);
  const r = await autocannon({ url: app.url, connections: 10, duration: secs });
  if (r.non2xx || r.errors) throw new Error(`${m}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  const [m1, a1] = appCpuNs(app.c.pid);
  const n = r.requests.total;
  return [n / secs, (m1 - m0) / n, (a1 - a0) / n];
}
// A round: one fresh app per mode, each warmed up for WARM seconds (V8 still tiers functions up
// after thousands of requests: a service runs warm), then SLICES slices of SECS seconds per app
// in a rotating order, so that the apps of a round see the same moments of the machine. A
// mode's round figure is the median over slices of its ratio to plain's slice; rounds (fresh
// processes: a process's heap layout moves V8's caches) give the interval.
const warm = Number(process.env.HUD_BENCH_WARM || 5);
const slices = Number(process.env.HUD_BENCH_SLICES || 10);
const secs = Number(process.env.HUD_BENCH_SECONDS || 1);
// Per figure of a slice (throughput, CPU per request on the main thread, on all threads), per mode,
// per round: {v: the median over slices, ratio: the median slice ratio to plain}.
const figs = [0, 1, 2].map(() => Object.fromEntries(names.map((m) => [m, []])));
const [rps, cpu, cpuAll] = figs;
for (let r = 0; r < rounds; r++) {
  const apps = {};
  for (const m of order(r)) {
    apps[m] = await startApp(m);
    await autocannon({ url: apps[m].url, connections: 10, duration: warm });
  }
  const per = Object.fromEntries(names.map((m) => [m, []]));
  for (let k = 0; k < slices; k++) for (const m of order(r + k)) per[m].push(await slice(m, apps[m], secs));
  for (const m of names)
    figs.forEach((f, j) => {
      f[m][r] = { v: median(per[m].map((x) => x[j])) / (j ? 1000 : 1), ratio: median(per[m].map((x, k) => x[j] / per.plain[k][j])) };
    });
  for (const m of names) await stopApp(apps[m].c);
  fs.rmSync(prof, { recursive: true, force: true });
}
const how = `${rounds} rounds (fresh apps, ${warm} s of warm-up each), ${slices} slices of ${secs} s per app and round` +
  (pin ? ', apps on CPU 1, autocannon on CPU 0' : '');
report(`express GET /orders/:id, autocannon 10 connections, ${how}; throughput:`, 'req/s', rps, (x) => x.toFixed(0));
report('  app CPU per request, main thread:', 'us', cpu, (x) => x.toFixed(1));
report('  app CPU per request, all its threads:', 'us', cpuAll, (x) => x.toFixed(1));
