// Node's behaviour unchanged: a real npm package's own test suite (qs 6.13.0, whose tarball
// ships its tape tests: parse, stringify, utils, thousands of assertions, errors thrown and
// caught, getters, prototypes, Symbols, Buffers) runs without and with the sensor, qs itself
// instrumented through HUD_INCLUDE_MODULES. The TAP output must be identical line for line and
// both runs must pass; a probe checks that qs's functions really ran instrumented. The backend
// is a closed loopback port, so the sensor's sending fails all along. Installed by `npm ci`
// from suite/package-lock.json into the build tree; skipped (77) without npm.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { node, npmInstall } from './support.mjs';

const dir = npmInstall('suite', { link: true });

const tests = fs.readdirSync(path.join(dir, 'node_modules', 'qs', 'test'))
  .filter((f) => f.endsWith('.js') && f !== 'empty-keys-cases.js').sort()
  .map((f) => path.join('node_modules', 'qs', 'test', f));
const tape = path.join('node_modules', 'tape', 'bin', 'tape');
const SENSOR = {
  HUD_ENABLE: '1', HUD_INCLUDE_MODULES: 'qs', HUD_ROOT: dir, HUD_STATUS: 'stderr',
  HUD_URL: 'http://127.0.0.1:9', HUD_KEY: 'suite', HUD_SERVICE: 'suite',
};

const plain = node([tape, ...tests], dir);
const hud = node(['--import', 'hud-sensor/register', tape, ...tests], dir, SENSOR);
const summary = (r) => r.stdout.split('\n').filter((l) => /^# (tests|pass|fail)/.test(l)).join(', ');
assert.equal(plain.status, 0, `qs's suite fails without the sensor:\n${plain.stdout.slice(-2000)}`);
assert.match(plain.stdout, /^# fail +0$|^# ok$/m);
const asserts = Number((plain.stdout.match(/^# tests +(\d+)/m) || [])[1]);
assert.ok(asserts > 500, `qs's suite ran only ${asserts} assertions`);
const a = plain.stdout.split('\n'), b = hud.stdout.split('\n');
const first = a.findIndex((l, k) => l !== b[k]);
assert.equal(first === -1 && a.length === b.length, true,
  `TAP output differs with the sensor at line ${first + 1}:\n  plain: ${a[first]}\n  hud:   ${b[first]}\n` +
  `status ${hud.status}, stderr:\n${hud.stderr.slice(-2000)}`);
assert.equal(hud.status, 0, `qs's suite fails with the sensor:\n${hud.stderr.slice(-2000)}`);

// The same process set-up really instrumented qs: its functions carry the enter/exit pair (in
// V8's own text: another context's toString, as the sensor's gives the source's text).
const probe = node(['--import', 'hud-sensor/register', '-e',
  "const qs = require('qs'); const text = require('node:vm').runInNewContext('Function.prototype.toString');" +
  "console.log(JSON.stringify({ parse: text.call(qs.parse).includes('__hud'), " +
  "stringify: text.call(qs.stringify).includes('__hud'), out: qs.stringify(qs.parse('a[b][]=1&a[b][]=2')) }))"],
dir, SENSOR);
assert.equal(probe.status, 0, probe.stderr);
const p = JSON.parse(probe.stdout.trim().split('\n').pop());
assert.deepEqual(p, { parse: true, stringify: true, out: 'a%5Bb%5D%5B0%5D=1&a%5Bb%5D%5B1%5D=2' });
console.log(`sensor_node_suite: qs ${tests.length} test files, ${summary(plain)}: identical with the sensor`);
