// HUD_ENABLE unset (or false): the sensor loads nothing. Neither `node --import
// hud-sensor/register` nor NODE_OPTIONS nor init() loads the addon, installs `__hud`, hooks
// the CommonJS compiler, registers loader hooks or touches Error.prepareStackTrace; init()
// returns false after the same status line as the Python sensor.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { makeApp, node, lastJson } from './support.mjs';

const app = makeApp('disabled');
fs.writeFileSync(path.join(app, 'probe.cjs'), `
const path = require('node:path');
const Module = require('node:module');
const compile = Module.prototype._compile;
const ret = process.argv[2] === 'init' ? require('hud-sensor').init() : null;
const maps = require('node:fs').readFileSync('/proc/self/maps', 'utf8');
process.stdout.write(JSON.stringify({
  ret, hud: typeof globalThis.__hud, addon: maps.includes('hud_sensor.node'),
  compile: compile.name, // Node's is anonymous; the sensor's is hudCompile
  prepare: Object.getOwnPropertyDescriptor(Error, 'prepareStackTrace')?.value?.name ?? 'accessor',
  loaded: Object.keys(require.cache).filter((f) => f.includes('hud-sensor')).map((f) => path.basename(f)),
}) + '\\n');
`);

const cases = {
  '--import, unset': [['--import', 'hud-sensor/register', 'probe.cjs'], {}],
  'NODE_OPTIONS, HUD_ENABLE=0': [['probe.cjs'], { NODE_OPTIONS: '--import hud-sensor/register', HUD_ENABLE: '0' }],
  'init(), unset': [['probe.cjs', 'init'], {}],
  'init(), HUD_ENABLE=no': [['probe.cjs', 'init'], { HUD_ENABLE: 'no' }],
};
for (const [what, [args, extra]] of Object.entries(cases)) {
  const r = node(args, app, extra);
  const got = lastJson(r, what);
  assert.equal(got.hud, 'undefined', `${what}: __hud installed`);
  assert.equal(got.addon, false, `${what}: addon loaded`);
  assert.equal(got.compile, '', `${what}: Module.prototype._compile replaced`);
  assert.equal(got.prepare, 'ErrorPrepareStackTrace', `${what}: Error.prepareStackTrace replaced`);
  assert.ok(got.loaded.every((f) => f === 'index.js' || f === 'config.js'), `${what}: loaded ${got.loaded}`);
  if (got.ret !== null) assert.equal(got.ret, false, `${what}: init() returned ${got.ret}`);
  assert.match(r.stdout, /^hud: HUD_ENABLE is not set: sensor disabled, nothing instrumented$/m, what);
}
// The same probe with the sensor on sees all of it (so the checks above can fail).
const on = lastJson(node(['--import', 'hud-sensor/register', 'probe.cjs'], app, { HUD_ENABLE: '1' }), 'enabled');
assert.deepEqual([on.hud, on.addon, on.compile, on.prepare], ['object', true, 'hudCompile', 'accessor']);
console.log(`disabled: ${Object.keys(cases).length} ways, nothing loaded; enabled: addon, hooks and __hud present`);
