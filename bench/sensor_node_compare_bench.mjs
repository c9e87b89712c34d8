// bench/sensor_node_compare.sh: the Node sensor side by side with `node --cpu-prof` and
// OpenTelemetry's Node auto-instrumentation (pinned in bench/node/package-lock.json), against
// plain Node, in one run:
// 1. Call-heavy: recursive fib(27), each mode in a fresh process (best of 15 runs); rounds run
//    every mode once, in a rotating order. OpenTelemetry does not instrument plain function
//    calls, so there it measures only what loading it costs.
// 2. An Express app (bench/node/express_app.cjs) under autocannon (10 connections): per round
//    and mode a fresh app, 1 s of warm-up, then SECONDS measured; rounds rotate the order.
// Per round, each mode's figure over plain's of the same round; printed: the median ratio over
// rounds and a 95% bootstrap interval of that median.
//   node sensor_node_compare_bench.mjs PKG OUT [rounds]   (HUD_BENCH_SECONDS, default 2;
//   HUD_BENCH_MODES, default all)
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { installBenchDeps } from './node/install.mjs';
import { median, bootstrap } from './node/stats.mjs';

const [pkg, outArg, roundsArg] = process.argv.slice(2);
const out = path.resolve(outArg);
const rounds = Number(roundsArg || 11);
const seconds = Number(process.env.HUD_BENCH_SECONDS || 2);
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
};
// HUD_BENCH_MODES=plain,sensor: a subset (plain always first).
const wanted = (process.env.HUD_BENCH_MODES || '').split(',').filter(Boolean);
const names = Object.keys(MODES).filter((m) => m === 'plain' || !wanted.length || wanted.includes(m));
const order = (r) => names.map((_, i) => names[(i + r) % names.length]);

function report(title, unit, per, fmt) {
  console.log(title);
  for (const m of names) {
    const v = per[m].map((x) => x.v);
    let line = `  ${m.padEnd(9)} ${fmt(median(v))} ${unit}`;
    if (m !== 'plain') {
      const ratios = per[m].map((x, i) => x.v / per.plain[i].v);
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
const tck = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
function cpuNs(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1e9) / tck;
}
function startApp(m) {
  const c = spawn(process.execPath, [...MODES[m].args, 'express_app.cjs'], { cwd: out, env: MODES[m].env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let s = '';
    c.stdout.on('data', (d) => {
      s += d;
      const x = /"port":(\d+)/.exec(s);
      if (x) resolve({ c, port: Number(x[1]) });
    });
    c.on('exit', (code) => reject(new Error(`${m}: app exited ${code}`)));
  });
}
async function measure(m) {
  const { c, port } = await startApp(m);
  const url = `http://127.0.0.1:${port}/orders/7`;
  await autocannon({ url, connections: 10, duration: 1 });
  const c0 = cpuNs(c.pid);
  const r = await autocannon({ url, connections: 10, duration: seconds });
  const cpu = (cpuNs(c.pid) - c0) / r.requests.total;
  c.removeAllListeners('exit');
  c.kill('SIGTERM');
  await new Promise((res) => c.once('exit', res));
  fs.rmSync(prof, { recursive: true, force: true });
  if (r.non2xx || r.errors) throw new Error(`${m}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return [r.requests.total / seconds, cpu];
}
const rps = Object.fromEntries(names.map((m) => [m, []]));
const cpu = Object.fromEntries(names.map((m) => [m, []]));
for (let r = 0; r < rounds; r++)
  for (const m of order(r)) {
    const [t, c] = await measure(m);
    rps[m][r] = { v: t };
    cpu[m][r] = { v: c / 1000 };
  }
report(`express GET /orders/:id, autocannon 10 connections, ${rounds} rounds of ${seconds} s, throughput:`, 'req/s', rps,
  (x) => x.toFixed(0));
report('  app CPU per request:', 'us', cpu, (x) => x.toFixed(1));
