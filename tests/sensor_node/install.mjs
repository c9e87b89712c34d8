// The package as users get it: `npm pack` of the built package, `npm install` of the tarball into
// a fresh application (offline: no dependencies to fetch), then the application under the
// sensor through the installed copy (`--import hud-sensor/register`, and `init()` from the
// entry file): exact counts, with nothing of the build tree in the way. Skipped (77) without npm.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PKG, OUT, node, lastJson } from './support.mjs';

const npm = (args, cwd) => spawnSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'],
  { cwd, encoding: 'utf8', timeout: 120000, env: { ...process.env, npm_config_cache: path.join(OUT, 'install', 'npm-cache') } });
if (spawnSync('npm', ['--version']).status !== 0) process.exit(77);
const here = path.dirname(new URL(import.meta.url).pathname);
const dir = path.join(OUT, 'install');
fs.rmSync(dir, { recursive: true, force: true });
fs.mkdirSync(path.join(dir, 'app'), { recursive: true });

// The tarball: the package's files and the addon.
const packed = npm(['pack', PKG, '--pack-destination', dir], dir);
assert.equal(packed.status, 0, packed.stderr);
const tgz = path.join(dir, packed.stdout.trim().split('\n').pop());
assert.ok(fs.existsSync(tgz), `npm pack made no ${tgz}`);
const list = spawnSync('tar', ['tzf', tgz], { encoding: 'utf8' }).stdout.split('\n');
for (const f of ['package.json', 'index.js', 'register.mjs', 'register.cjs', 'hooks.mjs', 'hud_sensor.node', 'lib/runtime.js'])
  assert.ok(list.includes(`package/${f}`), `${f} not in the tarball: ${list.join(' ')}`);

// A fresh application installs it offline and runs the ground-truth workload under it.
const app = path.join(dir, 'app');
fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'shop', version: '1.0.0', private: true }));
for (const f of ['workload.cjs', 'ground_truth_driver.cjs', 'expected.json'])
  fs.copyFileSync(path.join(here, 'fixtures', f), path.join(app, f));
const inst = npm(['install', '--offline', tgz], app);
assert.equal(inst.status, 0, inst.stderr);
const installed = path.join(app, 'node_modules', 'hud-sensor');
assert.ok(!fs.lstatSync(installed).isSymbolicLink() && fs.existsSync(path.join(installed, 'hud_sensor.node')), 'a copy, with the addon');
assert.equal(JSON.parse(fs.readFileSync(path.join(app, 'package.json'), 'utf8')).dependencies['hud-sensor'].startsWith('file:'), true);

const expected = JSON.parse(fs.readFileSync(path.join(app, 'expected.json'), 'utf8'));
const plain = lastJson(node(['ground_truth_driver.cjs', 'workload.cjs'], app), 'plain');
for (const [way, args] of [['--import', ['--import', 'hud-sensor/register', 'ground_truth_driver.cjs', 'workload.cjs']],
  ['init()', ['ground_truth_driver.cjs', 'workload.cjs', 'init']]]) {
  const r = node(args, app, { HUD_ENABLE: '1', HUD_STATUS: 'stderr' });
  const got = lastJson(r, way);
  assert.match(r.stderr, /hud: sensor enabled/, way);
  assert.deepEqual(got.result, plain.result, `${way}: results`);
  const mine = {};
  for (const c of Object.values(got.counts)) if (c.module_path === 'workload.cjs') mine[c.name] = [c.calls, c.errors];
  assert.deepEqual(mine, expected, `${way}: counts through the installed package`);
}
// The build tree's package is not what ran.
const where = node(['-e', "console.log(require.resolve('hud-sensor'))"], app);
assert.equal(where.stdout.trim(), path.join(installed, 'index.js'));
console.log(`install: npm pack (${list.filter(Boolean).length} files) and npm install --offline of the tarball; ` +
  `the ground truth exact through the installed copy (--import and init())`);
