// bench/sensor_node_express.sh: instructions per request of an Express app, plain against the
// sensor, counted by valgrind's callgrind (independent of the machine's load). The app
// (bench/node/express_app.cjs) and a keep-alive client (bench/node/express_driver.cjs, under
// node_modules so that it stays uninstrumented) run in one process; per process: WARM requests,
// then ROUNDS rounds of N requests, each counted alone (callgrind_control zeroes the counters
// before and dumps them after), so start-up is never in it. Processes alternate plain and
// sensor. Printed: each mode's median instructions per request and the sensor's ratio to plain
// (per round, paired with the plain process of the same index) with a 95% bootstrap interval.
// V8 runs --single-threaded: its compiler's and collector's work is on the main thread, counted
// once and in order rather than in background threads whose share of a round varies.
// V8 is still optimizing functions after thousands of requests (its compiler was 30-50% of a
// round's instructions): the second figure leaves out Runtime_CompileOptimized (inclusive), the
// third also the garbage collector (a major collection is ~50M instructions, in one round of three).
// Under valgrind time runs ~50x slower, so the per-second sampling quota times more calls than
// at full speed: the ratio errs on the high side. The figure is the request path's cost.
//   node sensor_node_express_bench.mjs PKG OUT [processes] [rounds]  (HUD_BENCH_N, default 500;
//   HUD_BENCH_WARM, default 3000: after 600, V8 still tiers functions up in the rounds)
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { installBenchDeps } from './node/install.mjs';
import { median, bootstrap } from './node/stats.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const [pkg, outArg, procsArg, roundsArg] = process.argv.slice(2);
const out = path.resolve(outArg);
const procs = Number(procsArg || 2);
const rounds = Number(roundsArg || 3);
const N = Number(process.env.HUD_BENCH_N || 500);
const WARM = Number(process.env.HUD_BENCH_WARM || 3000);
if (spawnSync('valgrind', ['--version']).status !== 0) {
  console.log('sensor_node_express: skipped (needs valgrind)');
  process.exit(0);
}
if (!installBenchDeps(out, pkg)) {
  console.log('sensor_node_express: skipped (needs npm)');
  process.exit(0);
}
const drv = path.join(out, 'node_modules', 'hud-bench-driver');
fs.mkdirSync(drv, { recursive: true });
fs.copyFileSync(path.join(here, 'node', 'express_driver.cjs'), path.join(drv, 'index.cjs'));
const cg = path.join(out, 'callgrind');
fs.rmSync(cg, { recursive: true, force: true });
fs.mkdirSync(cg);

// One batch, at exit: under valgrind a 10 s flush interval would fall every few hundred requests
// instead of every few tens of thousands, and charge a batch's fixed work to a handful of them.
const base = { ...process.env, HUD_STATUS: 'off', HUD_URL: 'http://127.0.0.1:1', XDG_CONFIG_HOME: '/nonexistent-hud-config', HUD_FLUSH_INTERVAL: '3600' };
delete base.HUD_ENABLE;
const MODES = {
  plain: { args: [], env: base },
  sensor: { args: ['--import', 'hud-sensor/register'], env: { ...base, HUD_ENABLE: '1' } },
  // The sensor with none of the app's code instrumented: its flows (the Express patches and
  // their async context) and being loaded, without the hooks in the app's functions.
  'flows-only': { args: ['--import', 'hud-sensor/register'], env: { ...base, HUD_ENABLE: '1', HUD_EXCLUDE_MODULES: '**' } },
};
// HUD_BENCH_MODES=plain,sensor,flows-only (default plain,sensor; plain always).
const names = ['plain', ...(process.env.HUD_BENCH_MODES || 'sensor').split(',').filter((m) => m !== 'plain' && MODES[m])];

