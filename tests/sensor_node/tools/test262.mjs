// Runs test262's tests without and with the Node sensor (the tests' own code instrumented) and
// lists the tests whose outcome differs: what they threw (error.stack included) or printed.
// docs/HACKING.md, "Checking the Node sensor against test262".
//
//   node tests/sensor_node/tools/test262.mjs [--esm] [--pkg DIR] [--out DIR] TEST262 [SUBDIR...]
//
// TEST262: a checkout of tc39/test262 (its harness/ and test/). SUBDIRs below it (default:
// test/language test/annexB test/built-ins). Each script test becomes a CommonJS module (the
// harness files it includes, then the test; "use strict" first when it runs only strict), each
// module test an ES module beside copies of its fixtures; with --esm the script tests that may run
// strict become ES modules too (through the ES module loader's hook). Tests run 250 to a process
// (test262_driver.cjs); a test whose outcome differs, or that a process did not finish, runs again
// alone in a process of its own, without and with the sensor, and only what still differs then is
// listed. --pkg: the built package (default build/release/sensor/node/hud-sensor); --out: where
// the generated files and results go (default: a directory under the system's temporary one;
// emptied first, so it must be empty or one this tool made).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const here = path.dirname(new URL(import.meta.url).pathname);
const argv = process.argv.slice(2);
const opt = { pkg: path.resolve(here, '../../../build/release/sensor/node/hud-sensor'), out: path.join(os.tmpdir(), 'hud-test262') };
while (argv.length && argv[0].startsWith('--')) {
  const k = argv.shift().slice(2);
  opt[k] = k === 'esm' ? true : path.resolve(argv.shift());
}
const [t262, ...subdirs] = argv;
if (!t262) throw new Error('usage: test262.mjs [--pkg DIR] [--out DIR] TEST262 [SUBDIR...]');
const dirs = subdirs.length ? subdirs : ['test/language', 'test/annexB', 'test/built-ins'];
const driver = path.join(here, 'test262_driver.cjs');
const register = pathToFileURL(path.join(opt.pkg, 'register.mjs')).href;
const HUD = { HUD_ENABLE: '1', HUD_ROOT: opt.out, HUD_URL: 'http://127.0.0.1:9', HUD_KEY: 'test262',
  HUD_SERVICE: 'test262', HUD_STATUS: 'off' };

// The front matter's list KEY: `key: [a, b]` or one `- item` a line.
function list(meta, key) {
  const inline = meta.match(new RegExp(`^\\s*${key}:\\s*\\[([^\\]]*)\\]`, 'm'));
  if (inline) return inline[1].split(',').map((s) => s.trim()).filter(Boolean);
  const block = meta.match(new RegExp(`^\\s*${key}:\\s*\\n((?:\\s+-.*\\n?)+)`, 'm'));
  return block ? block[1].split('\n').map((s) => s.replace(/^\s*-\s*/, '').trim()).filter(Boolean) : [];
}
const walk = (d, out = []) => {
  for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.name.endsWith('.js')) out.push(p);
  }
  return out;
};

// OUT is emptied first, but only when it is one of ours (its marker file) or empty.
const marker = path.join(opt.out, '.hud-test262');
if (fs.existsSync(opt.out) && fs.readdirSync(opt.out).length > 0 && !fs.existsSync(marker))
  throw new Error(`${opt.out} is not empty and not an output directory of this tool`);
