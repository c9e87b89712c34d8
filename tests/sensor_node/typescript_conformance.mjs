// Identity conformance for compiled TypeScript. For every compiled .js file of the fixture
// project (typescript/app in every tsc variant of ts_support.mjs) and of rxjs (which ships its
// .ts sources with dist/cjs (ES5), dist/esm5 and dist/esm (ES2015) and their source maps),
// the functions the sensor enters (lib/tsmap.js: the .ts function each compiled function is
// matched to) and `hud-index` over the .ts sources must name the same functions:
// agreement = identical (module_path, qualname, function_id, start_line, end_line) entries
// over all entries of either side, per .ts file a map names; the goal is >= 99.9%. Compiled
// functions left out (tsc's helpers, IIFEs of enums, namespaces and ES5 classes) are counted.
// A map whose .ts file is gone is read from its sourcesContent. Then a real rxjs pipeline
// runs under the sensor with node_modules included: its answer is unchanged and every
// function that counted a call is an rxjs .ts function hud-index reported.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { PKG, node, lastJson } from './support.mjs';
import { APP, NM, VARIANTS, haveNpm } from './ts_support.mjs';

if (!haveNpm()) process.exit(77);
const require = createRequire(path.join(PKG, 'index.js'));
const { native, rewrite, stats } = require('./lib/instrument.js');
const tsmap = require('./lib/tsmap.js');

// hud-index over DIRS with ROOT: module_path -> [entries].
function index(root, dirs) {
  const r = spawnSync(process.env.HUD_INDEX_BIN, ['--root', root, '--no-gitignore', '-j', '2', ...dirs],
    { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, r.stderr);
  const out = new Map();
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const f = JSON.parse(line);
    if (!tsmap.TS.test(f.file)) continue;
    if (!out.has(f.module_path)) out.set(f.module_path, []);
    out.get(f.module_path).push(`${f.module_path}|${f.qualname}|${f.function_id}|${f.start_line}|${f.end_line}`);
  }
  return out;
}

function jsFiles(d, out = []) {
  for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, e.name);
    if (e.isDirectory() && e.name !== 'node_modules') jsFiles(p, out);
    else if (e.isFile() && /\.(c|m)?js$/.test(e.name)) out.push(p);
  }
  return out;
}

// tsc renames a function whose name is taken in the emitted scope (name_1); ES5 accessors are
// the `get`/`set` functions of Object.defineProperty.
function lastName(q) {
  const n = q.slice(q.lastIndexOf('.') + 1).replace(/^(get|set) /, '').replace(/_\d+$/, '');
  return n === '<anonymous>' || n === 'get' || n === 'set' ? null : n;
}

// Compares the sensor's entries for the compiled files FILES with IDX (module_path -> entries).
function compare(what, files, idx) {
  const s = { files: 0, same: 0, onlySensor: 0, onlyIndex: 0, left: 0, js: 0, named: 0, misnamed: 0, samples: [] };
  const seen = new Map(); // module_path -> remaining hud-index entries (multiset)
  for (const file of files) {
    const src = fs.readFileSync(file, 'utf8');
    // The whole rewrite too: no module may fail (stats.failed, checked at the end).
    rewrite(src, file, file, `file://${file}`, { include: [], exclude: [] });
    const p = tsmap.plan(native, src, file, {});
    if (!p) continue;
    s.files++;
    const part = p.parts[0];
    if (!seen.has(part.mod)) {
      const m = new Map();
      for (const k of idx.get(part.mod) || []) m.set(k, (m.get(k) || 0) + 1);
      seen.set(part.mod, m);
    }
    const rest = seen.get(part.mod);
    const f = part.fns;
    s.js += p.slots.length;
    p.slots.forEach((m, k) => {
      if (m < 0) {
        s.left++;
        return;
      }
      // A pairing check: a compiled function and its .ts function, both named, have one name
      // (the last part of the qualname; ES5 names methods Class.prototype.name).
      const a = lastName(p.js.names[k]), b = lastName(f.names[m]);
      if (a && b && b !== 'constructor') {
        s.named++;
        if (a !== b) {
          s.misnamed++;
          if (s.samples.length < 10) s.samples.push(`paired ${p.js.names[k]} with ${f.names[m]} (${path.basename(file)})`);
        }
      }
      const e = `${part.mod}|${f.names[m]}|${f.ids[m]}|${f.startLines[m]}|${f.endLines[m]}`;
      if (rest.get(e)) {
        s.same++;
        rest.set(e, rest.get(e) - 1);
      } else {
        s.onlySensor++;
        if (s.samples.length < 5) s.samples.push(`sensor only: ${e} (${path.basename(file)})`);
      }
    });
  }
  for (const rest of seen.values())
    for (const [k, n] of rest) {
      s.onlyIndex += n;
      if (n && s.samples.length < 10) s.samples.push(`hud-index only: ${k}`);
    }
  const agreement = s.same / (s.same + s.onlyIndex + s.onlySensor);
  console.log(`${what}: ${s.files} compiled files, ${s.same} .ts functions named alike, ${s.onlySensor} only by the ` +
    `sensor, ${s.onlyIndex} only by hud-index: agreement ${(100 * agreement).toFixed(3)}%; ` +
    `${s.left} of ${s.js} compiled functions have no .ts counterpart (helpers, IIFEs); ` +
    `${s.misnamed} of ${s.named} named pairs differ in name`);
  for (const x of s.samples) console.log(`  ${x}`);
  return { ...s, agreement };
}

