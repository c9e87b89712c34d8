// bench/sensor_node_flows.sh: what following a request's flow through async work costs.
// 1. Candidates, per request, in one process (no network, no sensor): a request runs a handler
//    that awaits twice, schedules a setImmediate callback and a promise job of code that is not
//    instrumented, and makes 8 calls. "run start" is where the runtime needs the flow from the
//    async context: the handler, the callback, and each resume after an await.
//      none         nothing follows the flow (the sensor's choice: a run start takes the flow
//                   of the framework's call, else of its lexically enclosing call, and a resume
//                   its frame's; lib/runtime.js)
//      als          AsyncLocalStorage.run per request + getStore() at each run start on an
//                   empty stack (the sensor's choice until the measurement of issue 15's
//                   Express benchmark: ~5% of a request's instructions)
//      als-resume   the same, and getStore() at every resume too
//      als-each     getStore() at every call and resume (a context lookup in every hook)
//      hooks        async_hooks init/before/after keeping the current flow in an Int32Array
//                   (what the enter hook would read), no AsyncLocalStorage
//    Rounds interleave the candidates; the median ns/request over rounds, minus none's.
// 1b. The sensor's own cost per run start (the flow of the framework's call).
// 2. An Express app under autocannon (pinned in bench/node/package-lock.json, npm ci into the
//    build tree): plain vs the sensor (flows on), interleaved rounds, the throughput ratio with
//    a 95% interval (t over the per-round ratios).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { AsyncLocalStorage, createHook, executionAsyncId } from 'node:async_hooks';
import { installBenchDeps } from './node/install.mjs';
import { median } from './node/stats.mjs';

const [pkg, out, roundsArg] = process.argv.slice(2);
const rounds = Number(roundsArg || 7);

// ---- 1. candidates ----
const N = 20000;
let sink = 0;
function work(x) {
  return (x * 31) ^ (x >>> 3);
}
const tick = () => new Promise((r) => setImmediate(r));

// LOOK(where): where the runtime would ask for the flow: 'start' (a run on an empty stack: the
// handler, a callback), 'resume' (after an await), 'call' (every call).
function makeRequest(look) {
  return async function handler(id) {
    look('start');
    for (let i = 0; i < 4; i++) sink += work(id + i) + look('call');
    await tick();
    look('resume');
    await Promise.resolve(id).then((v) => (sink += v)); // a promise job of other code
    look('resume');
    await new Promise((resolve) =>
      setImmediate(() => {
        look('start');
        for (let i = 0; i < 4; i++) sink += work(id - i) + look('call');
        resolve();
      }));
    look('resume');
  };
}

async function drive(run) {
  const t = process.hrtime.bigint();
  const batch = 100;
  for (let i = 0; i < N; i += batch) {
    const ps = [];
    for (let k = 0; k < batch; k++) ps.push(run(i + k));
    await Promise.all(ps);
  }
  return Number(process.hrtime.bigint() - t) / N;
}

const als = new AsyncLocalStorage();
const cur = new Int32Array(1);
const flows = new Map();
const hook = createHook({
  init(id, type, trigger) {
    const f = flows.get(executionAsyncId());
    if (f !== undefined) flows.set(id, f);
  },
  before(id) {
    cur[0] = flows.get(id) | 0;
  },
  after() {
    cur[0] = 0;
  },
  destroy(id) {
    flows.delete(id);
  },
  promiseResolve() {},
});

const flowOf = () => als.getStore()?.flow | 0;
const candidates = {
  none: () => {
    const h = makeRequest(() => 0);
    return (id) => h(id);
  },
  als: () => {
    const h = makeRequest((where) => (where === 'start' ? flowOf() : 0));
    return (id) => als.run({ flow: (id & 7) + 1 }, h, id);
  },
  'als-resume': () => {
    const h = makeRequest((where) => (where !== 'call' ? flowOf() : 0));
    return (id) => als.run({ flow: (id & 7) + 1 }, h, id);
  },
  'als-each': () => {
    const h = makeRequest(flowOf);
    return (id) => als.run({ flow: (id & 7) + 1 }, h, id);
  },
  hooks: () => {
    const h = makeRequest(() => cur[0]);
    return (id) => {
      hook.enable();
      flows.set(executionAsyncId(), (id & 7) + 1);
      cur[0] = (id & 7) + 1;
      return h(id);
    };
  },
};

