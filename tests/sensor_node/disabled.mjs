// HUD_ENABLE unset (or false): the sensor loads nothing. Neither `node --import
// hud-sensor/register` nor NODE_OPTIONS nor init() loads the addon, installs `__hud`, hooks
// the CommonJS compiler, registers loader hooks or touches Error.prepareStackTrace; init()
// returns false after the same status line as the Python sensor.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PKG, makeApp, node, lastJson } from './support.mjs';

const app = makeApp('disabled');
fs.writeFileSync(path.join(app, 'probe.cjs'), `
const path = require('node:path');
const Module = require('node:module');
const compile = Module.prototype._compile;
const ret = process.argv[2] === 'init' ? require('hud-sensor').init() : null;
const maps = require('node:fs').readFileSync('/proc/self/maps', 'utf8');
process.stdout.write(JSON.stringify({
  ret, hud: typeof globalThis.__hud, addon: maps.includes('hud_sensor.node'),
  // Node's is anonymous; the sensor's is hudCompile in V8's own text (another context's
  // toString: the sensor's gives Node's text, and its name is Node's).
  compile: /function hudCompile/.test(require('node:vm').runInNewContext('Function.prototype.toString').call(compile)) ? 'hudCompile' : compile.name,
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

// A second copy of the package in the same process (the application's own dependency, started
// by init() under --import of the first) stays off: each call is counted once, by the first.
fs.cpSync(PKG, path.join(app, 'node_modules', 'hud-sensor-copy'), { recursive: true, dereference: true });
fs.writeFileSync(path.join(app, 'two.cjs'), `
const ret = require('hud-sensor-copy').init();
const { f } = require('./two_mod.cjs');
for (let i = 0; i < 5; i++) f(i);
const calls = Object.values(globalThis.__hud.counts()).filter((c) => c.name === 'f').map((c) => c.calls);
process.stdout.write(JSON.stringify({ ret, calls }) + '\\n');
`);
fs.writeFileSync(path.join(app, 'two_mod.cjs'), 'function f(i) { return i * 2 }\nmodule.exports = { f };\n');
const twoRun = node(['--import', 'hud-sensor/register', 'two.cjs'], app, { HUD_ENABLE: '1' });
const two = lastJson(twoRun, 'two copies');
assert.deepEqual(two, { ret: false, calls: [5] }, 'a second copy of the sensor');
assert.match(twoRun.stdout, /^hud: another copy of the sensor runs in this process: this one stays off$/m, 'two copies');
console.log(`disabled: ${Object.keys(cases).length} ways, nothing loaded; enabled: addon, hooks and __hud present; a second copy stays off`);
