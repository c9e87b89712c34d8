// Identity conformance on real npm packages: express and lodash with all their dependencies,
// installed by `npm ci` from conformance/package-lock.json into the build tree. For every
// .js/.mjs/.cjs file of every package, the sensor's table (the addon, module_path as the
// sensor computes it at run time) and `hud-index --root <package>` must name the same
// functions: agreement = identical (module_path, qualname, function_id, start_line) entries
// over all entries of either side; the goal is >= 99.9%. Then a real Express app serving a
// lodash result runs under the sensor with node_modules included: its answer is unchanged and
// every function that counted a call has an id hud-index reported. The rewrite of every file must
// also be the source plus the insertions it lists, nothing else (stack traces and source maps
// are computed from them), and still compile; and with every insertion recognized by its text
// alone (lib/fntext.js, what Function.prototype.toString() gives), the source. Skipped (77)
// without npm.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { compare } from './coverage_compare.cjs';
import { PKG, node, lastJson, npmInstall, compiles } from './support.mjs';

const here = path.dirname(new URL(import.meta.url).pathname);
const INDEX = process.env.HUD_INDEX_BIN;
const dir = npmInstall('conformance');

const require = createRequire(path.join(PKG, 'index.js'));
const config = require('./lib/config.js');
const fntext = require('./lib/fntext.js');
const { native } = require('./lib/instrument.js');
const JS = /\.(c|m)?js$/;

// The files hud-index walks: no hidden directories, no nested node_modules.
function walk(d, out = []) {
  for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    const p = path.join(d, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile() && JS.test(e.name)) out.push(p);
  }
  return out;
}

const nm = path.join(dir, 'node_modules');
const packages = fs.readdirSync(nm).filter((n) => !n.startsWith('.'))
  .flatMap((n) => (n.startsWith('@') ? fs.readdirSync(path.join(nm, n)).map((m) => `${n}/${m}`) : [n]));
