// Flows of the Node sensor through the real hud-server: Express 4 and 5 (and 5 in a worker
// thread), Fastify 4 and 5 and Koa 2 and 3 (an ES module) apps (frameworks/app/) run under the
// sensor with no change and serve
// concurrent, interleaved requests on loopback; BullMQ 5 and 6 workers consume jobs from
// Debian's redis-server started here. The query API must give each endpoint's and queue
// consumer's exact request count, status mix and errors by exception type, and every function
// of the application counted in the flow it ran in: after an await resumed, in a timer's and an
// fs callback, and in error handlers. Unhandled rejections and uncaught exceptions (also ones
// that end the process) escape the flow. The packages are installed by `npm ci` from
// frameworks/package-lock.json into the build tree (once per lockfile). Skipped (77) without npm.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';
import { createKeys, env, npmInstall, PKG } from './support.mjs';

const here = path.dirname(new URL(import.meta.url).pathname);
const BIN = process.env.HUD_SERVER_BIN;
assert.ok(BIN && fs.existsSync(BIN), `hud-server not built at ${BIN}`);
// The pinned packages, and the application next to them with hud-sensor installed.
const dir = npmInstall('frameworks', { link: true });
for (const f of fs.readdirSync(path.join(here, 'frameworks', 'app')))
  fs.copyFileSync(path.join(here, 'frameworks', 'app', f), path.join(dir, f));
// A middleware package (under node_modules: not instrumented) that goes on after a timer: the
// application's code after it starts with no instrumented call below it.
const mw = path.join(dir, 'node_modules', 'hud-test-delay');
fs.mkdirSync(mw, { recursive: true });
fs.writeFileSync(path.join(mw, 'package.json'), '{"name":"hud-test-delay","version":"1.0.0","main":"index.js"}\n');
fs.writeFileSync(path.join(mw, 'index.js'),
  "module.exports = async function delay(ctx, next) {\n  await new Promise((r) => setTimeout(r, 1));\n  await next();\n};\n");

// lib/sourcepatch.js: statements go in at a function's first line and before its closing brace
// (no line moves), or nowhere when a first line is not found exactly once, the function's end
// is not a '}' at the start of a line before anything else at the start of one, or the result
// does not parse.
{
  const { apply } = createRequire(import.meta.url)(path.join(PKG, 'lib', 'sourcepatch.js'));
  const src = 'x\nf = function f(a) {\n  a();\n};\ng();\n';
  assert.deepEqual(apply(src, [['f = function f(a) {', 'A;try{', '}finally{B}']]),
    { code: 'x\nf = function f(a) {A;try{\n  a();\n}finally{B}};\ng();\n', inserts: [1, 19, 6, 3, 0, 11] });
  assert.equal(apply(src.replace(/\n/g, '\r\n'), [['f = function f(a) {', 'A;']]).code, src.replace(/\n/g, '\r\n').replace('{\r', '{A;\r'));
  assert.equal(apply(src + src, [['f = function f(a) {', 'A;']]), null, 'a first line found twice');
  assert.equal(apply(src, [['f = function f(b) {', 'A;']]), null, 'a first line not found');
  assert.equal(apply('f = function f(a) {\n  a();\ng();\n}\n', [['f = function f(a) {', 'A;', 'B']]), null, 'code at the start of a line before the end');
  assert.equal(apply('f = function f(a) {\n  if (a) {\n}\n  a();\n};\n', [['f = function f(a) {', 'try{', '}finally{}']]), null,
    "an inner block's brace taken for the end: the result does not parse");
}

const children = [];
function start(cmd, args, opts, ready) {
  const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  children.push(c);
  let out = '', err = '';
  c.stderr.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${args.join(' ')} did not start: ${out} ${err}`)), 20000);
    c.stdout.on('data', (d) => {
      out += d;
      const v = ready(out);
      if (v !== undefined) {
        clearTimeout(t);
        resolve({ child: c, value: v, stderr: () => err });
      }
    });
    c.on('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}: ${out} ${err}`)));
  });
}

