// Function.prototype.toString() is the same with and without the sensor (fixtures/texts.cjs:
// every form the rewrite instruments, classes and their members, nested arrows, for await,
// a bound and a native function, toString's own text and its TypeError, Node's functions the
// sensor wraps: Module.prototype._compile and process.emit), and a function's text
// compiled again where no `__hud` exists (a fresh context, as a worker pool or a browser's
// page.evaluate() does) runs as without the sensor. Also checks that the functions really are
// instrumented (the sensor's hooks are in V8's text of them).
import assert from 'node:assert/strict';
import { makeApp, node, lastJson } from './support.mjs';

const app = makeApp('texts');
const run = (extra) => lastJson(node(['--import', 'hud-sensor/register', 'texts.cjs'], app, extra), JSON.stringify(extra));
const plain = run({});
const hud = run({ HUD_ENABLE: '1', HUD_STATUS: 'off' });
assert.equal(plain.sensor, 'undefined');
assert.equal(hud.sensor, 'object', 'the sensor did not load');

const names = Object.keys(plain.texts);
const differ = names.filter((k) => plain.texts[k] !== hud.texts[k]);
for (const k of differ.slice(0, 5)) console.log(`  ${k}:\n    plain: ${plain.texts[k]}\n    hud:   ${hud.texts[k]}`);
console.log(`sensor_node_texts: ${names.length - differ.length} of ${names.length} functions' texts identical; ` +
  `${Object.keys(plain.runs).length} texts run again in a fresh context`);
assert.deepEqual(differ, [], 'toString() differs under the sensor');
assert.deepEqual(hud.runs, plain.runs);
assert.equal(hud.err, plain.err);

// The functions are instrumented: V8's own text of one has the hooks.
assert.equal(hud.raw, true, 'the fixture was not instrumented');
assert.equal(plain.raw, false);