// Each candidate runs in a process of its own: once used, AsyncLocalStorage keeps its promise
// hook for the process, so a candidate measured after it would pay for it.
const self = new URL(import.meta.url).pathname;
if (process.env.HUD_FLOWS_CANDIDATE) {
  const run = candidates[process.env.HUD_FLOWS_CANDIDATE]();
  await drive(run); // warm-up
  console.log(await drive(run));
  process.exit(0);
}
const times = Object.fromEntries(Object.keys(candidates).map((k) => [k, []]));
for (let r = 0; r < rounds; r++) {
  for (const name of Object.keys(candidates)) {
    const c = spawnSync(process.execPath, [self], { encoding: 'utf8', env: { ...process.env, HUD_FLOWS_CANDIDATE: name } });
    if (c.status !== 0) throw new Error(c.stderr);
    times[name].push(Number(c.stdout.trim()));
  }
}
const base = median(times.none);
console.log(`flow propagation, ${N} requests (2 awaits, a setImmediate callback, a promise job, 8 calls), ` +
  `median of ${rounds} processes per candidate:`);
console.log(`  none ${base.toFixed(0)} ns/request`);
for (const name of ['als', 'als-resume', 'als-each', 'hooks'])
  console.log(`  ${name}: ${median(times[name]).toFixed(0)} ns/request (+${(median(times[name]) - base).toFixed(0)} ns)`);

if (!pkg || !fs.existsSync(path.join(pkg, 'hud_sensor.node'))) process.exit(0);
fs.mkdirSync(path.join(out, 'node_modules'), { recursive: true });
fs.rmSync(path.join(out, 'node_modules', 'hud-sensor'), { force: true });
fs.symlinkSync(pkg, path.join(out, 'node_modules', 'hud-sensor'));

// ---- 1b. The sensor's flow per run start: an instrumented function called 10^6 times by
// forEach (each call starts a run on an empty shadow stack), outside any flow and inside a
// framework's call in a flow (lib/runtime.js enterFlow). Processes alternate.
fs.writeFileSync(path.join(out, 'ask.cjs'), `
function f(x) { return x + 1; }
const keys = [...Array(1e6).keys()];
const dir = require('path').join(__dirname, 'node_modules/hud-sensor/lib');
const fw = require(dir + '/frameworks.js');
const rt = require(dir + '/runtime.js');
const flow = process.argv[2] === 'flows' ? fw.endpoint('GET', '/x') : 0;
let best = Infinity;
// Inside a framework's call in the flow, as a handler's callbacks are.
const state = rt.enterFlow(flow);
for (let r = 0; r < 7; r++) {
  const t = process.hrtime.bigint();
  keys.forEach(f);
  best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e6);
}
rt.leaveFlow(state);
console.log(best);
`);
const askEnv = { ...process.env, HUD_ENABLE: '1', HUD_STATUS: 'off', HUD_URL: 'http://127.0.0.1:1', XDG_CONFIG_HOME: '/nonexistent-hud-config' };
const ask = { none: [], flows: [] };
for (let r = 0; r < rounds; r++) {
  for (const k of ['none', 'flows']) {
    const c = spawnSync(process.execPath, ['--import', 'hud-sensor/register', 'ask.cjs', k], { cwd: out, encoding: 'utf8', env: askEnv });
    if (c.status !== 0) throw new Error(c.stderr);
    ask[k].push(Number(c.stdout.trim()));
  }
}
console.log(`flow per run start (an instrumented callback of forEach, median of ${rounds} processes): ` +
  `${median(ask.none).toFixed(0)} ns/call without flows, ${median(ask.flows).toFixed(0)} ns/call with one: ` +
  `+${(median(ask.flows) - median(ask.none)).toFixed(0)} ns`);

