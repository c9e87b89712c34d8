// The backend misbehaves; the application does not notice (the Node sensor over the shared
// core's sender). A listener of this process plays hud-server's ingest: batches refused with 503
// come back with their id and nothing is lost; a backlog that overflows drops whole batches,
// says so in the next batch and keeps the sensor's memory flat; an unreachable, slow (answers
// after 20 s) or key-refusing (401) backend leaves the program's results alone and never delays
// its exit beyond the 2-second budget.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import zlib from 'node:zlib';
import { makeApp, env } from './support.mjs';

const KEY = 'hud_test_key';
const app = makeApp('backend');

// POST /v1/ingest on 127.0.0.1: {url, batches, failedIds, requests, close()}. Opts: failFirst
// (503 for that many batches), failMs (503 until then), delayMs (answers that late).
async function listener({ failFirst = 0, failMs = 0, delayMs = 0 } = {}) {
  const out = { batches: [], failedIds: [], requests: 0 };
  const until = Date.now() + failMs;
  const timers = new Set();
  const server = http.createServer((req, res) => {
    const parts = [];
    req.on('data', (d) => parts.push(d));
    req.on('end', () => timers.add(setTimeout(() => {
      out.requests++;
      const reply = (status, body) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.url !== '/v1/ingest') return reply(404, { error: { code: 'not_found', message: req.url } });
      if (req.headers.authorization !== `Bearer ${KEY}`) return reply(401, { error: { code: 'unauthorized', message: 'bad key' } });
      let body = Buffer.concat(parts);
      if (req.headers['content-encoding'] === 'gzip') body = zlib.gunzipSync(body);
      const batch = JSON.parse(body);
      if (failFirst > 0 || Date.now() < until) {
        failFirst--;
        out.failedIds.push(batch.batch_id);
        return reply(503, { error: { code: 'unavailable', message: 'try later' } });
      }
      const dup = out.batches.some((b) => b.batch_id === batch.batch_id);
      if (!dup) out.batches.push(batch);
      reply(200, { batch_id: batch.batch_id, duplicate: dup, records: dup ? 0 : 1 });
    }, delayMs)));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  out.url = `http://127.0.0.1:${server.address().port}`;
  out.close = () => {
    for (const t of timers) clearTimeout(t);
    server.closeAllConnections();
    server.close();
  };
  return out;
}

// The app under the sensor, without blocking this process (its listener must answer).
function run(extra) {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', 'hud-sensor/register', 'small_app.cjs'],
      { cwd: app, env: env({ HUD_ENABLE: '1', HUD_STATUS: 'off', HUD_KEY: KEY, HUD_SERVICE: 'backend', ...extra }) });
    let stdout = '', stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => c.kill('SIGKILL'), 60000);
    c.on('exit', (status) => {
      clearTimeout(t);
      if (status !== 0) return reject(new Error(`exit ${status}: ${stderr}`));
      const r = JSON.parse(stdout.trim().split('\n').pop());
      r.exitDelay = Date.now() - r.end;
      r.stderr = stderr;
      resolve(r);
    });
  });
}

// Calls of work() in the received batches.
function received(batches) {
  const ids = new Set();
  for (const b of batches) for (const d of b.declarations || []) if (d.name === 'work') ids.add(d.function_id);
  let n = 0;
  for (const b of batches) for (const i of b.invocations || []) if (ids.has(i.function_id)) n += i.count;
  return n;
}

// 1. Three 503s: the batches come back with their ids, every call arrives once.
{
  const l = await listener({ failFirst: 3 });
  const r = await run({ HUD_URL: l.url, HUD_FLUSH_INTERVAL: '0.2', SMALL_SECONDS: '1.5' });
  await new Promise((res) => setTimeout(res, 200));
  l.close();
  assert.equal(received(l.batches), r.calls, 'retried batches: every call once');
  assert.equal(l.failedIds.length, 3);
  assert.ok(l.failedIds.some((id) => l.batches.some((b) => b.batch_id === id)), `503'd batches come back with their id: ${l.failedIds}`);
  const ids = l.batches.map((b) => b.batch_id);
  assert.equal(new Set(ids).size, ids.length, 'a batch stored twice');
}

// 2. Refused for 2 s with a backlog of 2 batches, one cut every 50 ms: batches are dropped and
// said so, the backlog stays at 2 and the sensor's memory flat.
{
  const l = await listener({ failMs: 2000 });
  const r = await run({ HUD_URL: l.url, HUD_FLUSH_INTERVAL: '0.05', HUD_BACKLOG: '2', SMALL_SECONDS: '2.5' });
  await new Promise((res) => setTimeout(res, 200));
  l.close();
  const dropped = l.batches.reduce((n, b) => n + ((b.dropped && b.dropped.batches) || 0), 0);
  assert.ok(dropped > 0, `drops not reported: ${JSON.stringify(l.batches.map((b) => b.dropped))}`);
  const got = received(l.batches);
  assert.ok(got > 0 && got < r.calls, `received ${got} of ${r.calls} calls: ${JSON.stringify(l.batches.map((b) => [b.declarations?.length, b.invocations?.length, b.dropped]))}`);
  assert.ok(r.early.backlog <= 2, `backlog ${r.early.backlog} while refused (HUD_BACKLOG=2)`);
  const grew = r.late.memory_bytes - r.early.memory_bytes;
  assert.ok(grew < 256 * 1024, `the sensor's memory grew by ${grew} bytes while batches were refused`);
  console.log(`backend: overflow dropped ${dropped} batches, memory ${r.early.memory_bytes} -> ${r.late.memory_bytes} bytes`);
}

// 3. Unreachable, slow, refusing the key: the same calls, exit within the budget.
{
  const slow = await listener({ delayMs: 20000 });
  const quick = await listener();
  const cases = [['unreachable', { HUD_URL: 'http://127.0.0.1:1' }], ['slow', { HUD_URL: slow.url }],
    ['refused (401)', { HUD_URL: quick.url, HUD_KEY: 'wrong' }]];
  for (const [what, extra] of cases) {
    const r = await run({ HUD_FLUSH_INTERVAL: '0.3', SMALL_SECONDS: '1', ...extra });
    assert.equal(r.calls >= 1000, true, what);
    assert.ok(r.exitDelay < 3000, `${what}: exit took ${r.exitDelay} ms after main (budget 2 s)`);
    assert.doesNotMatch(r.stderr, /Error|at /, `${what}: ${r.stderr}`);
  }
  assert.ok(quick.requests > 0 && quick.batches.length === 0, `401: ${quick.requests} requests, ${quick.batches.length} stored`);
  slow.close();
  quick.close();
}
console.log('backend: retries exact, overflow counted with flat memory, unreachable/slow/401 within the exit budget');