function stop(c, what) {
  return new Promise((resolve, reject) => {
    if (c.exitCode !== null) return resolve(c.exitCode);
    const t = setTimeout(() => {
      c.kill('SIGKILL');
      reject(new Error(`${what} did not exit`));
    }, 10000);
    c.removeAllListeners('exit');
    c.on('exit', (code) => {
      clearTimeout(t);
      resolve(code);
    });
    c.kill('SIGTERM');
  });
}

const freePort = () => new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});

// The port an app of frameworks/app/ printed on its OUT ({"port": N}), once it did.
function portOf(out) {
  const m = /"port":(\d+)/.exec(out);
  return m ? Number(m[1]) : undefined;
}

// hud-server with its keys.
const db = path.join(dir, 'hud.db');
fs.rmSync(db, { force: true });
// The sensors' logs of an earlier run (an app left running by a failed one may have written more).
for (const f of fs.readdirSync(dir)) if (f.endsWith('.log')) fs.rmSync(path.join(dir, f), { force: true });
const keys = createKeys(BIN, db);

// An app NAME ending in -wrapped: the framework wrapped only (HUD_FRAMEWORK_SOURCE=0). Each
// other Express app checks that our statements went into Express's files.
const wrapped = (name) => (name.endsWith('-wrapped') ? { HUD_FRAMEWORK_SOURCE: '0' } : {});
const sensorEnv = (service) => env({
  HUD_ENABLE: '1', HUD_STATUS: 'off', HUD_URL: `http://127.0.0.1:${hudPort}`, HUD_KEY: keys.ingest,
  HUD_SERVICE: service, HUD_FLUSH_INTERVAL: '0.5', HUD_LOG_FILE: path.join(dir, `${service}.log`),
  XDG_CONFIG_HOME: '/nonexistent-hud-config',
});

async function get(p, params) {
  const r = await fetch(`http://127.0.0.1:${hudPort}${p}?${new URLSearchParams(params)}`, {
    headers: { Authorization: `Bearer ${keys.read}`, 'Cache-Control': 'no-cache' },
    signal: AbortSignal.timeout(10000),
  });
  assert.equal(r.status, 200, `${p}: HTTP ${r.status}`);
  return r.json();
}

// Exceptions that escaped each flow (the flow records' `exceptions`, which the query API does
// not answer): read from the server's SQLite file (python3's sqlite3, read-only) once the
// queries above made sure the batches were folded. {flow name: {type: count}}.
function escaped(service) {
  const py = `import json, sqlite3, sys
c = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True)
print(json.dumps(c.execute('''select f.kind, f.method, f.route, f.task_name, e.type, sum(e.count)
  from flow_errors e join flows f on f.id = e.flow join services s on s.id = f.service_id
  where s.name = ? group by 1, 2, 3, 4, 5''', (sys.argv[2],)).fetchall()))`;
  const r = spawnSync('python3', ['-c', py, db, service], { encoding: 'utf8', timeout: 30000 });
  assert.equal(r.status, 0, `flow_errors: ${r.stderr}`);
  const out = {};
  for (const [kind, method, route, task, type, n] of JSON.parse(r.stdout)) {
    const name = kind === 'endpoint' ? `${method} ${route}` : `queue ${task}`;
    (out[name] ||= {})[type] = n;
  }
  return out;
}

