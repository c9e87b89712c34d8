// Node's behaviour unchanged on large real programs instrumented whole through
// HUD_INCLUDE_MODULES (installed by the sensor_node_ts fixture):
// - TypeScript's own compiler (typescript 5.9.3, CommonJS, about 11,000 functions: a scanner of
//   comma expressions and fall-through switches, closures over shared state) type-checks and
//   emits a project of plain JavaScript (the sensor's own lib/*.js with checkJs: diagnostics,
//   .js, .d.ts and source maps): its diagnostics and every file it writes are those of a run
//   without the sensor, and its functions' calls are those V8's precise coverage counts;
// - terser (its ES modules, rewritten on the loader thread) minifies acorn with a source map:
//   the same code and map as without the sensor;
// - minified code: each file of webpack's lib/ minified by terser, then rewritten, still
//   compiles and gives its minified text back with the insertions recognized by their text
//   (lib/fntext.js, what toString() gives). Minified code puts tokens where written code has
//   spaces and line breaks (`return o.push(n),""}` lost its `,""` that way).
// The backend is a closed loopback port, so the sensor's sending fails all along.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { compare } from './coverage_compare.cjs';
import { PKG, OUT, node, compiles } from './support.mjs';
import { NM } from './ts_support.mjs';

const here = path.dirname(new URL(import.meta.url).pathname);

const dir = path.join(OUT, 'tsc');
fs.rmSync(dir, { recursive: true, force: true });
fs.mkdirSync(path.join(dir, 'proj'), { recursive: true });
fs.mkdirSync(path.join(dir, 'node_modules'));
fs.symlinkSync(PKG, path.join(dir, 'node_modules', 'hud-sensor'));
const lib = path.join(PKG, 'lib');
const inputs = fs.readdirSync(lib).filter((f) => f.endsWith('.js'));
for (const f of inputs) fs.copyFileSync(path.join(lib, f), path.join(dir, 'proj', f));
fs.writeFileSync(path.join(dir, 'proj', 'tsconfig.json'), JSON.stringify({
  compilerOptions: { allowJs: true, checkJs: true, declaration: true, sourceMap: true, target: 'es2022', module: 'commonjs', types: [] },
  include: ['*.js'],
}));
// The instrumented run reports how many of the compiler's functions the rewrite instrumented,
// and (coverage_probe.cjs) each one's calls as the sensor and as V8's precise coverage count them.
const probe = path.join(dir, 'probe.cjs');
const covFile = path.join(dir, 'coverage.json');
fs.writeFileSync(probe, `process.on('exit', () => process.stderr.write('HUDSTATS ' +
  JSON.stringify(require(${JSON.stringify(path.join(lib, 'instrument.js'))}).stats) + '\\n'));\n`);

const tsc = path.join(NM, 'typescript', 'bin', 'tsc');
const run = (name, args, env) => {
  const r = node([...args, tsc, '-p', 'proj', '--outDir', name], dir, env);
  assert.ok(r.status === 0 || r.status === 2, `tsc (${name}) exit ${r.status}:\n${r.stderr.slice(-2000)}`);
  return r;
};
const plain = run('plain', []);
const hud = run('hud', ['--require', probe, '--require', path.join(here, 'coverage_probe.cjs'), '--import', 'hud-sensor/register'], {
  HUD_ENABLE: '1', HUD_INCLUDE_MODULES: 'typescript', HUD_STATUS: 'stderr', HUD_KEY: 'tsc', HUD_SERVICE: 'tsc',
  COVERAGE_PROBE_OUT: covFile,
});

const diags = plain.stdout.split('\n').filter((l) => /error TS\d+/.test(l)).length;
assert.ok(diags > 10, `tsc reported only ${diags} diagnostics without the sensor:\n${plain.stdout}`);
const a = plain.stdout.split('\n'), b = hud.stdout.split('\n');
const first = a.findIndex((l, k) => l !== b[k]);
assert.ok(first === -1 && a.length === b.length,
  `tsc's diagnostics differ with the sensor at line ${first + 1}:\n  plain: ${a[first]}\n  hud:   ${b[first]}`);
assert.equal(hud.status, plain.status);

const files = fs.readdirSync(path.join(dir, 'plain')).sort();
assert.ok(files.length >= inputs.length * 3, `tsc wrote only ${files.join(', ')}`);
assert.deepEqual(fs.readdirSync(path.join(dir, 'hud')).sort(), files);
for (const f of files) {
  const x = fs.readFileSync(path.join(dir, 'plain', f), 'utf8'), y = fs.readFileSync(path.join(dir, 'hud', f), 'utf8');
  assert.ok(x === y, `${f} differs with the sensor`);
}

