// What code does is the same with and without the sensor where the rewrite could change it, in
// CommonJS and ES modules (fixtures/semantics.cjs; cases found by running test262's language
// tests under the sensor):
// - a function declared in a nested block replaces a function of the same name declared by the
//   function itself (Annex B.3.3), which `try {}` around the body would stop;
// - `for await` reads the iterator's `return` only when the loop closes;
// - `return` and `yield` take no operand across a line terminator (a lone CR, U+2028, a comment
//   holding a line break), which the grammar does not always see;
// - error.stack formats while the application has deleted the array iterator (the sensor's
//   frame mapping used for-of and spread calls), put an index setter on Array.prototype (its
//   pushes lost frames) or a length getter on typed arrays; a module loads and error.stack
//   formats while a builtin the sensor calls there is deleted;
// - sources V8 rejects stay rejected with V8's message: a parameter declared again by `let`
//   (inside `try {}` it would compile), a `yield` as an operand (in __hud.v()'s parentheses it
//   would), an arrow whose body starts with `{ } =`, `yield` then `*` on the next line.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { makeApp, node, lastJson } from './support.mjs';

const app = makeApp('semantics');
const write = (f, text) => fs.writeFileSync(path.join(app, f), text);
write('semantics_lines.cjs', [
  'function cr() { return\r1; }',
  'function ls() { return\u20282; }',
  'function* yc() { yield /*\n*/ 3; }',
  'function* ycr() { yield\r4; yield 5; }',
  'module.exports = () => [cr(), ls(), [...yc()], [...ycr()]];',
  ''].join('\n'));
write('early_param.cjs', 'function f(a) { let a; }\n');
write('early_param.mjs', 'export default function (a) { const a = 1; }\n');
write('early_yield.cjs', 'function* g() { return yield.x; }\n');
write('early_yield.mjs', 'export function* g() { yield 3 + yield 4; }\n');
write('early_arrow.mjs', 'export const f = () => {} = 1;\n');
write('early_yieldstar.mjs', 'export function* g() {\n  yield\n  * 1;\n}\n');

const run = (extra) => lastJson(node(['--import', 'hud-sensor/register', 'semantics.cjs'], app, extra), JSON.stringify(extra));
const plain = run({});
const hud = run({ HUD_ENABLE: '1', HUD_STATUS: 'off' });
assert.equal(hud.instrumented, true, 'the fixture was not instrumented');
assert.equal(plain.instrumented, false);
const names = Object.keys(plain.cases);
const differ = names.filter((k) => JSON.stringify(plain.cases[k]) !== JSON.stringify(hud.cases[k]));
for (const k of differ) console.log(`  ${k}:\n    plain: ${JSON.stringify(plain.cases[k])}\n    hud:   ${JSON.stringify(hud.cases[k])}`);
console.log(`sensor_node_semantics: ${names.length - differ.length} of ${names.length} cases the same with the sensor`);
// The cases mean something: the early ones fail without the sensor.
for (const f of names.filter((k) => k.startsWith('early_'))) assert.match(plain.cases[f], /^SyntaxError: /, f);
assert.deepEqual(differ, []);