// {name: {calls, errors, status, exceptions, functions: {fn: [calls, errors]}}} of SERVICE:
// exceptions are the exception paths recorded in the flow, by type; functions are the named
// ones (anonymous functions of a module share a name).
async function flows(service) {
  const out = {};
  for (const f of (await get('/v1/flows', { service })).flows) {
    const name = f.kind === 'endpoint' ? `${f.method} ${f.route}` : `queue ${f.task_name}`;
    const fns = {};
    for (const x of f.functions || []) if (!x.name.includes('<anonymous>')) fns[x.name] = [x.calls, x.errors];
    const xf = await get('/v1/exception-flows', { service, flow_id: f.flow_id });
    const exceptions = {};
    for (const e of xf.flows || []) exceptions[e.exception_type] = (exceptions[e.exception_type] || 0) + e.count;
    // 'Type origin > propagated... > catcher or escaped xCOUNT'
    paths[`${service} ${name}`] = (xf.flows || []).map((e) => [e.exception_type, e.origin.name,
      ...e.propagated_through.map((p) => p.name), e.escaped ? 'escaped' : e.caught_in.name].join(' > ')
      .replace(' > ', ' ') + ` x${e.count}`).sort();
    out[name] = { calls: f.calls, errors: f.errors, status: f.status_codes || {}, exceptions, functions: fns };
    durations[`${service} ${name}`] = f.mean_duration;
  }
  return out;
}

// Mean duration (ns) and exception paths per "service flow" as the server answered.
const durations = {};
const paths = {};

// A flow whose requests or jobs wait at least MIN_MS (timers) has a mean within [MIN_MS, 2 s].
function checkDuration(service, name, minMs) {
  const d = durations[`${service} ${name}`];
  assert.ok(d >= minMs * 1e6 && d < 2e9, `${service} ${name}: mean duration ${d} ns, expected at least ${minMs} ms`);
}

// The requests: ids chosen so that their timers interleave the two async endpoints.
const requests = [];
for (let i = 1; i <= 6; i++) requests.push(`/orders/${i}`);
for (let i = 1; i <= 4; i++) requests.push(`/users/${i}`);
for (let i = 1; i <= 3; i++) requests.push(`POST /orders ${i}`);
for (let i = 0; i < 3; i++) requests.push('/config');
for (let i = 0; i < 4; i++) requests.push('/health');
for (let i = 0; i < 2; i++) requests.push('/boom');
requests.push('/missing/9');
for (let i = 0; i < 2; i++) requests.push(`/nowhere/${i}`);
// Deterministic interleaving: every other request from the back.
const interleave = (list) => list.map((_, k) => (k % 2 ? list[list.length - 1 - (k >> 1)] : list[k >> 1]));

const orders = { orderHandler: [6, 0], getOrder: [6, 0], audit: [6, 0], lines: [6, 0], fetchOrder: [6, 0],
  'fetchOrder.executor': [6, 0], 'fetchOrder.executor.timerDone': [6, 0], loaded: [6, 0], price: [6006, 0] };
const users = { userHandler: [4, 0], getUser: [4, 0], audit: [4, 0] };
const config = { configHandler: [3, 0], readConfig: [3, 0], 'readConfig.configRead': [3, 0], parseConfig: [3, 0] };
const health = { healthHandler: [4, 0], status: [4, 0] };
const boom = { boomHandler: [2, 2], explode: [2, 2] };

const creates = (fw) => ({ createHandler: [3, 0], createOrder: [3, 0], price: [3, 0],
  ...(fw === 'fastify' ? { checkOrder: [3, 0], audit: [3, 0] } : {}) });