const results = [];
const appIdx = index(APP, [path.join(APP, 'src')]);
for (const v of Object.keys(VARIANTS)) results.push(compare(`fixture ${v}`, jsFiles(path.join(APP, v)), appIdx));

// sourcesContent: the .ts file of a map is gone.
const gone = path.join(APP, 'gone'), detached = path.join(APP, 'detached');
fs.rmSync(gone, { recursive: true, force: true });
fs.rmSync(detached, { recursive: true, force: true });
fs.mkdirSync(gone);
fs.mkdirSync(detached);
const shapes = fs.readFileSync(path.join(APP, 'src', 'shapes.ts'), 'utf8');
fs.writeFileSync(path.join(gone, 'shapes.ts'), shapes);
const goneIdx = index(APP, [gone]);
fs.rmSync(gone, { recursive: true });
const map = JSON.parse(fs.readFileSync(path.join(APP, 'cjs2015', 'shapes.js.map'), 'utf8'));
map.sources = ['../gone/shapes.ts'];
map.sourcesContent = [shapes];
fs.writeFileSync(path.join(detached, 'shapes.js.map'), JSON.stringify(map));
fs.copyFileSync(path.join(APP, 'cjs2015', 'shapes.js'), path.join(detached, 'shapes.js'));
const d = compare('fixture, .ts gone (sourcesContent)', [path.join(detached, 'shapes.js')], goneIdx);
assert.ok(d.files === 1 && d.same > 10, 'the map\'s sourcesContent is used');
results.push(d);

// A .ts file edited since it was compiled (three lines added at the top): the map's
// sourcesContent is what was compiled, so the functions still pair with their own.
const stale = path.join(APP, 'stale');
fs.rmSync(stale, { recursive: true, force: true });
fs.mkdirSync(path.join(stale, 'src'), { recursive: true });
fs.mkdirSync(path.join(stale, 'out'));
fs.writeFileSync(path.join(stale, 'src', 'shapes.ts'), shapes);
const staleIdx = index(APP, [path.join(stale, 'src')]);
fs.writeFileSync(path.join(stale, 'src', 'shapes.ts'), `// edited\n// since\n// compiled\n${shapes}`);
const inl = fs.readFileSync(path.join(APP, 'inline', 'shapes.js'), 'utf8');
fs.writeFileSync(path.join(stale, 'out', 'shapes.js'), inl);
const st = compare('fixture, .ts edited since (sourcesContent)', [path.join(stale, 'out', 'shapes.js')], staleIdx);
assert.ok(st.files === 1 && st.same > 10, 'the compiled text pairs by the map\'s sourcesContent');
results.push(st);
// Without sourcesContent the positions are the edited file's: functions may go unpaired, but
// none may pair with a function of another name.
const noContent = JSON.parse(fs.readFileSync(path.join(APP, 'cjs2020', 'shapes.js.map'), 'utf8'));
fs.writeFileSync(path.join(stale, 'out', 'plain.js'), fs.readFileSync(path.join(APP, 'cjs2020', 'shapes.js'), 'utf8')
  .replace(/sourceMappingURL=.*/, 'sourceMappingURL=plain.js.map'));
fs.writeFileSync(path.join(stale, 'out', 'plain.js.map'), JSON.stringify(noContent));
const sp = compare('fixture, .ts edited since, no sourcesContent', [path.join(stale, 'out', 'plain.js')], staleIdx);
assert.equal(sp.misnamed, 0, 'a stale .ts paired functions of other names');

