// bench/sensor_node.sh: figures of the Node sensor.
// 1. Call-heavy: fib(27) in a fresh process, plain and under the sensor, runs interleaved;
//    the best of each process, the median over processes, and the ratio.
// 2. Rewrite: the addon's instrument() on generated modules of 100, 1000 and 5000 functions
//    (best of 5), in MB/s and functions/ms.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const [pkg, out, runsArg] = process.argv.slice(2);
const runs = Number(runsArg || 7);
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(path.join(out, 'node_modules'), { recursive: true });
fs.writeFileSync(path.join(out, 'package.json'), '{"name": "bench", "private": true}');
fs.symlinkSync(path.resolve(pkg), path.join(out, 'node_modules', 'hud-sensor'));
fs.writeFileSync(path.join(out, 'fib.cjs'), `
function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2) }
let best = Infinity;
for (let i = 0; i < 7; i++) {
  const t = process.hrtime.bigint();
  fib(27);
  best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e6);
}
process.stdout.write(best + '\\n');
`);

const env = { ...process.env, HUD_STATUS: 'off' };
delete env.HUD_ENABLE;
const time = (enabled) => {
  const r = spawnSync(process.execPath, ['--import', 'hud-sensor/register', 'fib.cjs'],
    { cwd: out, encoding: 'utf8', env: enabled ? { ...env, HUD_ENABLE: '1' } : env });
  if (r.status !== 0) throw new Error(r.stderr);
  return Number(r.stdout.trim());
};
const plain = [], sensor = [];
for (let i = 0; i < runs; i++) {
  plain.push(time(false));
  sensor.push(time(true));
}
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const calls = 317811; // fib(27) makes 317811 calls
const p = median(plain), s = median(sensor);
console.log(`fib(27), ${calls} calls, median of ${runs} processes (best of 7 each): plain ${p.toFixed(2)} ms ` +
  `(${((p * 1e6) / calls).toFixed(1)} ns/call), sensor ${s.toFixed(2)} ms ` +
  `(${((s * 1e6) / calls).toFixed(1)} ns/call): ${(s / p).toFixed(2)}x`);

const native = createRequire(path.join(pkg, 'index.js'))('./lib/instrument.js').native;
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