function expected(fw) {
  const e = {
    'GET /orders/:id': { calls: 6, errors: 0, status: { 200: 6 }, exceptions: {}, functions: orders },
    // The body is read from the request stream, whose events run outside the request's context.
    'POST /orders': { calls: 3, errors: 0, status: { 201: 3 }, exceptions: {}, functions: creates(fw) },
    'GET /users/:id': { calls: 4, errors: 0, status: { 200: 4 }, exceptions: {}, functions: users },
    'GET /config': { calls: 3, errors: 0, status: { 200: 3 }, exceptions: {}, functions: config },
    'GET /health': { calls: 4, errors: 0, status: { 200: 4 }, exceptions: {}, functions: health },
    'GET /boom': { calls: 2, errors: 2, status: { 500: 2 }, exceptions: { Boom: 2 }, functions: { ...boom } },
    // Express's handler passes the error to next(); the others' throw it.
    'GET /missing/:id': { calls: 1, errors: 0, status: { 404: 1 }, exceptions: fw === 'express' ? {} : { NotFound: 1 },
      functions: { missingHandler: [1, fw === 'express' ? 0 : 1], 'NotFound.constructor': [1, 0] } },
    'GET <unmatched>': { calls: 2, errors: 0, status: { 404: 2 }, exceptions: {}, functions: {} },
  };
  if (fw === 'express') {
    e['GET /stats'] = { calls: 1, errors: 0, status: { 200: 1 }, exceptions: {}, functions: { statsHandler: [1, 0], status: [1, 0] } };
    e['PUT /notes/:id'] = { calls: 2, errors: 0, status: { 200: 2 }, exceptions: {},
      functions: { noteHandler: [2, 0], readConfig: [2, 0], 'readConfig.configRead': [2, 0], parseConfig: [2, 0] } };
    // One route under two mount paths, two methods (the route's flow is cached per request).
    const item = (n) => ({ itemGet: [n, 0], itemSum: [n, 0], itemStep: [3000 * n, 0], itemMid: [3000 * n, 0], itemUnit: [3000 * n, 0],
      itemTicks: [n, 0], 'itemTicks.itemTick': [5000 * n, 0] });
    e['GET /a/item'] = { calls: 2, errors: 0, status: { 200: 2 }, exceptions: {}, functions: item(2) };
    e['GET /b/item'] = { calls: 1, errors: 0, status: { 200: 1 }, exceptions: {}, functions: item(1) };
    e['DELETE /b/item'] = { calls: 1, errors: 0, status: { 200: 1 }, exceptions: {}, functions: { itemDelete: [1, 0] } };
    e['GET /boom'].functions.errorHandler = [2, 0];
    e['GET /missing/:id'].functions.errorHandler = [1, 0];
    // An unhandled rejection while the request runs (the application's listener keeps the
    // process alive): it escaped the flow, whatever the answer.
    e['GET /later/:id'] = { calls: 2, errors: 2, status: { 200: 2 }, exceptions: { Lost: 2 },
      functions: { laterHandler: [2, 0], notify: [2, 2], onUnhandled: [2, 0] } };
    e['GET /fanout'] = { calls: 1, errors: 1, status: { 200: 1 }, exceptions: { Lost: 3 },
      functions: { fanoutHandler: [1, 0], report: [3, 3], onUnhandled: [3, 0] } };
  }
  return e;
}

// A request body in two parts 20 ms apart: the second one arrives in a socket event of its own.
function slowBody(text) {
  const k = text.length >> 1;
  return new ReadableStream({
    async pull(c) {
      c.enqueue(new TextEncoder().encode(text.slice(0, k)));
      await new Promise((r) => setTimeout(r, 20));
      c.enqueue(new TextEncoder().encode(text.slice(k)));
      c.close();
    },
  });
}

// The jobs of the BullMQ apps: 5 charges, 3 refunds (the second fails) and, with REMIND, one that
// leaves a rejection unhandled while it runs.
function bullJobs(remind) {
  const jobs = [];
  for (let n = 1; n <= 5; n++) jobs.push(['charge', { n }]);
  for (let n = 1; n <= 3; n++) jobs.push(['refund', { n, fail: n === 2 }]);
  if (remind) jobs.push(['remind', { n: 1, notify: true }]);
  return jobs;
}