// The collector's entry points (inclusive costs; none calls another: incremental marking's task
// and allocation steps both run Step).
const GC = /^\s*[\d,]+ .*(Heap::CollectGarbage\(|IncrementalMarking::Step\(|Heap::StartIncrementalMarking\(|MarkingBarrier::Write\()/;

// One process of MODE: instructions per request of each round.
async function proc(mode) {
  const c = spawn('valgrind', ['--tool=callgrind', `--callgrind-out-file=${cg}/cg.%p`, '--dump-instr=no',
    process.execPath, '--single-threaded', ...MODES[mode].args, path.join(drv, 'index.cjs')],
  { cwd: out, env: MODES[mode].env, stdio: ['pipe', 'pipe', 'pipe'] });
  let buf = '', err = '';
  const waiters = [];
  c.stderr.on('data', (d) => (err += d));
  c.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line === 'done' || line.startsWith('{')) waiters.shift()?.();
    }
  });
  const exited = new Promise((res) => c.on('exit', res));
  const next = () => new Promise((res, rej) => {
    waiters.push(res);
    exited.then(() => rej(new Error(`${mode}: exited\n${err.slice(-2000)}`)));
  });
  const ctl = (flag) => {
    const r = spawnSync('callgrind_control', [flag, String(c.pid)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`callgrind_control ${flag}: ${r.stderr}`);
  };
  await next(); // listening
  c.stdin.write(`${WARM}\n`);
  await next();
  const per = [];
  for (let r = 0; r < rounds; r++) {
    ctl('-z');
    c.stdin.write(`${N}\n`);
    await next();
    ctl('-d');
    const dumps = fs.readdirSync(cg).filter((f) => f.startsWith(`cg.${c.pid}.`));
    const last = dumps.sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop())).pop();
    const m = /^summary: (\d+)/m.exec(fs.readFileSync(path.join(cg, last), 'utf8'));
    const a = spawnSync('callgrind_annotate', ['--inclusive=yes', '--threshold=100', path.join(cg, last)], { encoding: 'utf8', maxBuffer: 1 << 28 });
    let jit = 0, gc = 0;
    for (const l of (a.stdout || '').split('\n')) {
      const k = /^\s*([\d,]+) .*Runtime_CompileOptimized(OSR)?\(/.exec(l);
      if (k) jit += Number(k[1].replace(/,/g, ''));
      if (GC.test(l)) gc += Number(/^\s*([\d,]+)/.exec(l)[1].replace(/,/g, ''));
    }
    per.push([Number(m[1]) / N, (Number(m[1]) - jit) / N, (Number(m[1]) - jit - gc) / N]);
  }
  c.stdin.end();
  await exited;
  return per;
}


const res = Object.fromEntries(names.map((m) => [m, []]));
for (let p = 0; p < procs; p++) {
  for (const m of p % 2 ? [...names].reverse() : names) {
    res[m].push(await proc(m));
    console.log(`  process ${p + 1} ${m.padEnd(10)} ${res[m][p].map((x) => x.map(Math.round).join('/')).join('  ')} instructions/request (all/no JIT/no JIT, no GC)`);
  }
}
for (const [k, title] of [[0, 'all instructions'], [1, "without V8's optimizing compiler (a one-off, on a background thread at full speed)"],
  [2, 'without the optimizing compiler and the garbage collector (whose major collections fall in some rounds only)']]) {
  console.log(`Express, instructions per request, ${title} (callgrind, ${procs} processes x ${rounds} rounds of ${N} requests)`);
  for (const m of names) {
    let line = `  ${m.padEnd(10)} ${Math.round(median(res[m].flat().map((x) => x[k])))}`;
    if (m !== 'plain') {
      const ratios = res[m].flatMap((rs, p) => rs.map((x, r) => x[k] / res.plain[p][r][k]));
      const [lo, hi] = bootstrap(ratios);
      line += `: ${median(ratios).toFixed(3)}x plain (95% ${lo.toFixed(3)}-${hi.toFixed(3)})`;
    }
    console.log(line);
  }
}