// ---- 2. Express under autocannon ----
if (!installBenchDeps(out, pkg)) {
  console.log('express: skipped (needs npm)');
  process.exit(0);
}
const autocannon = createRequire(path.join(out, 'package.json'))('autocannon');

const env = { ...process.env, HUD_STATUS: 'off', HUD_URL: 'http://127.0.0.1:1', XDG_CONFIG_HOME: '/nonexistent-hud-config' };
delete env.HUD_ENABLE;
function startApp(enabled) {
  const c = spawn(process.execPath, ['--import', 'hud-sensor/register', 'express_app.cjs'],
    { cwd: out, env: enabled ? { ...env, HUD_ENABLE: '1' } : env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let s = '';
    c.stdout.on('data', (d) => {
      s += d;
      const m = /"port":(\d+)/.exec(s);
      if (m) resolve({ c, port: Number(m[1]) });
    });
    c.on('exit', (code) => reject(new Error(`app exited ${code}`)));
  });
}
// CPU time (user + system) of process PID so far, in ns (Linux /proc).
const tck = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
function cpuNs(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1e9) / tck;
}
async function measure(enabled, seconds) {
  const { c, port } = await startApp(enabled);
  await autocannon({ url: `http://127.0.0.1:${port}/orders/7`, connections: 10, duration: 1 }); // warm-up
  const c0 = cpuNs(c.pid);
  const r = await autocannon({ url: `http://127.0.0.1:${port}/orders/7`, connections: 10, duration: seconds });
  const cpu = (cpuNs(c.pid) - c0) / r.requests.total;
  c.removeAllListeners('exit');
  c.kill('SIGTERM');
  await new Promise((res) => c.once('exit', res));
  if (r.non2xx || r.errors) throw new Error(`express: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return [r.requests.total / seconds, cpu];
}
const seconds = Number(process.env.HUD_BENCH_SECONDS || 4);
const plain = [], sensor = [], ratio = [], cpuP = [], cpuS = [], cpuRatio = [];
for (let r = 0; r < rounds; r++) {
  const first = r % 2 === 0;
  const a = await measure(!first, seconds);
  const b = await measure(first, seconds);
  const [p, s] = first ? [b, a] : [a, b];
  plain.push(p[0]);
  sensor.push(s[0]);
  ratio.push(s[0] / p[0]);
  cpuP.push(p[1]);
  cpuS.push(s[1]);
  cpuRatio.push(s[1] / p[1]);
}
// Mean of the per-round ratios with a 95% interval (Student's t).
function interval(xs) {
  const n = xs.length, mean = xs.reduce((x, y) => x + y, 0) / n;
  const sd = Math.sqrt(xs.reduce((x, y) => x + (y - mean) ** 2, 0) / (n - 1));
  const t95 = [12.71, 4.3, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26, 2.23][n - 2] || 2.0;
  return `${(100 * (mean - 1)).toFixed(1)}% ± ${((100 * t95 * sd) / Math.sqrt(n)).toFixed(1)}%`;
}
console.log(`express GET /orders/:id, autocannon 10 connections, ${rounds} interleaved rounds of ${seconds} s (medians):`);
console.log(`  throughput: plain ${median(plain).toFixed(0)} req/s, sensor ${median(sensor).toFixed(0)} req/s: ` +
  `${interval(ratio)} (95%)`);
console.log(`  app CPU per request: plain ${(median(cpuP) / 1000).toFixed(1)} us, sensor ${(median(cpuS) / 1000).toFixed(1)} us: ` +
  `${interval(cpuRatio)} (95%)`);
