// Runs any Node program twice, without and with the sensor (node_modules instrumented too), and
// checks the sensor against two references: the program's own output (stdout and exit status
// must be the same) and V8's precise coverage taken in the instrumented run through the
// inspector (exact call counts per function). docs/HACKING.md, "Checking the Node sensor on a
// real program".
//
//   node tests/sensor_node/tools/exact.mjs [--pkg DIR] [--root DIR] [--include GLOBS] -- ARGS...
//
// ARGS are node's (a script and its arguments, flags first), run in the current directory.
// EXACT_SHOW=N lists up to N differing functions (default 20).
// --pkg: the built package (default: build/release/sensor/node/hud-sensor); --root: HUD_ROOT
// (default: the current directory; it makes every module path, so every function id, its own);
// --include: HUD_INCLUDE_MODULES (default *). Timing is held down (HUD_CPU_BUDGET=1e-9) so that
// past the first second almost every call takes the untimed paths. Compared: each function with
// an id and a start line of its own, not a generator or an async function (V8 counts those once
// per resume), in files without a source map (the sensor counts a bundle under its sources).
// Only the main thread's calls compare: with worker threads, the functions they run differ.
// Exits 1 when anything differs.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { compare } from '../coverage_compare.cjs';

const here = path.dirname(new URL(import.meta.url).pathname);
const argv = process.argv.slice(2);
const opt = { pkg: path.resolve(here, '../../../build/release/sensor/node/hud-sensor'), root: process.cwd(), include: '*' };
while (argv.length && argv[0] !== '--') {
  const k = argv.shift().replace(/^--/, '');
  if (!(k in opt) || !argv.length) {
    console.error('usage: exact.mjs [--pkg DIR] [--root DIR] [--include GLOBS] -- ARGS...');
    process.exit(2);
  }
  const v = argv.shift();
  opt[k] = k === 'include' ? v : path.resolve(v);
}
argv.shift();
if (!argv.length) {
  console.error('exact.mjs: nothing to run (ARGS after --)');
  process.exit(2);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hud-exact-'));
const covFile = path.join(tmp, 'coverage.json');
const probe = path.join(here, '..', 'coverage_probe.cjs');

const env = {};
for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('HUD_') && k !== 'NODE_OPTIONS') env[k] = v;
const run = (args, extra) => spawnSync(process.execPath, args, { env: { ...env, ...extra }, encoding: 'utf8', maxBuffer: 1 << 30 });
const plain = run(argv, {});
const hud = run(['--require', probe, '--import', path.join(opt.pkg, 'register.mjs'), ...argv], {
  HUD_ENABLE: '1', HUD_INCLUDE_MODULES: opt.include, HUD_ROOT: opt.root, HUD_CPU_BUDGET: '1e-9',
  HUD_URL: 'http://127.0.0.1:1', HUD_KEY: 'exact', HUD_SERVICE: 'exact', HUD_STATUS: 'off',
  COVERAGE_PROBE_OUT: covFile, COVERAGE_PROBE_SKIP: opt.pkg,
});
let bad = 0;
if (plain.stdout !== hud.stdout || plain.status !== hud.status) {
  bad++;
  const a = plain.stdout.split('\n'), b = hud.stdout.split('\n');
  const k = a.findIndex((l, i) => l !== b[i]);
  console.log(`output differs: status ${plain.status} / ${hud.status}` +
    (k >= 0 ? `, stdout line ${k + 1}:\n  plain: ${a[k]}\n  hud:   ${b[k]}` : ''));
  if (hud.stderr) console.log(`stderr with the sensor:\n${hud.stderr.slice(-2000)}`);
} else console.log(`output: the same (${plain.stdout.length} bytes, status ${plain.status})`);
if (!fs.existsSync(covFile)) {
  console.log('no coverage: the instrumented run did not end normally');
  process.exit(1);
}

const workers = fs.readdirSync(tmp).filter((f) => f.startsWith('coverage.json.worker-')).length;
const req = createRequire(path.join(opt.pkg, 'index.js'));
const { same, called, wrong, mapped } = compare(JSON.parse(fs.readFileSync(covFile, 'utf8')), {
  native: req('./lib/instrument.js').native, config: req('./lib/config.js'), root: opt.root, skipMapped: true,
});
fs.rmSync(tmp, { recursive: true, force: true });
console.log(`calls: ${same} functions counted as V8's precise coverage counts them (${called} of them called), ` +
  `${wrong.length} not; ${mapped} files with a source map left out`);
for (const w of wrong.slice(0, Number(process.env.EXACT_SHOW) || 20)) console.log(`  ${w}`);
// The sensor's counts() answers for the functions this thread declared, with the calls of the
// worker threads that ended before it was read; the coverage is this thread's.
if (workers) console.log(`${workers} worker threads ran: a function they ran differs from the main thread's coverage`);
process.exit(bad || wrong.length ? 1 : 0);