// Adds JOBS to QUEUE and waits until every one finished (bounded): {completed, failed}.
async function consume(queue, jobs) {
  await Promise.all(jobs.map(([job, data]) => queue.add(job, data, { attempts: 1 })));
  let counts;
  for (let k = 0; k < 150; k++) {
    counts = await queue.getJobCounts('completed', 'failed');
    if (counts.completed + counts.failed >= jobs.length) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return counts;
}

let hudPort;
const summary = [];
try {
  const hud = await start(BIN, ['--db', db, '--listen', '127.0.0.1:0'], {}, (out) => {
    const m = /listening on \S+:(\d+)/.exec(out);
    return m ? Number(m[1]) : undefined;
  });
  hudPort = hud.value;

  // Each framework's current and previous major (npm aliases in frameworks/package.json).
  const apps = { express: ['express_app.cjs'], fastify: ['fastify_app.cjs'], koa: ['koa_app.mjs'], // Koa: an ES module application
    express5: ['express_app.cjs', 'express5'], fastify5: ['fastify_app.cjs', 'fastify5'],
    koa3: ['koa_app.mjs', 'koa3', 'koa-router15'],
    // Express 5 served by a worker thread (the main thread only starts it).
    'express5-worker': ['in_worker.cjs', 'express_app.cjs', 'express5'],
    // Express with wrappers around its functions, as a version whose files we do not know
    // gets them, instead of our statements inside them (lib/sourcepatch.js).
    'express-wrapped': ['express_app.cjs'], 'express5-wrapped': ['express_app.cjs', 'express5'] };
  for (const [name, args] of Object.entries(apps)) {
    const service = `flows-${name}`;
    const fw = name.replace(/\d*(-worker|-wrapped)?$/, '');
    let inside, plainText;
    const app = await start(process.execPath, ['--import', 'hud-sensor/register', ...args],
      { cwd: dir, env: { ...sensorEnv(service), ...wrapped(name) } }, (out) => {
        inside = /"inside":true/.test(out);
        plainText = /"plainText":true/.test(out);
        return portOf(out);
      });
    if (fw === 'express') assert.equal(inside, !name.endsWith('-wrapped'), `${name}: our statements in Express's layer`);
    if (fw === 'express') assert.ok(plainText, `${name}: toString() of Express's layer is not its source's text`);
    const order = interleave(fw === 'express' ? [...requests, 'PUT /notes/1 1', 'PUT /notes/2 2', '/stats', '/later/1', '/later/2', '/fanout', '/a/item', '/b/item', '/a/item', 'DELETE /b/item'] : requests);
    const got = await Promise.all(order.map(async (p) => {
      const [method, url, n] = /^[A-Z]+ /.test(p) ? p.split(' ') : ['GET', p];
      const r = await fetch(`http://127.0.0.1:${app.value}${url}`, {
        method, signal: AbortSignal.timeout(10000),
        ...(n ? { body: slowBody(JSON.stringify({ n: Number(n) })), duplex: 'half', headers: { 'content-type': 'application/json' } } : {}),
      });
      await r.arrayBuffer();
      return [p, r.status];
    }));
    for (const [p, s] of got) assert.equal(s, p.startsWith('/boom') ? 500 : p.startsWith('POST') ? 201 : p.startsWith('PUT') ? 200 : /missing|nowhere/.test(p) ? 404 : 200, `${name} ${p}`);
    assert.equal(await stop(app.child, name), 0, `${name}: exit status\n${app.stderr()}`);
    const log = fs.readFileSync(path.join(dir, `${service}.log`), 'utf8');
    assert.ok(/sent batch/.test(log) && !/failed/.test(log), `${name}: batches refused:\n${log}`);
    assert.deepEqual(await flows(service), expected(fw), `${name}: flows on the server`);
    assert.deepEqual(escaped(service), { 'GET /boom': { Boom: 2 }, ...(fw === 'express' ? { 'GET /later/:id': { Lost: 2 }, 'GET /fanout': { Lost: 1 } } : {}) },
      `${name}: exceptions that escaped each flow`);
    // The handler's error is caught by the framework: it escaped the application's functions.
    assert.deepEqual(paths[`${service} GET /boom`], [`Boom explode > boomHandler > escaped x2`], `${name}: GET /boom's path`);
    if (fw === 'express') {
      assert.deepEqual(paths[`${service} GET /later/:id`], ['Lost notify > escaped x2'], `${name}: the unhandled rejection's path`);
      assert.deepEqual(paths[`${service} GET /fanout`], ['Lost report > escaped x3'], `${name}: three in one turn`);
    }
    checkDuration(service, 'GET /orders/:id', 2); // two timers of at least 1 ms each
    summary.push(`${name} ${Object.keys(expected(fw)).length} endpoints`);
  }

  // More requests in one period than the ring of finished requests holds (src/runtime.c
  // FQ_CAP, 1,024): the period's snapshot comes only at exit (a one-minute interval), so the
  // ring fills and JS drains it into the core (flowDrain) before it writes past the tail.
  {
    const service = 'flows-express-burst';
    const N = 1500;
    const app = await start(process.execPath, ['--import', 'hud-sensor/register', 'express_app.cjs'],
      { cwd: dir, env: { ...sensorEnv(service), HUD_FLUSH_INTERVAL: '60' } }, portOf);
    let next = 0;
    await Promise.all(Array.from({ length: 10 }, async () => {
      while (next < N) {
        next++;
        const r = await fetch(`http://127.0.0.1:${app.value}/health`, { signal: AbortSignal.timeout(10000) });
        await r.arrayBuffer();
        assert.equal(r.status, 200, 'burst: GET /health');
      }
    }));
    assert.equal(await stop(app.child, service), 0, `${service}: exit status\n${app.stderr()}`);
    const got = (await flows(service))['GET /health'];
    assert.deepEqual([got.calls, got.status, got.functions.healthHandler], [N, { 200: N }, [N, 0]], `${service}: GET /health`);
    summary.push(`express ${N} requests in one period`);
  }

  // error.stack from a handler under several layers, at the default Error.stackTraceLimit (10)
  // and whole, the same as without the sensor, whose wrappers stand on the stack: they are left
  // out, and as many more frames are captured meanwhile. (Fastify whole: our preValidation hook
  // makes Fastify run that stage's hook runner, whose frames lie past the tenth here.)
  for (const name of ['express', 'express5', 'express-wrapped', 'express5-wrapped', 'fastify', 'fastify5', 'koa', 'koa3'])
    for (const limit of name.startsWith('fastify') ? [''] : ['', 'Infinity']) {
      const pkg = name.replace(/-wrapped$/, '');
      const run = (extra) => {
        const r = spawnSync(process.execPath, [...extra, 'stacks_app.cjs', pkg, limit], { cwd: dir, encoding: 'utf8', timeout: 20000,
          env: env(extra.length ? { HUD_ENABLE: '1', HUD_STATUS: 'off', ...wrapped(name) } : {}) });
        assert.equal(r.status, 0, `stacks_app.cjs ${name}: ${r.stderr}`);
        return JSON.parse(r.stdout.trim().split('\n').pop()).stack;
      };
      const plain = run([]);
      if (!limit) assert.equal(plain.split('\n').length, 11, `${pkg}: a trace cut at 10 frames`);
      assert.equal(run(['--import', 'hud-sensor/register']), plain, `${name}: error.stack under the sensor (limit ${limit || 10})`);
    }
  summary.push('error.stack under 6 frameworks as without the sensor (Express also wrapped)');

  // A request that brings the process down as Node does by default: an unhandled rejection,
  // an exception thrown by a timer callback. The process ends as without the sensor (status 1,
  // Node's report on stderr) and the last batch says that the exception escaped the flow.
  // (strict: --unhandled-rejections=strict, where Node reports the rejection as an uncaught
  // exception first.)
  const crashes = {
    reject: { stderr: /Lost \[Error\]: notify 1/, functions: { rejectHandler: [1, 0], notify: [1, 1] }, exc: 'Lost',
      paths: ['Lost notify > escaped x1'] },
    throw: { stderr: /Boom \[Error\]: boom/, functions: { throwHandler: [1, 0], 'throwHandler.tick': [1, 1], explode: [1, 1] }, exc: 'Boom',
      paths: ['Boom explode > throwHandler.tick > escaped x1'] },
  };
  crashes.strict = { ...crashes.reject, url: 'reject', flags: ['--unhandled-rejections=strict'] };
  for (const [kind, want] of Object.entries(crashes)) {
    const service = `flows-crash-${kind}`;
    const url = want.url || kind;
    const app = await start(process.execPath, [...(want.flags || []), '--import', 'hud-sensor/register', 'crash_app.cjs'],
      { cwd: dir, env: sensorEnv(service) }, portOf);
    app.child.removeAllListeners('exit');
    const exited = new Promise((resolve) => app.child.on('exit', (code) => resolve(code)));
    await fetch(`http://127.0.0.1:${app.value}/${url}`, { signal: AbortSignal.timeout(10000) }).then(
      (r) => assert.fail(`${kind}: answered ${r.status}`), () => {});
    assert.equal(await exited, 1, `${kind}: exit status`);
    assert.match(app.stderr(), want.stderr, `${kind}: Node's report`);
    const route = `GET /${url}`;
    assert.deepEqual(await flows(service), { [route]: { calls: 1, errors: 1, status: {}, exceptions: { [want.exc]: 1 },
      functions: want.functions } }, `${kind}: the flow on the server`);
    assert.deepEqual(paths[`${service} ${route}`], want.paths, `${kind}: the exception's path`);
    assert.deepEqual(escaped(service), { [route]: { [want.exc]: 1 } }, `${kind}: exceptions that escaped the flow`);
  }
  summary.push('a request ending the process by an unhandled rejection (default and strict mode) and by an uncaught exception');

  // Express without an error handler: the error goes past every layer to the outermost router's
  // final callback (finalhandler answers 500); the request's exception is its type.
  for (const name of ['express', 'express5', 'express-wrapped', 'express5-wrapped']) {
    const service = `flows-final-${name}`;
    const app = await start(process.execPath, ['--import', 'hud-sensor/register', 'final_app.cjs', name.replace(/-wrapped$/, '')],
      { cwd: dir, env: { ...sensorEnv(service), ...wrapped(name) } }, portOf);
    for (let i = 0; i < 2; i++) {
      const r = await fetch(`http://127.0.0.1:${app.value}/fail`, { signal: AbortSignal.timeout(10000) });
      await r.arrayBuffer();
      assert.equal(r.status, 500, `${service}: status`);
    }
    assert.equal(await stop(app.child, service), 0, `${service}: exit status\n${app.stderr()}`);
    const f = (await flows(service))['GET /fail'];
    assert.deepEqual(f && [f.calls, f.errors, f.status], [2, 2, { 500: 2 }], `${service}: the flow on the server`);
    assert.deepEqual(escaped(service), { 'GET /fail': { TypeError: 2 } }, `${service}: the request's exception`);
  }
  summary.push('errors reaching the final handler of Express 4 and 5 (also wrapped)');

  // BullMQ against redis-server on a free loopback port, stopped by pid at the end.
  const redisBin = ['/usr/bin/redis-server', '/usr/sbin/redis-server'].find((p) => fs.existsSync(p));
  if (!redisBin) {
    console.log('sensor_node_frameworks: BullMQ part skipped: redis-server not installed (scripts/dev.sh deps)');
  } else {
    const rport = await freePort();
    await start(redisBin, ['--port', String(rport), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {}, (out) => (/Ready to accept connections/.test(out) ? true : undefined));
    const load = createRequire(path.join(dir, 'package.json'));
    const connection = { host: '127.0.0.1', port: rport };
    // A CommonJS and an ES module worker application (each its own queue and service), and the
    // CommonJS one with BullMQ 6.
    for (const [app, pkg] of [['bullmq_app.cjs', 'bullmq'], ['bullmq_app.mjs', 'bullmq'], ['bullmq_app.cjs', 'bullmq6']]) {
      const name = app.replace('_app.', pkg === 'bullmq' ? '-' : '6-');
      const { Queue } = load(pkg);
      const worker = await start(process.execPath, ['--import', 'hud-sensor/register', app, String(rport), name, pkg],
        { cwd: dir, env: sensorEnv(`flows-${name}`) }, (out) => (/"ready":true/.test(out) ? true : undefined));
      const queue = new Queue(name, { connection });
      // Every job finished; then exactly the one meant to fail failed.
      const counts = await consume(queue, bullJobs(true));
      const failed = (await queue.getFailed()).map((j) => `${j.name} ${JSON.stringify(j.data)}: ${j.failedReason}`);
      assert.deepEqual(counts, { completed: 8, failed: 1 }, `${app}: jobs: ${failed.join('; ')}`);
      assert.deepEqual(failed, ['refund {"n":2,"fail":true}: boom'], `${app}: the failed job`);
      await queue.close();
      assert.equal(await stop(worker.child, app), 0, `${app}: exit\n${worker.stderr()}`);
      assert.deepEqual(await flows(`flows-${name}`), {
        'queue charge': { calls: 5, errors: 0, status: {}, exceptions: {}, functions: { processor: [5, 0], processJob: [5, 0], price: [5, 0] } },
        'queue refund': { calls: 3, errors: 1, status: {}, exceptions: { Boom: 1 },
          functions: { processor: [3, 0], processJob: [3, 1], price: [2, 0], explode: [1, 1] } },
        'queue remind': { calls: 1, errors: 1, status: {}, exceptions: { Lost: 1 },
          functions: { processor: [1, 0], processJob: [1, 0], price: [1, 0], notify: [1, 1], onUnhandled: [1, 0] } },
      }, `${app}: flows on the server`);
      assert.deepEqual(escaped(`flows-${name}`), { 'queue refund': { Boom: 1 }, 'queue remind': { Lost: 1 } }, `${app}: exceptions that escaped each flow`);
      assert.deepEqual(paths[`flows-${name} queue remind`], ['Lost notify > escaped x1'], `${app}: the unhandled rejection's path`);
      checkDuration(`flows-${name}`, 'queue charge', 1);
    }
    summary.push('bullmq 5 (CommonJS and ES module apps) and 6, 2 queue flows each');
    // Sandboxed processors (bullmq_sandbox.cjs: a processor file BullMQ runs in child processes,
    // or in worker threads): the parent counts the jobs, the child's functions run in the
    // job's queue flow. The parent only sees a rebuilt Error (BullMQ sends message and stack),
    // so the escaped type is Error; the exception path recorded in the child names Boom.
    for (const [pkg, mode] of [['bullmq', 'fork'], ['bullmq', 'threads'], ['bullmq6', 'fork']]) {
      const name = `sandbox-${pkg}-${mode}`;
      const { Queue } = load(pkg);
      const worker = await start(process.execPath, ['--import', 'hud-sensor/register', 'bullmq_sandbox.cjs', String(rport), name, pkg, mode],
        { cwd: dir, env: sensorEnv(`flows-${name}`) }, (out) => (/"ready":true/.test(out) ? true : undefined));
      const queue = new Queue(name, { connection });
      assert.deepEqual(await consume(queue, bullJobs(false)), { completed: 7, failed: 1 }, `${name}: jobs`);
      await queue.close();
      assert.equal(await stop(worker.child, name), 0, `${name}: exit\n${worker.stderr()}`);
      assert.deepEqual(await flows(`flows-${name}`), {
        'queue charge': { calls: 5, errors: 0, status: {}, exceptions: {}, functions: { processor: [5, 0], processJob: [5, 0], price: [5, 0] } },
        'queue refund': { calls: 3, errors: 1, status: {}, exceptions: { Boom: 1 },
          functions: { processor: [3, 0], processJob: [3, 1], price: [2, 0], explode: [1, 1] } },
      }, `${name}: flows on the server`);
      assert.deepEqual(escaped(`flows-${name}`), { 'queue refund': { Error: 1 } }, `${name}: exceptions that escaped each flow`);
    }
    summary.push('sandboxed processors (bullmq 5 in child processes and in worker threads, 6 in child processes)');
  }
  console.log(`frameworks: ${summary.join(', ')}: exact counts, status mix, errors and functions per flow`);
} finally {
  for (const c of children.reverse()) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
}
