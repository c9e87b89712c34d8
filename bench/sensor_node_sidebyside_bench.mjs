// bench/sensor_node_sidebyside.sh: the Express app (bench/node/express_app.cjs) plain and under
// variants of the sensor, all driven at once: every app on CPU 1 (autocannon in this process on
// CPU 0), each with its own 10 connections. Apps driven one after another (the other Express
// benches) see different moments of a shared machine: one plain app's CPU per request moved
// between 104 and 176 us from one 1 s slice to the next here, and two plain apps read 0.86-1.10x
// each other. Driven at once, the slices move together (two plain apps: 0.99-1.00x over rounds).
// Per slice, each app's CPU per request (its main thread, from the scheduler) over plain's in
// the same slice; a round's figure is the median over its slices; rounds (fresh processes)
// give the interval. Variants (HUD_BENCH_VARIANTS, space-separated NAME[:VAR=VALUE...], an empty
// VALUE unsets VAR; the CPU budget scaled to the app's share of the CPU, bench/node/express.mjs
// benchModes), by default:
//   sensor      the sensor as shipped;
//   notime      no timed calls (a CPU budget too small for any): counting and flows;
//   flows-only  none of the app's code instrumented: the framework patches alone;
//   disabled    the sensor imported, HUD_ENABLE unset.
//   node sensor_node_sidebyside_bench.mjs PKG OUT [rounds]   (HUD_BENCH_WARM, HUD_BENCH_SLICES)
import path from 'node:path';
import { createRequire } from 'node:module';
import { installBenchDeps } from './node/install.mjs';
import { appCpuNs, benchModes, pinToCpu0, sideBySide, startExpressApp, stopApp } from './node/express.mjs';

const [pkg, outArg, roundsArg] = process.argv.slice(2);
const out = path.resolve(outArg);
const rounds = Number(roundsArg || 5);
const warm = Number(process.env.HUD_BENCH_WARM || 5);
const slices = Number(process.env.HUD_BENCH_SLICES || 15);
if (!installBenchDeps(out, pkg)) {
  console.log('sensor_node_sidebyside: skipped (needs npm)');
  process.exit(0);
}
const autocannon = createRequire(path.join(out, 'package.json'))('autocannon');
const base = { ...process.env, HUD_STATUS: 'off', HUD_URL: 'http://127.0.0.1:1', XDG_CONFIG_HOME: '/nonexistent-hud-config', HUD_ENABLE: '1' };
const spec = process.env.HUD_BENCH_VARIANTS ||
  'sensor notime:HUD_CPU_BUDGET=0.000001 flows-only:HUD_EXCLUDE_MODULES=** disabled:HUD_ENABLE=';
const modes = benchModes(spec, base);
const names = Object.keys(modes);
const pin = pinToCpu0();
const drive = (apps, secs) => Promise.all(names.map((m) => autocannon({ url: apps[m].url, connections: 10, duration: secs })));

const figures = sideBySide(names);
for (let r = 0; r < rounds; r++) {
  const apps = {};
  for (const m of names) apps[m] = await startExpressApp(m, modes[m].args, { cwd: out, env: modes[m].env, pin });
  await drive(apps, warm);
  const per = Object.fromEntries(names.map((m) => [m, []]));
  for (let k = 0; k < slices; k++) {
    const c0 = names.map((m) => appCpuNs(apps[m].c.pid)[0]);
    const res = await drive(apps, 1);
    names.forEach((m, i) => {
      if (res[i].non2xx || res[i].errors) throw new Error(`${m}: ${res[i].non2xx} non-2xx, ${res[i].errors} errors`);
      per[m].push((appCpuNs(apps[m].c.pid)[0] - c0[i]) / res[i].requests.total);
    });
  }
  figures.round(per);
  for (const m of names) await stopApp(apps[m].c);
}
figures.report(`express GET /orders/:id, all apps driven at once (10 connections each${pin ? ', apps on CPU 1, autocannon on CPU 0' : ''}), ` +
  `${rounds} rounds of ${slices} slices of 1 s`);