fs.rmSync(opt.out, { recursive: true, force: true });
fs.mkdirSync(path.join(opt.out, 'modules'), { recursive: true });
fs.writeFileSync(marker, '');
fs.writeFileSync(path.join(opt.out, 'modules', 'package.json'), '{"type":"module"}\n');
const harness = new Map();
const include = (n) => harness.get(n) ?? harness.set(n, fs.readFileSync(path.join(t262, 'harness', n), 'utf8')).get(n);
const tests = [];
for (const file of dirs.flatMap((d) => walk(path.join(t262, d))).sort()) {
  const rel = path.relative(path.join(t262, 'test'), file), src = fs.readFileSync(file, 'utf8');
  if (file.includes('_FIXTURE')) {
    fs.mkdirSync(path.dirname(path.join(opt.out, 'modules', rel)), { recursive: true });
    fs.writeFileSync(path.join(opt.out, 'modules', rel), src);
    continue;
  }
  const meta = (src.match(/\/\*---([\s\S]*?)---\*\//) || [])[1] || '', flags = list(meta, 'flags');
  if (flags.includes('CanBlockIsTrue') || (opt.esm && (flags.includes('noStrict') || flags.includes('raw')))) continue;
  const module = flags.includes('module') || opt.esm === true, async = flags.includes('async');
  let text = src;
  if (!flags.includes('raw')) {
    try {
      text = ['assert.js', 'sta.js', ...(async ? ['doneprintHandle.js'] : []), ...list(meta, 'includes')].map(include).join('\n') + '\n' + src;
    } catch {
      continue; // a harness file this checkout does not have
    }
    if (flags.includes('onlyStrict') && !module) text = `"use strict";\n${text}`;
  }
  const n = tests.length;
  const out = flags.includes('module') ? path.join(opt.out, 'modules', rel)
    : path.join(opt.out, 'scripts', String(n >> 8), `${n}.${module ? 'mjs' : 'js'}`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, text);
  tests.push({ n, file: out, test: rel, module, async });
}

// Runs LIST in one process per mode; the outcomes by test number.
function start(list, mode, name) {
  const lf = path.join(opt.out, `${name}.${mode}.list`), of = path.join(opt.out, `${name}.${mode}.out`);
  fs.writeFileSync(lf, JSON.stringify(list));
  fs.rmSync(of, { force: true });
  const args = mode === 'hud' ? ['--import', register, driver, lf, of] : [driver, lf, of];
  const env = mode === 'hud' ? { ...process.env, ...HUD } : process.env;
  return { args, env, of };
}
function outcomes(of) {
  const m = new Map();
  if (fs.existsSync(of)) for (const l of fs.readFileSync(of, 'utf8').split('\n')) if (l) { const j = JSON.parse(l); m.set(j.n, l); }
  return m;
}
const plain = new Map(), hud = new Map();
const batches = [];
for (let i = 0; i < tests.length; i += 250) batches.push(tests.slice(i, i + 250));
// Two processes at a time: the plain and the instrumented run of one batch.
for (let b = 0; b < batches.length; b++) {
  const runs = ['plain', 'hud'].map((mode) => start(batches[b], mode, `b${b}`));
  await Promise.all(runs.map((r) => new Promise((done) => {
    const child = spawn(process.execPath, r.args, { env: r.env, stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), 300000);
    child.on('exit', () => { clearTimeout(timer); done(); });
  })));
  for (const [k, v] of outcomes(runs[0].of)) plain.set(k, v);
  for (const [k, v] of outcomes(runs[1].of)) hud.set(k, v);
  process.stderr.write(`\rbatch ${b + 1} of ${batches.length}`);
}
process.stderr.write('\n');
const again = tests.filter((t) => !plain.has(t.n) || plain.get(t.n) !== hud.get(t.n));
const differ = [];
for (const t of again) {
  const [a, b] = ['plain', 'hud'].map((mode) => {
    const r = start([t], mode, 'alone');
    spawnSync(process.execPath, r.args, { env: r.env, stdio: 'ignore', timeout: 60000 });
    return outcomes(r.of).get(t.n) ?? '{"outcome":"(the process did not finish)"}';
  });
  if (a !== b) differ.push({ test: t.test, plain: JSON.parse(a).outcome, hud: JSON.parse(b).outcome });
}
// Each test's first line that differs (a stack's frame, or the message).
for (const d of differ) {
  const a = d.plain.split('\n'), b = d.hud.split('\n'), k = Math.max(0, a.findIndex((l, i) => l !== b[i]));
  console.log(`${d.test}\n  plain: ${(a[k] ?? '').slice(0, 160)}\n  hud:   ${(b[k] ?? '').slice(0, 160)}`);
}
const modules = tests.filter((t) => t.module).length;
console.log(`test262: ${tests.length} tests (${modules} modules): ${tests.length - differ.length} the same with the sensor, ` +
  `${differ.length} differ (${again.length} run again alone)`);