const indexIds = new Set();
let same = 0, onlyIndex = 0, onlySensor = 0, files = 0, broken = 0, instrumented = 0;
let compiled = 0, compileFailed = 0;
// T's code without the insertions it lists ((line, UTF-16 column, length) triples, in order).
function stripped(t) {
  const lines = t.code.split('\n');
  const ins = t.inserts;
  for (let k = ins.length - 3; k >= 0; k -= 3) {
    const [l, c, n] = [ins[k], ins[k + 1], ins[k + 2]];
    if (lines[l] === undefined || c + n > lines[l].length) return null;
    lines[l] = lines[l].slice(0, c) + lines[l].slice(c + n);
  }
  return lines.join('\n');
}
let strippedSame = 0, strippedDiffer = 0, textDiffer = 0;
const samples = [];
for (const p of packages) {
  const root = path.join(nm, p);
  const r = spawnSync(INDEX, ['--root', root, '--no-gitignore', '-j', '2', root], { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, `hud-index ${p}: ${r.stderr}`);
  const idx = new Map();
  for (const line of r.stdout.split('\n')) {
    if (!line) continue;
    const f = JSON.parse(line);
    if (!JS.test(f.file)) continue;
    indexIds.add(f.function_id);
    const k = `${p}|${f.module_path}|${f.qualname}|${f.function_id}|${f.start_line}`;
    idx.set(k, (idx.get(k) || 0) + 1);
  }
  for (const file of walk(root)) {
    files++;
    const src = fs.readFileSync(file, 'utf8');
    const mod = config.modulePath(file);
    const t = native.instrument(src, mod, pathToFileURL(file).href, 'javascript');
    if (t.parseErrors) broken++;
    instrumented += t.instrumented;
    if (stripped(t) === src) strippedSame++;
    else {
      strippedDiffer++;
      if (samples.length < 10) samples.push(`the rewrite is not the source plus its insertions: ${file}`);
    }
    // What Function.prototype.toString() gives of its functions: the same with the insertions
    // recognized by their text alone (lib/fntext.js).
    if (fntext.original(t.code) !== src) {
      textDiffer++;
      if (samples.length < 10) samples.push(`toString() would not give the source's text: ${file}`);
    }
    // Every rewritten CommonJS file must still compile (ES modules: the Express run below).
    if (t.instrumented && !file.endsWith('.mjs') && compiles(src)) {
      if (compiles(t.code)) compiled++;
      else {
        compileFailed++;
        if (samples.length < 10) samples.push(`rewritten text does not compile: ${file}`);
      }
    }
    for (let i = 0; i < t.ids.length; i++) {
      const k = `${p}|${mod}|${t.names[i]}|${t.ids[i]}|${t.startLines[i]}`;
      const n = idx.get(k) || 0;
      if (n > 0) {
        same++;
        idx.set(k, n - 1);
      } else {
        onlySensor++;
        if (samples.length < 5) samples.push(`sensor only: ${k}`);
      }
    }
  }
  for (const [k, n] of idx) {
    onlyIndex += n;
    if (n && samples.length < 10) samples.push(`hud-index only: ${k}`);
  }
}
const agreement = same / (same + onlyIndex + onlySensor);
console.log(`identity: ${packages.length} packages, ${files} files, ${same} functions named alike, ` +
  `${onlySensor} only by the sensor, ${onlyIndex} only by hud-index: agreement ${(100 * agreement).toFixed(3)}%`);
for (const s of samples) console.log(`  ${s}`);
console.log(`rewrite: ${instrumented} of ${same + onlySensor} functions instrumented; ${broken} files left ` +
  `as they are (tree-sitter reports a syntax error); ${compiled} rewritten files compile, ${compileFailed} do not; ` +
  `${strippedSame} files are their source plus the insertions listed, ${strippedDiffer} are not; ` +
  `the insertions recognized by their text: ${files - textDiffer} files give their source back, ${textDiffer} do not`);

// A real Express app serving a lodash result, with and without the sensor.
const app = path.join(dir, 'app.cjs');
fs.writeFileSync(app, `
const http = require('node:http');
const express = require('express');
const _ = require('lodash');
const server = express().get('/x', (req, res) => res.send(_.join(_.map([1, 2, 3], (v) => v * 2), '-')))
  .listen(0, '127.0.0.1', () => {
    http.get({ host: '127.0.0.1', port: server.address().port, path: '/x' }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d)).on('end', () => {
        server.close();
        const counts = globalThis.__hud ? require('hud-sensor').counts() : null;
        process.stdout.write(JSON.stringify({ status: res.statusCode, body, counts }) + '\\n');
      });
    });
  });
`);
fs.rmSync(path.join(nm, 'hud-sensor'), { force: true });
fs.symlinkSync(PKG, path.join(nm, 'hud-sensor'));
const plain = lastJson(node([app], dir), 'express without the sensor');
const run = node(['--import', 'hud-sensor/register', app], dir, { HUD_ENABLE: '1', HUD_STATUS: 'off', HUD_INCLUDE_MODULES: '*' });
const got = lastJson(run, 'express with the sensor');
fs.rmSync(path.join(nm, 'hud-sensor'), { force: true });
assert.deepEqual([got.status, got.body], [plain.status, plain.body], 'the answer changed');
assert.equal(plain.body, '2-4-6');
const called = Object.entries(got.counts).filter(([, c]) => c.calls > 0 && c.module_path !== 'app.cjs');
const unknown = called.filter(([id]) => !indexIds.has(id));
console.log(`express app: answer unchanged; ${called.length} functions of node_modules counted calls, ` +
  `${unknown.length} of them with an id hud-index did not report`);
for (const [id, c] of unknown.slice(0, 5)) console.log(`  unknown: ${c.module_path}:${c.name} ${id}`);
assert.ok(called.length > 50, 'express and lodash functions were counted');
assert.equal(unknown.length, 0);

// Exact counts on real code: the same kind of app with node_modules instrumented (HUD_ROOT at the
// app, so that every file's module path and every function's id is its own), V8's precise
// coverage (exact call counts per function, from the inspector in the same process) as the
// reference (coverage_probe.cjs, coverage_compare.cjs): every function compared has V8's count.
const exact = path.join(dir, 'exact.cjs');
fs.writeFileSync(exact, `
const http = require('node:http');
const express = require('express');
const _ = require('lodash');
const qs = require('qs');
const app = express();
app.use(express.json());
app.get('/sum/:n', (req, res) => res.json({ s: _.sum(_.map(_.filter(_.range(Number(req.params.n)), (x) => x % 3), (x) => x * 2)) }));
app.post('/group', (req, res) => res.json(_.mapValues(_.groupBy(req.body, 'g'), (v) => _.sortBy(v, 'k').length)));
app.get('/q', (req, res) => res.send(qs.stringify(qs.parse(req.url.split('?')[1]))));
app.get('/boom', () => { throw new Error('boom'); });
const server = app.listen(0, '127.0.0.1', async () => {
  const ask = (method, p, body) => new Promise((resolve) => {
    const r = http.request({ host: '127.0.0.1', port: server.address().port, method, path: p,
      headers: body ? { 'content-type': 'application/json' } : {} }, (res) => { res.resume(); res.on('end', resolve); });
    r.end(body);
  });
  // Past the sampling quota's first second (HUD_CPU_BUDGET below: few timed calls after it), so
  // that most calls take the untimed paths.
  const t0 = Date.now();
  for (let i = 0; i < 20 || Date.now() - t0 < 1500; i++) {
    _.sum(_.map(_.filter(_.range(i % 50), (x) => x % 3), (x) => x * 2));
    qs.parse('a[b][]=' + i + '&c=d');
  }
  for (let i = 0; i < 20; i++) {
    await ask('GET', '/sum/' + (10 + i));
    await ask('POST', '/group', JSON.stringify(_.times(8, (k) => ({ k: (k * 7) % 5, g: k % 3 }))));
    await ask('GET', '/q?a[b][]=' + i + '&c=d');
    if (i % 5 === 0) { await ask('GET', '/boom'); await ask('GET', '/nope'); }
  }
  server.close();
});
`);
fs.symlinkSync(PKG, path.join(nm, 'hud-sensor'));
const covFile = path.join(dir, 'coverage.json');
fs.rmSync(covFile, { force: true });
const exRun = node(['--require', path.join(here, 'coverage_probe.cjs'), '--import', 'hud-sensor/register', exact], dir,
  { HUD_ENABLE: '1', HUD_STATUS: 'off', HUD_INCLUDE_MODULES: '*', HUD_ROOT: dir, HUD_CPU_BUDGET: '1e-9', COVERAGE_PROBE_OUT: covFile });
fs.rmSync(path.join(nm, 'hud-sensor'), { force: true });
assert.equal(exRun.status, 0, `exact counts with the sensor: ${exRun.stderr.slice(-2000)}`);
const exact_ = compare(JSON.parse(fs.readFileSync(covFile, 'utf8')), {
  native, config, root: dir, keep: (file) => file.includes('/node_modules/') && !file.includes('/hud-sensor/'),
});
const [exactSame, exactCalled, exactWrong] = [exact_.same, exact_.called, exact_.wrong];
console.log(`exact counts: ${exactSame} functions of express, lodash and qs counted as V8's precise coverage ` +
  `counts them (${exactCalled} of them called), ${exactWrong.length} not`);
for (const w of exactWrong.slice(0, 10)) console.log(`  ${w}`);
assert.ok(exactCalled > 100, 'too few called functions compared');
assert.deepEqual(exactWrong, []);
assert.ok(agreement >= 0.999, `agreement ${agreement} below 99.9%`);
assert.equal(compileFailed, 0, 'rewritten files that no longer compile');
assert.equal(strippedDiffer, 0, 'rewritten files that are not their source plus the insertions listed');
assert.equal(textDiffer, 0, 'rewritten files whose insertions are not all recognized by their text');
