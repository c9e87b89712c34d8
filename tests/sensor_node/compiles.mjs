// Every file of real packages (compiles/package.json: React's development and production builds,
// graphql, date-fns, axios and Vue's compiler as CommonJS, ES modules and minified bundles)
// that V8 compiles still compiles once rewritten, as the kind of module V8 accepts it as, and
// gives its text back with the insertions recognized by their text (lib/fntext.js, what toString() gives).
// A rewrite that does not compile stops the module from loading (CommonJS falls back to the
// source, ES modules cannot). Found this way: a comment after a closing brace (`} // note.`,
// React, graphql) took in the function's close; a for-await body that is a `yield` statement
// (axios's minified ES module) closed in the wrong order; a function declaration sharing its name
// with a var (Vue's bundled promisify) clashed inside try {}. The other way, a file V8 rejects
// (test262-parser-tests' early errors and failures, as scripts or, for *.module.js, as modules)
// must not compile once rewritten: `try {` around a body would hide a parameter declared again by
// `let`, __hud.v()'s parentheses a `yield` used as an operand. Run with --experimental-vm-modules
// (vm.SourceTextModule compiles an ES module without running it). With a directory argument it
// checks every file below that directory instead (docs/HACKING.md), with the built package
// HUD_NODE_PKG.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PKG, compiles, npmInstall } from './support.mjs';

const arg = process.argv[2];
const dir = arg ? path.resolve(arg) : npmInstall('compiles');
const req = createRequire(path.join(PKG, 'index.js'));
const { native } = req('./lib/instrument.js');
const fntext = req('./lib/fntext.js');
const PROLOGUE = 'var __hud_b=__hud.table(__hud_t());';

const files = [];
const walk = (d) => {
  for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.isFile() && /\.(c|m)?js$/.test(e.name)) files.push(p);
  }
};
walk(arg ? dir : path.join(dir, 'node_modules'));

// The module kind Node gives FILE: .mjs, .cjs, else the nearest package.json's "type".
const types = new Map();
function packageType(d) {
  if (!types.has(d)) {
    const pj = path.join(d, 'package.json');
    types.set(d, fs.existsSync(pj) ? JSON.parse(fs.readFileSync(pj, 'utf8')).type || 'commonjs'
      : path.dirname(d) === d ? 'commonjs' : packageType(path.dirname(d)));
  }
  return types.get(d);
}
const parserTest = (f) => f.includes(`${path.sep}test262-parser-tests${path.sep}`);
const isModule = (f) => f.endsWith('.mjs') || (parserTest(f) ? f.endsWith('.module.js')
  : !f.endsWith('.cjs') && packageType(path.dirname(f)) === 'module');
let checked = 0, modules = 0, fns = 0, rejected = 0;
const wrong = [];
const instrument = (src) => native.instrument(src, 'lib/x.js', 'file:///x.js', 'javascript', PROLOGUE);
const compilesRewritten = (r, esm) => compiles(`${r.code}\n;function __hud_t(){}`, esm);
for (const file of files.sort()) {
  const src = fs.readFileSync(file, 'utf8'), own = isModule(file);
  const rel = path.relative(dir, file);
  if (!compiles(src, own)) {
    const r = instrument(src);
    if (r.instrumented) {
      rejected++;
      if (compilesRewritten(r, own)) wrong.push(`${rel}: the rewrite compiles, the source does not`);
    }
  }
  // Node's kind of module for the file, else the other one (an ES module for browsers and
  // bundlers shipped in a CommonJS package, e.g. Vue's *.esm-browser.js).
  const esm = [own, !own].find((k) => compiles(src, k));
  if (esm === undefined) continue;
  const r = instrument(src);
  if (!r.instrumented) continue;
  checked++;
  modules += esm;
  fns += r.instrumented;
  if (!compilesRewritten(r, esm)) wrong.push(`${rel}: the rewrite does not compile`);
  else if (![PROLOGUE, `;${PROLOGUE}`].some((p) => fntext.original(r.code).replace(p, '') === src))
    wrong.push(`${rel}: the insertions taken out by their text do not give it back`);
}
console.log(`sensor_node_compiles: ${checked} files rewritten (${modules} ES modules, ${fns} functions) and ` +
  `${rejected} that V8 rejects: ${wrong.length} wrong`);
for (const w of wrong.slice(0, arg ? wrong.length : 10)) console.log(`  ${w}`);
if (!arg) assert.ok(checked > 1500 && modules > 500 && fns > 25000 && rejected > 300, 'too few files, ES modules or functions');
assert.deepEqual(wrong, []);
