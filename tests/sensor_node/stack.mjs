// error.stack is identical with and without the sensor (lines and columns), for errors thrown
// at several depths, from one-line functions, constructors, aliased methods, generators,
// getters, callbacks, async functions, Error.captureStackTrace and Node's own errors, in
// CommonJS and ES modules, also under --enable-source-maps. Also measures the alternatives (HUD_STACK_MODE=sourcemap, off):
// their differing frames are printed; "off" must differ (so this test can fail).
import assert from 'node:assert/strict';
import { makeApp, node, lastJson } from './support.mjs';

const app = makeApp('stack');
const run = (extra, flags = []) =>
  lastJson(node([...flags, '--import', 'hud-sensor/register', 'stack_driver.cjs'], app, extra), JSON.stringify(extra));
const plain = run({});

function diff(a, b) {
  let cases = 0, frames = 0, total = 0, app = 0, appTotal = 0;
  const samples = [];
  for (const kind of Object.keys(a))
    for (const k of Object.keys(a[kind])) {
      const x = a[kind][k].split('\n'), y = (b[kind][k] || '').split('\n');
      total += x.length;
      appTotal += x.filter((l) => l.includes('/stack/')).length;
      if (a[kind][k] === b[kind][k]) continue;
      cases++;
      for (let i = 0; i < Math.max(x.length, y.length); i++)
        if (x[i] !== y[i]) {
          frames++;
          if (x[i]?.includes('/stack/')) app++;
          if (samples.length < 4) samples.push(`${kind}/${k}: ${x[i]}  ->  ${y[i]}`);
        }
    }
  return { cases, frames, total, app, appTotal, samples };
}

const ncases = Object.values(plain).reduce((n, c) => n + Object.keys(c).length, 0);
const results = {};
for (const mode of ['exact', 'sourcemap', 'off']) {
  const got = run({ HUD_ENABLE: '1', HUD_STATUS: 'off', HUD_STACK_MODE: mode });
  results[mode] = diff(plain, got);
  const d = results[mode];
  console.log(`HUD_STACK_MODE=${mode}: ${d.cases} of ${ncases} stacks differ (${d.frames} of ${d.total} lines; ${d.app} of ${d.appTotal} frames of the application's files)`);
  for (const s of d.samples) console.log(`  ${s}`);
}
// An application run with --enable-source-maps (its own maps, e.g. compiled TypeScript) keeps
// its stacks too: the frames are not mapped twice.
const withMaps = diff(run({}, ['--enable-source-maps']),
  run({ HUD_ENABLE: '1', HUD_STATUS: 'off' }, ['--enable-source-maps']));
console.log(`--enable-source-maps, HUD_STACK_MODE=exact: ${withMaps.cases} of ${ncases} stacks differ`);
for (const s of withMaps.samples) console.log(`  ${s}`);
assert.equal(withMaps.cases, 0, 'error.stack changes under the sensor with --enable-source-maps');
assert.ok(results.off.cases > 0, 'without mapping the stacks must differ, else this test proves nothing');
assert.equal(results.exact.cases, 0, 'error.stack changes under the sensor');
