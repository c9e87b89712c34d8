// Ground truth for compiled TypeScript: the fixture project (typescript/app: classes,
// abstract classes, accessors, class fields, decorators, overloads, enums, namespaces,
// generators, async functions and generators, async arrows, TSX, a default export) compiled
// by tsc to CommonJS and ES modules, targets ES2020 and ES2015 (async downlevelled to
// __awaiter), source maps as files and inline. Run with the sensor, the calls and escaped
// exceptions per function must be exactly typescript/expected.json, keyed by the function_id
// hud-index gives the .ts function, with the .ts module_path and qualname; no function of
// the compiled .js files may appear; the program's results are those of the run without it;
// edges carry the .ts call-site lines.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { node, lastJson } from './support.mjs';
import { APP, NM, RUN, haveNpm } from './ts_support.mjs';

if (!haveNpm()) process.exit(77);
const here = path.dirname(new URL(import.meta.url).pathname);
const expected = JSON.parse(fs.readFileSync(path.join(here, 'typescript', 'expected.json'), 'utf8'));

// hud-index over the .ts sources: module_path|qualname -> function_id.
const r = spawnSync(process.env.HUD_INDEX_BIN, ['--root', APP, path.join(APP, 'src')], { encoding: 'utf8' });
assert.equal(r.status, 0, r.stderr);
const ids = new Map();
for (const line of r.stdout.split('\n').filter(Boolean)) {
  const f = JSON.parse(line);
  ids.set(`${f.module_path}|${f.qualname}`, f.function_id);
}
const want = {};
for (const [mod, fns] of Object.entries(expected))
  for (const [name, c] of Object.entries(fns)) {
    const id = ids.get(`${mod}|${name}`);
    assert.ok(id, `hud-index names ${mod} ${name}`);
    want[id] = { module_path: mod, name, calls: c[0], errors: c[1] };
  }

// callee<caller -> the .ts line of the edge's first call.
const tsLines = { 'apply<run': 64, 'add<apply': 27, 'makeAdder<run': 65, 'makeAdder.adder<run': 66,
  'risky<run': 70, 'later<run': 76, 'rejectsLater<run': 77, 'later<rejectsLater': 49 };
let n = 0;
for (const v of RUN) {
  const entry = path.join(v, 'main.js');
  const plain = lastJson(node([entry], APP), `${v} plain`);
  assert.equal(plain.counts, null);
  const got = lastJson(node(['--import', 'hud-sensor/register', entry], APP, { HUD_ENABLE: '1', HUD_STATUS: 'off' }), v);
  assert.deepEqual(got.result, plain.result, `${v}: the program's results change`);
  const counted = {};
  for (const [id, c] of Object.entries(got.counts)) {
    assert.match(c.module_path, /^src\/.*\.tsx?$/, `${v}: ${c.module_path} ${c.name} is not a .ts function`);
    if (c.calls || c.errors) counted[id] = { module_path: c.module_path, name: c.name, calls: c.calls, errors: c.errors };
  }
  assert.deepEqual(counted, want, `${v}: counts by .ts function_id`);
  // Call-site lines are the .ts file's (src/workload.ts), through the source map.
  const lines = {};
  for (const e of got.edges)
    if (e.module_path === 'src/workload.ts' && e.caller_module === 'src/workload.ts') lines[`${e.name}<${e.caller}`] = e.line;
  for (const [edge, line] of Object.entries(tsLines)) assert.equal(lines[edge], line, `${v}: call-site line of ${edge}`);
  n++;
}
// JavaScript bundles: the ground-truth workload (fixtures/workload.cjs) bundled with an entry of
// its own and rxjs, by esbuild (sources as paths; also minified) and by webpack (webpack:// URLs), counts under
// src/workload.cjs, exactly fixtures/expected.json; rxjs's functions are not instrumented.
const jsb = path.join(APP, 'jsbundle');
fs.rmSync(jsb, { recursive: true, force: true });
fs.mkdirSync(path.join(jsb, 'src'), { recursive: true });
fs.copyFileSync(path.join(here, 'fixtures', 'workload.cjs'), path.join(jsb, 'src', 'workload.cjs'));
fs.writeFileSync(path.join(jsb, 'src', 'entry.cjs'), "require('rxjs').of(1).subscribe(() => {});\n" +
  "require('./workload.cjs').main().then((result) => {\n" +
  "  const counts = globalThis.__hud ? globalThis.__hud.counts() : null;\n" +
  "  process.stdout.write(`${JSON.stringify({ result, counts })}\\n`);\n});\n");
for (const [out, extra] of [['esbuild', []], ['esbuild-min', ['--minify']]]) {
  const eb = spawnSync(path.join(NM, 'esbuild', 'bin', 'esbuild'), ['src/entry.cjs', '--bundle', '--platform=node', '--sourcemap',
    `--outfile=${out}/app.js`, '--log-level=warning', ...extra], { cwd: jsb, encoding: 'utf8', timeout: 60000 });
  assert.equal(eb.status, 0, eb.stderr);
}
const webpack = createRequire(path.join(NM, 'index.js'))('webpack');
await new Promise((resolve, reject) => webpack({ mode: 'none', target: 'node', context: jsb, entry: './src/entry.cjs',
  output: { path: path.join(jsb, 'webpack'), filename: 'app.js' }, devtool: 'source-map' },
(err, stats) => (err || stats.hasErrors() ? reject(err || new Error(stats.toString())) : resolve())));
const jsExpected = JSON.parse(fs.readFileSync(path.join(here, 'fixtures', 'expected.json'), 'utf8'));
for (const bundler of ['esbuild', 'esbuild-min', 'webpack']) {
  const entry = path.join(bundler, 'app.js');
  const jsPlain = lastJson(node([entry], jsb), `${bundler} bundle plain`);
  const jsGot = lastJson(node(['--import', 'hud-sensor/register', entry], jsb,
    { HUD_ENABLE: '1', HUD_STATUS: 'off', HUD_ROOT: jsb }), `${bundler} bundle`);
  assert.deepEqual(jsGot.result, jsPlain.result, `${bundler} bundle: the program's results change`);
  const jsCounts = {};
  for (const c of Object.values(jsGot.counts)) {
    assert.match(c.module_path, /^src\/(workload|entry)\.cjs$/, `${bundler} bundle: ${c.module_path} ${c.name}`);
    if (c.module_path === 'src/workload.cjs') jsCounts[c.name] = [c.calls, c.errors];
  }
  assert.deepEqual(jsCounts, jsExpected, `${bundler} bundle: counts under src/workload.cjs`);
}
console.log(`typescript ground truth: ${n} variants (${RUN.join(', ')}), ${Object.keys(want).length} .ts functions each, exact; ` +
  `JavaScript bundles by esbuild (also minified) and webpack: ${Object.keys(jsExpected).length} functions of their source file, exact`);