// Bad maps: a module whose map cannot be used keeps its own identity and is still
// instrumented; one that maps none of its functions (all are the compiler's) is left as it is;
// nothing throws.
const bad = path.join(APP, 'badmaps');
fs.rmSync(bad, { recursive: true, force: true });
fs.mkdirSync(bad);
const js = fs.readFileSync(path.join(APP, 'cjs2020', 'shapes.js'), 'utf8').replace(/\/\/# sourceMappingURL=.*\s*$/, '');
const good = JSON.parse(fs.readFileSync(path.join(APP, 'cjs2020', 'shapes.js.map'), 'utf8'));
const b64 = (o) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString('base64');
const badMaps = {
  'not JSON': 'data:application/json;base64,' + b64('{"version": 3, "sources": ['),
  'bad VLQ': 'data:application/json;base64,' + b64({ ...good, sources: ['../src/shapes.ts'], mappings: 'AAAA,!!!;' }),
  'VLQ overflow': 'data:application/json;base64,' + b64({ ...good, sources: ['../src/shapes.ts'], mappings: 'gggggggggggggggB' }),
  'version 2': 'data:application/json;base64,' + b64({ ...good, version: 2 }),
  'missing .ts, no sourcesContent': 'data:application/json;base64,' + b64({ ...good, sources: ['../nowhere/shapes.ts'] }),
  'two .ts sources': 'data:application/json;base64,' + b64({ ...good, sources: ['../src/shapes.ts', '../src/widget.tsx'] }),
  'webpack:// source': 'data:application/json;base64,' + b64({ ...good, sources: ['webpack://app/./src/shapes.ts'], sourcesContent: [shapes] }),
  'map file missing': 'shapes.js.map',
  'bad data URL': 'data:application/json;base64',
  'mappings past the end': 'data:application/json;base64,' + b64({ ...good, sources: ['../src/shapes.ts'], mappings: ';'.repeat(5000) + 'AAAA' }),
};
let badOk = 0;
for (const [what, url] of Object.entries(badMaps)) {
  const file = path.join(bad, `${what.replace(/\W+/g, '_')}.js`);
  const src = `${js}//# sourceMappingURL=${url}\n`;
  fs.writeFileSync(file, src);
  const p = tsmap.plan(native, src, file, {});
  const code = rewrite(src, file, file, `file://${file}`, { include: [], exclude: [] });
  if (what === 'mappings past the end') {
    assert.ok(p.slots.every((m) => m < 0), what);
    assert.equal(code, null, `${what}: left as it is`);
  } else {
    assert.equal(p, null, `${what}: no TypeScript identity`);
    assert.ok(code && code.includes('__hud.enter('), `${what}: the module is still instrumented`);
  }
  badOk++;
}
console.log(`bad maps: ${badOk} kinds, none throws; unusable maps leave the module under its own identity`);

// rxjs: its .ts sources under src/, module paths relative to the package.
const rx = path.join(NM, 'rxjs');
const rxIdx = index(rx, [path.join(rx, 'src')]);
for (const flavour of ['cjs', 'esm5', 'esm'])
  results.push(compare(`rxjs dist/${flavour}`, jsFiles(path.join(rx, 'dist', flavour)), rxIdx));

const same = results.reduce((n, r) => n + r.same, 0);
const all = results.reduce((n, r) => n + r.same + r.onlySensor + r.onlyIndex, 0);
console.log(`typescript identity overall: ${same} of ${all} agree: ${(100 * same / all).toFixed(3)}%`);

// A real rxjs pipeline with and without the sensor (rxjs included).
const app = path.join(APP, 'rx.cjs');
fs.writeFileSync(app, `
const { from, lastValueFrom } = require('rxjs');
const { map, filter, reduce } = require('rxjs/operators');
lastValueFrom(from([1, 2, 3, 4, 5]).pipe(map((v) => v * 3), filter((v) => v % 2 === 1), reduce((a, v) => a + v, 0)))
  .then((sum) => {
    const counts = globalThis.__hud ? globalThis.__hud.counts() : null;
    process.stdout.write(JSON.stringify({ sum, counts }) + '\\n');
  });
`);
const plain = lastJson(node([app], APP), 'rxjs without the sensor');
const got = lastJson(node(['--import', 'hud-sensor/register', app], APP,
  { HUD_ENABLE: '1', HUD_STATUS: 'off', HUD_INCLUDE_MODULES: 'rxjs' }), 'rxjs with the sensor');
assert.equal(plain.sum, 27);
assert.equal(got.sum, plain.sum, 'the answer changed');
const rxIds = new Set([...rxIdx.values()].flat().map((k) => k.split('|')[2]));
const called = Object.entries(got.counts).filter(([, c]) => c.calls > 0 && c.module_path !== 'rx.cjs');
const unknown = called.filter(([id, c]) => !rxIds.has(id) || !c.module_path.startsWith('src/'));
console.log(`rxjs pipeline: answer unchanged; ${called.length} rxjs functions counted calls, ` +
  `${unknown.length} of them not a .ts function hud-index reported`);
for (const [id, c] of unknown.slice(0, 5)) console.log(`  unknown: ${c.module_path}:${c.name} ${id}`);
assert.ok(called.length > 20, 'rxjs functions were counted');
assert.equal(unknown.length, 0);
console.log(`rewrite: ${stats.modules} modules instrumented (${stats.typescript} under a .ts identity), ` +
  `${stats.skipped} without functions to count, ${stats.failed} failed`);
assert.equal(stats.failed, 0, 'modules whose rewrite failed');
for (const r of results) {
  assert.ok(r.agreement >= 0.999, `agreement ${r.agreement} below 99.9%`);
  assert.ok(r.misnamed <= r.named / 1000, `${r.misnamed} of ${r.named} pairs differ in name`);
}