const line = hud.stderr.split('\n').find((l) => l.startsWith('HUDSTATS '));
assert.ok(line, `no stats from the instrumented run:\n${hud.stderr.slice(-2000)}`);
const stats = JSON.parse(line.slice(9));
assert.ok(stats.functions > 10000, `the compiler was not instrumented: ${line}`);
console.log(`sensor_node_programs: tsc with ${stats.functions} functions instrumented: ${diags} diagnostics and ` +
  `${files.length} files identical to a run without the sensor`);

// Its calls: every function of the compiler compared (coverage_compare.cjs) has V8's count.
const req = createRequire(path.join(PKG, 'index.js'));
const { native } = req('./lib/instrument.js');
const tscCalls = compare(JSON.parse(fs.readFileSync(covFile, 'utf8')), {
  native, config: req('./lib/config.js'), keep: (file) => file.endsWith('/typescript/lib/_tsc.js'),
});
const [counted, countedCalled, miscounted] = [tscCalls.same, tscCalls.called, tscCalls.wrong];
console.log(`sensor_node_programs: tsc's calls: ${counted} functions counted as V8's precise coverage counts them ` +
  `(${countedCalled} of them called), ${miscounted.length} not`);
for (const m of miscounted.slice(0, 10)) console.log(`  ${m}`);
assert.ok(countedCalled > 2000, 'too few of the compiler\'s functions compared');
assert.deepEqual(miscounted, []);

// terser through its ES modules. Its functions' counts show that they ran instrumented.
const input = path.join(NM, 'acorn', 'dist', 'acorn.js');
const minify = path.join(dir, 'minify.mjs');
fs.writeFileSync(minify, `
import fs from 'node:fs';
import { minify } from ${JSON.stringify(path.join(NM, 'terser', 'main.js'))};
const m = await minify(fs.readFileSync(${JSON.stringify(input)}, 'utf8'), { sourceMap: true, compress: { passes: 2 } });
const counts = globalThis.__hud ? Object.values((await import('hud-sensor')).default.counts())
  .filter((c) => c.module_path.startsWith('lib/') && c.calls > 0).length : 0;
process.stdout.write(JSON.stringify({ code: m.code, map: m.map, counts }) + '\\n');
`);
const p2 = JSON.parse(node([minify], dir).stdout);
const h2r = node(['--import', 'hud-sensor/register', minify], dir, {
  HUD_ENABLE: '1', HUD_INCLUDE_MODULES: 'terser', HUD_STATUS: 'off', HUD_KEY: 'tsc', HUD_SERVICE: 'terser',
});
assert.equal(h2r.status, 0, h2r.stderr.slice(-2000));
const h2 = JSON.parse(h2r.stdout);
assert.ok(p2.code.length > 50000, `terser's output is ${p2.code.length} bytes`);
assert.ok(p2.code === h2.code, 'terser\'s minified code differs with the sensor');
assert.ok(p2.map === h2.map, 'terser\'s source map differs with the sensor');
assert.ok(h2.counts > 100, `terser's ES modules were not instrumented (${h2.counts} functions counted)`);
console.log(`sensor_node_programs: terser (ES modules, ${h2.counts} functions counted) minified ${p2.code.length} ` +
  'bytes with its map identical to a run without the sensor');

// Minified code, rewritten (the addon and lib/fntext.js as the sensor uses them, in this process).
const fntext = req('./lib/fntext.js');
const { minify: terser } = await import(path.join(NM, 'terser', 'main.js'));
const sources = [];
const walk = (d) => {
  for (const e of fs.readdirSync(d, { withFileTypes: true }))
    if (e.isDirectory()) walk(path.join(d, e.name));
    else if (e.name.endsWith('.js')) sources.push(path.join(d, e.name));
};
walk(path.join(NM, 'webpack', 'lib'));
let minified = 0, mfns = 0, mbytes = 0;
const wrong = [];
for (const file of sources.sort()) {
  const code = (await terser(fs.readFileSync(file, 'utf8'), { compress: true, mangle: true })).code;
  if (!code || !compiles(code)) continue;
  const r = native.instrument(code, 'lib/x.js', 'file:///x.js', 'javascript');
  minified++;
  mfns += r.instrumented;
  mbytes += code.length;
  if (!compiles(r.code)) wrong.push(`${file}: the rewrite does not compile`);
  else if (fntext.original(r.code) !== code) wrong.push(`${file}: the insertions taken out by their text do not give it back`);
}
console.log(`sensor_node_programs: ${minified} files of webpack's lib/ minified (${mbytes} bytes, ${mfns} functions ` +
  `instrumented): ${minified - wrong.length} compile rewritten and give their text back, ${wrong.length} do not`);
for (const w of wrong.slice(0, 5)) console.log(`  ${w}`);
assert.ok(minified > 500 && mfns > 10000, 'too few minified files or functions');
assert.deepEqual(wrong, []);
