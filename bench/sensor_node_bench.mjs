// bench/sensor_node.sh: figures of the Node sensor.
// 1. Call-heavy: fib(27) in a fresh process, plain and under the sensor, runs interleaved;
//    the best of each process, the median over processes, and the ratio; then in one process
//    under the sensor, the instrumented fib against an uninstrumented copy (node_modules).
// 1c. The slow path's bytecode size (never inlined above 460 bytes).
// 2. Rewrite: the addon's instrument() on generated modules of 100, 1000 and 5000 functions
//    (best of 5), in MB/s and functions/ms.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { median } from './node/stats.mjs';

const [pkg, out, runsArg] = process.argv.slice(2);
const runs = Number(runsArg || 7);
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(path.join(out, 'node_modules'), { recursive: true });
fs.writeFileSync(path.join(out, 'package.json'), '{"name": "bench", "private": true}');
fs.symlinkSync(path.resolve(pkg), path.join(out, 'node_modules', 'hud-sensor'));
// The same fib twice: in the app (instrumented under the sensor) and in a package under
// node_modules (never instrumented); one process alternates them, so both see the same load.
const FIB = 'function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2) }\nmodule.exports = fib;\n';
fs.mkdirSync(path.join(out, 'node_modules', 'plainfib'), { recursive: true });
fs.writeFileSync(path.join(out, 'node_modules', 'plainfib', 'index.js'), FIB);
fs.writeFileSync(path.join(out, 'fib.cjs'), FIB);
fs.writeFileSync(path.join(out, 'main.cjs'), `
const fibs = { plain: require('plainfib'), app: require('./fib.cjs') };
const rounds = Number(process.argv[2]);
const best = { plain: Infinity, app: Infinity };
for (let i = 0; i < rounds; i++)
  for (const k of ['plain', 'app']) {
    const t = process.hrtime.bigint();
    fibs[k](27);
    best[k] = Math.min(best[k], Number(process.hrtime.bigint() - t) / 1e6);
  }
process.stdout.write(JSON.stringify(best) + '\\n');
`);

const env = { ...process.env, HUD_STATUS: 'off' };
delete env.HUD_ENABLE;
const time = (enabled, rounds) => {
  const r = spawnSync(process.execPath, ['--import', 'hud-sensor/register', 'main.cjs', String(rounds)],
    { cwd: out, encoding: 'utf8', env: enabled ? { ...env, HUD_ENABLE: '1' } : env });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout.trim());
};
const calls = 317811; // fib(27) makes 317811 calls
const ns = (ms) => ((ms * 1e6) / calls).toFixed(1);
// 1a. Fresh processes, plain and under the sensor interleaved (start-up and JIT included).
const plain = [], sensor = [];
for (let i = 0; i < runs; i++) {
  plain.push(time(false, 7).app);
  sensor.push(time(true, 7).app);
}
const p = median(plain), s = median(sensor);
console.log(`fib(27), ${calls} calls, median of ${runs} processes (best of 7 each): plain ${p.toFixed(2)} ms ` +
  `(${ns(p)} ns/call), sensor ${s.toFixed(2)} ms (${ns(s)} ns/call): ${(s / p).toFixed(2)}x`);
// 1b. In one process under the sensor, the instrumented fib against the uninstrumented copy.
const ratios = [], pin = [], sin = [];
for (let i = 0; i < runs; i++) {
  const b = time(true, 40);
  ratios.push(b.app / b.plain);
  pin.push(b.plain);
  sin.push(b.app);
}
console.log(`fib(27) in one process (best of 40 each, median of ${runs} processes): plain ${ns(median(pin))} ns/call, ` +
  `sensor ${ns(median(sin))} ns/call: ${median(ratios).toFixed(2)}x (processes ${Math.min(...ratios).toFixed(2)}-` +
  `${Math.max(...ratios).toFixed(2)}x)`);

// 1d. Call shapes other than recursion, in one process under the sensor against uninstrumented
// copies (node_modules): a callback called by a library (no instrumented call below it), a
// function called by two callers in turn (each call moves its run to the other edge), and a loop
// of calls under a call that is sampled and runs for long (a script's main: its first call is
// sampled, as every function's first calls are).
const SHAPES = `function onItem(x) { return x + 1 }
function util(x) { return x * 2 }
function viaA(x) { return util(x) + 1 }
function viaB(x) { return util(x) - 1 }
function twoCallers(n) { let s = 0; for (let i = 0; i < n; i++) s += viaA(i) + viaB(i); return s }
function leaf(x) { return x & 7 }
function main(n) { let s = 0; for (let i = 0; i < n; i++) s += leaf(i); return s }
module.exports = { onItem, twoCallers, main };
`;
fs.mkdirSync(path.join(out, 'node_modules', 'plainshapes'), { recursive: true });
fs.writeFileSync(path.join(out, 'node_modules', 'plainshapes', 'index.js'), SHAPES);
fs.writeFileSync(path.join(out, 'shapes.cjs'), SHAPES);
fs.writeFileSync(path.join(out, 'node_modules', 'plainshapes', 'lib.js'),
  'exports.each = (arr, f) => { let s = 0; for (let i = 0; i < arr.length; i++) s += f(arr[i]); return s };\n');
