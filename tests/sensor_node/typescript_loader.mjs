// TypeScript run through a loader that compiles at load time: tsx (esbuild) runs the fixture
// project's .ts sources directly, as CommonJS (the sensor's hooks registered before or after
// tsx's) and as ES modules (tsx's first: the load hook registered last runs first, and the
// sensor's must see tsx's output); ts-node (a require hook) with the sensor preloaded by
// --require, in either order. The calls and escaped exceptions per function must be
// exactly typescript/expected.json keyed by hud-index's function_id of the .ts function, the
// program's results and error.stack those of the run without the sensor.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { node, lastJson } from './support.mjs';
import { APP, haveNpm } from './ts_support.mjs';

if (!haveNpm()) process.exit(77);
const here = path.dirname(new URL(import.meta.url).pathname);
const expected = JSON.parse(fs.readFileSync(path.join(here, 'typescript', 'expected.json'), 'utf8'));

// The ES module copy: the same sources under a package of "type": "module".
const esm = path.join(APP, 'esm');
fs.rmSync(esm, { recursive: true, force: true });
fs.mkdirSync(esm);
fs.cpSync(path.join(APP, 'src'), path.join(esm, 'src'), { recursive: true });
fs.copyFileSync(path.join(APP, 'tsconfig.json'), path.join(esm, 'tsconfig.json'));
fs.writeFileSync(path.join(esm, 'package.json'), '{"name": "app-esm", "private": true, "type": "module"}');
fs.symlinkSync(path.join(APP, 'node_modules'), path.join(esm, 'node_modules'));

function want(root) {
  const r = spawnSync(process.env.HUD_INDEX_BIN, ['--root', root, path.join(root, 'src')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const ids = new Map();
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const f = JSON.parse(line);
    ids.set(`${f.module_path}|${f.qualname}`, f.function_id);
  }
  const out = {};
  for (const [mod, fns] of Object.entries(expected))
    for (const [name, c] of Object.entries(fns))
      out[ids.get(`${mod}|${name}`)] = { module_path: mod, name, calls: c[0], errors: c[1] };
  return out;
}

const SENSOR = { HUD_ENABLE: '1', HUD_STATUS: 'off' };
// The same program without the sensor, then with it under FLAGS: results, counts by .ts
// function_id and error.stack.
function check(what, root, ids, plainFlags, flags, env = {}) {
  const plain = lastJson(node([...plainFlags, 'src/main.ts'], root, env), `${what} plain`);
  const plainStacks = lastJson(node([...plainFlags, 'src/stack_main.ts'], root, env), `${what} stacks plain`);
  assert.equal(plain.counts, null);
  const got = lastJson(node([...flags, 'src/main.ts'], root, { ...env, ...SENSOR }), what);
  assert.deepEqual(got.result, plain.result, `${what}: the program's results change`);
  const counted = {};
  for (const [id, c] of Object.entries(got.counts))
    if (c.calls || c.errors) counted[id] = { module_path: c.module_path, name: c.name, calls: c.calls, errors: c.errors };
  assert.deepEqual(counted, ids, `${what}: counts by .ts function_id`);
  const stacks = lastJson(node([...flags, 'src/stack_main.ts'], root, { ...env, ...SENSOR }), `${what} stacks`);
  assert.deepEqual(stacks, plainStacks, `${what}: error.stack changes under the sensor`);
}

const ORDERS = {
  'sensor first': ['--import', 'hud-sensor/register', '--import', 'tsx'],
  'tsx first': ['--import', 'tsx', '--import', 'hud-sensor/register'],
};
let runs = 0;
for (const [kind, root, orders] of [['CommonJS', APP, ['sensor first', 'tsx first']], ['ES modules', esm, ['tsx first']]]) {
  const ids = want(root);
  for (const order of orders) {
    check(`tsx, ${kind}, ${order}`, root, ids, ['--import', 'tsx'], ORDERS[order]);
    runs++;
  }
}
// ts-node, a require hook, with the sensor preloaded as CommonJS (`--require
// hud-sensor/register`): any --import runs the entry through the ES module loader, which refuses
// a .ts entry before ts-node's hook sees it.
// Its copy imports './workload' where tsx's imports './workload.js' (ts-node maps no .js to .ts).
const tsn = path.join(APP, 'ts-node');
fs.rmSync(tsn, { recursive: true, force: true });
fs.mkdirSync(path.join(tsn, 'src'), { recursive: true });
for (const f of fs.readdirSync(path.join(APP, 'src')))
  fs.writeFileSync(path.join(tsn, 'src', f),
    fs.readFileSync(path.join(APP, 'src', f), 'utf8').replace(/(from '\.\/[\w-]+)\.js'/g, "$1'"));
fs.copyFileSync(path.join(APP, 'tsconfig.json'), path.join(tsn, 'tsconfig.json'));
fs.writeFileSync(path.join(tsn, 'package.json'), '{"name": "app-ts-node", "private": true}');
fs.symlinkSync(path.join(APP, 'node_modules'), path.join(tsn, 'node_modules'));
// The run without the sensor preloads a module that registers an empty ES module hook, as the
// sensor does: Node then starts its hooks thread before the entry runs, which leaves ticks
// queued, and the first continuations of async functions run under processTicksAndRejections,
// a frame error.stack shows (Node's doing, the same for any hook; docs/sensor-node.md).
fs.writeFileSync(path.join(tsn, 'noop_hooks.cjs'), "require('node:module').register('data:text/javascript,export{}');\n");
const TS_NODE = { TS_NODE_TRANSPILE_ONLY: '1' };
for (const flags of [['-r', 'hud-sensor/register', '-r', 'ts-node/register'], ['-r', 'ts-node/register', '-r', 'hud-sensor/register']]) {
  check(`ts-node, ${flags.join(' ')}`, tsn, want(tsn), ['-r', 'ts-node/register', '-r', './noop_hooks.cjs'], flags, TS_NODE);
  runs++;
}
console.log(`typescript through tsx and ts-node: ${runs} runs (tsx: CommonJS in either hook order, ES modules; ` +
  `ts-node: either preload order), ${Object.keys(want(APP)).length} .ts functions each, exact; error.stack unchanged`);
