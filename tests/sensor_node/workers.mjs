// Worker threads under the sensor: they run the rewritten code (CommonJS and ES module workers)
// and record in their own tables (docs/sensor-node.md, "Worker threads"). The workers' results, a
// worker's uncaught error (its type and error.stack) and its exit code are those of a run without
// the sensor; the calls of the module every thread runs are exactly all threads' calls, in the
// process and on the real hud-server, with their callers across threads and exceptions by type.
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
  // Workers record too: every thread's calls of shared.cjs add up (price: 100 in the main thread,
  // 50 through Cart.add in the CommonJS worker, 2,000 through sum in the ES module worker; a
  // caught and an uncaught Refused), in the process and on the server, with their callers.
  const all = { price: [2150, 0], 'Cart.constructor': [1, 0], 'Cart.add': [50, 0], 'Cart.get total': [2, 0],
    'Cart.get total.<anonymous>': [100, 0], ids: [2, 0], later: [2, 0], 'later.<anonymous>': [2, 0], refuse: [2, 2] };
  assert.deepEqual(got.counts, all, 'counts of shared.cjs, every thread');
  const log = fs.readFileSync(path.join(app, 'workers.log'), 'utf8');
  assert.ok(/sent batch/.test(log) && !/failed/.test(log), `batches refused:\n${log}`);
  const top = await hud.get('/v1/functions/top', { service: 'workers', sort: 'calls', limit: 500 });
  const server = {}, ids = {};
  for (const f of top.items) if (f.module_path === 'shared.cjs') {
    server[f.name] = [f.calls, f.errors];
    ids[f.name] = f.function_id;
  }
  assert.deepEqual(server, all, 'calls on the server');
  const callersOf = async (name) => {
    const have = {};
    for (const c of (await hud.get(`/v1/functions/${ids[name]}`, { service: 'workers' })).callers)
      have[`${c.module_path}:${c.name}`] = (have[`${c.module_path}:${c.name}`] || 0) + c.calls;
    return have;
  };
  assert.deepEqual(await callersOf('price'), { 'main.cjs:main': 100, 'shared.cjs:Cart.add': 50, 'worker.mjs:sum': 2000 },
    'callers of price, across threads');
  assert.deepEqual(await callersOf('refuse'), { 'worker.cjs:run': 1, 'worker.cjs:<anonymous>': 1 }, 'callers of refuse');
  const refused = await hud.get(`/v1/functions/${ids.refuse}`, { service: 'workers' });
  assert.deepEqual(refused.errors_by_type, { Refused: 2 }, 'exceptions of refuse by type');
  const xf = (await hud.get('/v1/exception-flows', { service: 'workers', limit: 100 })).flows;
  // The worker's exception paths: one caught in run, the uncaught one escaped through the callback.
  assert.deepEqual(xf.map((x) => [x.exception_type, x.origin?.name, x.propagated_through.map((p) => p.name),
    x.caught_in?.name ?? null, x.escaped, x.count]).sort((a, b) => String(a).localeCompare(String(b))),
  [['Refused', 'refuse', [], 'run', false, 1], ['Refused', 'refuse', ['<anonymous>'], null, true, 1]], 'exception paths in a worker');
  // Seven threads counting the same functions at once while the sender snapshots every 50 ms.
  const conc = lastJson(node(['--import', 'hud-sensor/register', 'concurrent.cjs'], app,
    { ...hud.sensorEnv('concurrent'), HUD_FLUSH_INTERVAL: '0.05' }), 'concurrent');
  assert.deepEqual(conc.got, conc.want, 'seven threads at once: counts in the process');
  const concTop = await hud.get('/v1/functions/top', { service: 'concurrent', sort: 'calls', limit: 50 });
  const concServer = {};
  for (const f of concTop.items) if (f.module_path === 'shared.cjs' || f.name === 'check') concServer[f.name] = [f.calls, f.errors];
  assert.deepEqual(concServer, conc.want, 'seven threads at once: counts on the server');
  // Churn: 60 workers one after the other; each one's tables are freed once collected and its
  // functions are declared once for the process, so memory stays flat and counts stay exact.
  const churn = lastJson(node(['--import', 'hud-sensor/register', 'churn.cjs'], app, hud.sensorEnv('churn')), 'churn');
  assert.equal(churn.price, 600, 'price calls over 60 workers');
  assert.equal(churn.at[60].functions, churn.at[10].functions, 'functions declared once for every worker');
  const grew = churn.at[60].memory_bytes - churn.at[10].memory_bytes;
  assert.ok(grew < 256 * 1024, `sensor memory grew by ${grew} bytes over 50 more workers`);
  const churnTop = await hud.get('/v1/functions/top', { service: 'churn', sort: 'calls', limit: 50 });
  assert.equal(churnTop.items.find((f) => f.name === 'price' && f.module_path === 'shared.cjs')?.calls, 600, 'price on the server');
  console.log(`workers: a CommonJS and an ES module worker run as without the sensor (results, uncaught error and its stack, exit code); every thread's calls counted and sent (price: ${got.counts.price[0]}), callers across threads exact; 7 threads at once exact (${conc.want.price[0]} calls of price); 60 workers in turn: sensor memory +${grew} bytes from the 10th to the 60th`);
} finally {
  hud.stop();
}