fs.writeFileSync(path.join(out, 'shapes_main.cjs'), `
const mods = { plain: require('plainshapes'), app: require('./shapes.cjs') };
const { each } = require('plainshapes/lib.js');
const arr = Array.from({ length: 1000 }, (_, i) => i);
const N = 2e6;
// main() first, each copy once: its one call is the sampled one, its loop calls leaf() N times.
const best = {};
const keep = (k, ns) => (best[k] = Math.min(best[k] ?? Infinity, ns));
for (const k of ['plain', 'app']) {
  const t = process.hrtime.bigint();
  mods[k].main(N);
  keep('main.' + k, Number(process.hrtime.bigint() - t) / N);
}
for (let r = 0; r < 15; r++)
  for (const k of ['plain', 'app']) {
    let t = process.hrtime.bigint();
    for (let i = 0; i < 1000; i++) each(arr, mods[k].onItem);
    keep('callback.' + k, Number(process.hrtime.bigint() - t) / 1e6);
    t = process.hrtime.bigint();
    mods[k].twoCallers(250000);
    keep('twoCallers.' + k, Number(process.hrtime.bigint() - t) / 250000); // 4 calls a turn, 2 of them moving
  }
process.stdout.write(JSON.stringify(best) + '\\n');
`);
const shapes = [];
for (let i = 0; i < runs; i++) {
  const r = spawnSync(process.execPath, ['--import', 'hud-sensor/register', 'shapes_main.cjs'],
    { cwd: out, encoding: 'utf8', env: { ...env, HUD_ENABLE: '1' } });
  if (r.status !== 0) throw new Error(r.stderr);
  shapes.push(JSON.parse(r.stdout.trim()));
}
for (const [k, what] of [['callback', 'a callback called by a library'], ['twoCallers', 'a function called by two callers in turn (4 calls a turn)'],
  ['main', 'a loop under a sampled call (a call per turn)']]) {
  const pl = median(shapes.map((x) => x[k + '.plain'])), ap = median(shapes.map((x) => x[k + '.app']));
  console.log(`${what}, one process, median of ${runs}: plain ${pl.toFixed(2)} ns, sensor ${ap.toFixed(2)} ns per ${k === 'twoCallers' ? 'turn' : 'call'}`);
}

// 1c. The slow path of a call (lib/runtime.js, miss()) must stay larger than V8 inlines (460
// bytes of bytecode): inlined into the instrumented functions, it made fib 1.7x slower.
const bc = spawnSync(process.execPath, ['--print-bytecode', '--print-bytecode-filter=miss', '--import', 'hud-sensor/register',
  'main.cjs', '1'], { cwd: out, encoding: 'utf8', env: { ...env, HUD_ENABLE: '1' }, maxBuffer: 64 << 20 });
const bcLen = Number(/Bytecode length: (\d+)/.exec(bc.stdout)?.[1]);
console.log(`slow path of a call (miss): ${bcLen} bytes of bytecode, ${bcLen > 460 ? 'never inlined' : 'INLINABLE (V8 inlines up to 460)'}`);

const native = createRequire(path.resolve(pkg, 'index.js'))('./lib/instrument.js').native;
for (const n of [100, 1000, 5000]) {
  let src = '';
  for (let i = 0; i < n; i++)
    src += i % 3 === 0 ? `function f${i}(a, b) { if (a) { return b + ${i} } return f${i}(b, a) }\n`
      : i % 3 === 1 ? `const g${i} = (x) => x * ${i};\n`
      : `class C${i} { m(x) { return x } get v() { return ${i} } }\n`;
  let best = Infinity, r;
  for (let k = 0; k < 5; k++) {
    const t = process.hrtime.bigint();
    r = native.instrument(src, 'm.js', 'file:///m.js', 'javascript', 'P;');
    best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e6);
  }
  console.log(`rewrite: ${(src.length / 1024).toFixed(0)} KiB, ${r.instrumented} functions: ${best.toFixed(1)} ms ` +
    `(${(src.length / 1048576 / (best / 1000)).toFixed(1)} MB/s, ${(r.instrumented / best).toFixed(0)} functions/ms)`);
}
