// Worker threads under the sensor: they run the rewritten code (CommonJS and ES module workers)
// with hooks that do nothing, and only the main thread records (docs/sensor-node.md, "Worker
// threads"). The workers' results, a worker's uncaught error (its type and error.stack) and its
// exit code are those of a run without the sensor; the main thread's counts of the module both
// run are exactly its own calls, in the process and on the real hud-server.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { hudServer, makeApp, node, lastJson } from './support.mjs';

const app = makeApp('workers');
const here = path.dirname(new URL(import.meta.url).pathname);
for (const f of fs.readdirSync(path.join(here, 'workers'))) fs.copyFileSync(path.join(here, 'workers', f), path.join(app, f));

const hud = await hudServer(app);
try {
  const plain = lastJson(node(['main.cjs'], app), 'plain');
  const r = node(['--import', 'hud-sensor/register', 'main.cjs'], app, hud.sensorEnv('workers'));
  const got = lastJson(r, 'sensor');
  assert.equal(plain.workers[0].code, 1, 'the failing worker ends with 1');
  assert.match(plain.workers[0].error.stack, /^Error: worker gives up\n +at Object.refuse .*shared.cjs:31:9/); // a clone of the error
  assert.deepEqual(got.total, plain.total);
  // The workers ran the rewritten code, and nothing else differs.
  const rewritten = (x) => x.workers.flatMap((w) => w.messages.map((m) => m.rewritten));
  assert.deepEqual([rewritten(plain), rewritten(got)], [[false, false], [true, true]], 'the workers\' code rewritten');
  for (const x of [plain, got]) for (const w of x.workers) for (const m of w.messages) delete m.rewritten;
  assert.deepEqual(got.workers, plain.workers, 'the workers: messages, uncaught error (type and stack), exit codes');
  // Workers do not record: the main thread's 100 calls of price, none of the workers' calls
  // (2,050 of price, a caught and an uncaught Refused), in the process and on the server.
  const mine = { price: [100, 0], 'Cart.constructor': [0, 0], 'Cart.add': [0, 0], 'Cart.get total': [0, 0],
    'Cart.get total.<anonymous>': [0, 0], ids: [0, 0], later: [0, 0], 'later.<anonymous>': [0, 0], refuse: [0, 0] };
  assert.deepEqual(got.counts, mine, 'main thread counts of shared.cjs');
  const log = fs.readFileSync(path.join(app, 'workers.log'), 'utf8');
  assert.ok(/sent batch/.test(log) && !/failed/.test(log), `batches refused:\n${log}`);
  const top = await hud.get('/v1/functions/top', { service: 'workers', sort: 'calls', limit: 500 });
  const server = {};
  for (const f of top.items) if (f.module_path === 'shared.cjs' || f.module_path === 'worker.cjs' || f.module_path === 'worker.mjs')
    server[f.name] = [f.calls, f.errors];
  assert.deepEqual(server, { price: [100, 0] }, 'calls on the server');
  console.log(`workers: a CommonJS and an ES module worker run as without the sensor (results, uncaught error and its stack, exit code); only the main thread's ${got.counts.price[0]} calls are counted and sent`);
} finally {
  hud.stop();
}
