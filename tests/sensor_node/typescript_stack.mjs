// error.stack of compiled TypeScript (typescript/app/src/stack_cases.ts: methods of an
// abstract class, recursion, arrows, async functions, generators) is identical with and
// without the sensor in every tsc variant (CommonJS and ES modules, ES2020 and ES2015 with
// __awaiter, map files and inline maps), also under --enable-source-maps, where Node maps
// the frames to the .ts lines itself. HUD_STACK_MODE=off must differ (so this test can fail).
import assert from 'node:assert/strict';
import path from 'node:path';
import { node, lastJson } from './support.mjs';
import { APP, RUN_STACKS as RUN, haveNpm } from './ts_support.mjs';

if (!haveNpm()) process.exit(77);
const SENSOR = { HUD_ENABLE: '1', HUD_STATUS: 'off' };
const run = (v, extra, flags = []) =>
  lastJson(node([...flags, '--import', 'hud-sensor/register', path.join(v, 'stack_main.js')], APP, extra), `${v} ${JSON.stringify(extra)} ${flags}`);

function differing(a, b) {
  const out = [];
  for (const k of Object.keys(a)) if (a[k] !== b[k]) out.push(`${k}:\n${a[k]}\n  ->\n${b[k]}`);
  return out;
}

let cases = 0;
for (const v of RUN) {
  const plain = run(v, {});
  assert.equal(Object.keys(plain).length, 5);
  assert.deepEqual(differing(plain, run(v, SENSOR)), [], `${v}: error.stack changes under the sensor`);
  assert.ok(differing(plain, run(v, { ...SENSOR, HUD_STACK_MODE: 'off' })).length > 0, `${v}: "off" must differ`);
  const mapped = run(v, {}, ['--enable-source-maps']);
  assert.match(mapped.depth, /src\/stack_cases\.ts:\d+:\d+/, `${v}: Node maps the frames to the .ts source`);
  assert.deepEqual(differing(mapped, run(v, SENSOR, ['--enable-source-maps'])), [],
    `${v}: error.stack changes under the sensor with --enable-source-maps`);
  cases += Object.keys(plain).length;
}
console.log(`typescript stacks: ${RUN.length} variants, ${cases} stacks, each with and without ` +
  '--enable-source-maps: identical with the sensor');
