// bench/sensor_node_inproc.sh: what an Express request costs in JavaScript alone, plain and under
// the sensor's variants: the app (bench/node/express_app.cjs) served without sockets
// (bench/node/express_inproc.cjs: no kernel, no HTTP parser), every app at once on CPU 1, as
// bench/sensor_node_sidebyside.sh does over HTTP. Per 1 s slice, each app's main-thread CPU per
// request over plain's in the same slice; a round's figure is the median over its slices;
// rounds (fresh processes) give the interval. Variants (HUD_BENCH_VARIANTS, as in
// sensor_node_sidebyside.sh; the CPU budget scaled to each app's share of the CPU), by default:
//   sensor      the sensor as shipped;
//   flows-only  none of the app's code instrumented: the framework patches alone;
//   wrapped     flows-only with Express wrapped instead of our statements in its functions
//               (HUD_FRAMEWORK_SOURCE=0);
//   disabled    the sensor imported, HUD_ENABLE unset.
//   node sensor_node_inproc_bench.mjs PKG OUT [rounds]   (HUD_BENCH_WARM, HUD_BENCH_SLICES)
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { installBenchDeps, installInprocLoop } from './node/install.mjs';
import { appCpuNs, benchModes, pinToCpu0, sideBySide } from './node/express.mjs';

const [pkg, outArg, roundsArg] = process.argv.slice(2);
const out = path.resolve(outArg);
const rounds = Number(roundsArg || 8);
const warm = Number(process.env.HUD_BENCH_WARM || 4);
const slices = Number(process.env.HUD_BENCH_SLICES || 6);
if (!installBenchDeps(out, pkg)) {
  console.log('sensor_node_inproc: skipped (needs npm)');
  process.exit(0);
}
const loop = installInprocLoop(out);

const base = { ...process.env, HUD_STATUS: 'off', HUD_URL: 'http://127.0.0.1:1', XDG_CONFIG_HOME: '/nonexistent-hud-config', HUD_ENABLE: '1' };
const modes = benchModes(process.env.HUD_BENCH_VARIANTS ||
  'sensor flows-only:HUD_EXCLUDE_MODULES=** wrapped:HUD_EXCLUDE_MODULES=**:HUD_FRAMEWORK_SOURCE=0 disabled:HUD_ENABLE=', base);
const names = Object.keys(modes);
const pin = pinToCpu0();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function startApp(m) {
  const argv = [process.execPath, ...modes[m].args, loop];
  const [cmd, ...rest] = pin ? ['taskset', '-c', '1', ...argv] : argv;
  const c = spawn(cmd, rest, { cwd: out, env: modes[m].env, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = [];
  readline.createInterface({ input: c.stdout }).on('line', (l) => lines.push(Number(l)));
  c.on('exit', (code) => {
    if (code !== null && code !== 0) {
      console.error(`${m}: exited ${code}`);
      process.exit(1);
    }
  });
  return { c, lines };
}
// Every app's [requests served, main-thread CPU ns] so far, asked of all at the same moment.
async function sample(apps) {
  const cpu = apps.map((a) => appCpuNs(a.c.pid)[0]);
  for (const a of apps) a.c.stdin.write('\n');
  for (let t = 0; apps.some((a) => a.lines.length === 0); t++) {
    if (t > 1000) throw new Error('an app does not answer');
    await sleep(5);
  }
  return apps.map((a, i) => [a.lines.shift(), cpu[i]]);
}

const figures = sideBySide(names);
for (let r = 0; r < rounds; r++) {
  const apps = names.map(startApp);
  await sleep(warm * 1000);
  let last = await sample(apps);
  const per = Object.fromEntries(names.map((m) => [m, []]));
  for (let k = 0; k < slices; k++) {
    await sleep(1000);
    const s = await sample(apps);
    names.forEach((m, i) => per[m].push((s[i][1] - last[i][1]) / (s[i][0] - last[i][0])));
    last = s;
  }
  figures.round(per);
  for (const a of apps) {
    a.c.removeAllListeners('exit');
    a.c.kill('SIGKILL');
  }
  await sleep(300);
}
figures.report(`express GET /orders/:id without sockets (JavaScript alone), all apps at once (10 requests in flight each${pin ? ', on CPU 1' : ''}), ` +
  `${rounds} rounds of ${slices} slices of 1 s`);
