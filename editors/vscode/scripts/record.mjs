// Records the answers of hud-lsp's panel requests (docs/lsp.md "Requests for editor panels") into
// test/fixtures/: a real hud-server on 127.0.0.1 gets the batches of the service `shop` below, a real
// hud-lsp --stdio (with a workspace holding shop/ and the file shop/cart.py open) is asked.
// usage: node record.mjs HUD_SERVER HUD_LSP OUT_DIR
//
// The service `shop`, versions 1.0.0 (50 minutes ago) and 1.1.0 (40 minutes ago, apply_discounts and
// load_rules slower: a regression issue), inside the flow GET /cart:
//   (uninstrumented) -> view_cart -> checkout (line 5) -> apply_discounts (6) -> load_rules (2)
//   (uninstrumented) -> api_checkout -> checkout (line 3)     checkout -> billing/tax.py:compute_tax (7)
//   jobs/nightly.py:rebuild_carts (never declared) -> checkout (line 9)
//   compute_tax raises TaxError through checkout, caught in view_cart;
//   load_rules raises KeyError through apply_discounts, checkout and view_cart: it escapes.
// billing/tax.py is not in the workspace (no location); save_order is declared, never called.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { functionId, sketch, startServer, createKey } from '../../../tests/monaco/seed.mjs';

const [serverBin, lspBin, outDir] = process.argv.slice(2);
if (!serverBin || !lspBin || !outDir) {
  console.error('usage: node record.mjs HUD_SERVER HUD_LSP OUT_DIR');
  process.exit(2);
}
const NS = 1e9;
const MS = 1e6;
const SERVICE = 'shop';

// uuid5(HUD_FLOW_ID_NAMESPACE, "endpoint:" + METHOD + " " + route) (docs/protocol.md "Flow identity").
const FLOW_NS = Buffer.from('269bd917969d5169949da972372cc36d', 'hex');
function flowId(name) {
  const h = createHash('sha1').update(FLOW_NS).update(name, 'utf8').digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

// Each function: its caller (null: not instrumented) and call site, calls per version, mean ms per version.
const FNS = {
  view_cart: { module: 'shop/views.py', caller: null, line: 0, calls: 3000, ms: [9, 16], selfMs: 1 },
  api_checkout: { module: 'shop/api.py', caller: null, line: 0, calls: 1000, ms: [9, 16], selfMs: 1 },
  checkout: { module: 'shop/cart.py', callers: [['view_cart', 5, 3000], ['api_checkout', 3, 1000], ['rebuild_carts', 9, 500]],
    ms: [8, 15], selfMs: 2 },
  apply_discounts: { module: 'shop/pricing.py', caller: 'checkout', line: 6, calls: 4000, ms: [5, 12], selfMs: 1 },
  load_rules: { module: 'shop/pricing.py', caller: 'apply_discounts', line: 2, calls: 4000, ms: [4, 11], selfMs: 4 },
  compute_tax: { module: 'billing/tax.py', caller: 'checkout', line: 7, calls: 4000, ms: [1, 1], selfMs: 1 },
  // a caller production never declared (no invocations of its own): its node has modulePath null
  rebuild_carts: { module: 'jobs/nightly.py', undeclared: true },
};
const EXC = { TaxError: [3, 4], KeyError: [5, 9] }; // per version
const id = (n) => functionId(FNS[n].module, n);
const FLOW = flowId('endpoint:GET /cart');
const SAVE_ORDER = functionId('shop/cart.py', 'save_order');

function rfc3339(ms) {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, '.000000+00:00');
}

function batch(version, minutesAgo, v, seq) {
  const now = Date.now();
  const ts = rfc3339(Math.floor(now / 60000) * 60000 - minutesAgo * 60000);
  const slice = { timestamp: ts, timeslice: 60 * NS };
  const declarations = Object.entries(FNS).filter(([, f]) => !f.undeclared).map(([name, f]) => ({
    function_id: id(name), name, file: `/srv/app/${f.module}`, module_path: f.module, start_line: 1, end_line: 2,
    is_async: false, source_code_hash: '0123456789abcdef0123456789abcdef01234567',
  }));
  declarations.push({ ...declarations[2], function_id: SAVE_ORDER, name: 'save_order', start_line: 10, end_line: 11 });
  // exceptions leaving each function
  const raised = { compute_tax: { TaxError: EXC.TaxError[v] }, checkout: { TaxError: EXC.TaxError[v], KeyError: EXC.KeyError[v] },
    load_rules: { KeyError: EXC.KeyError[v] }, apply_discounts: { KeyError: EXC.KeyError[v] }, view_cart: { KeyError: EXC.KeyError[v] } };
  const invocations = [];
  const flowFunctions = [];
  for (const [name, f] of Object.entries(FNS)) {
    if (f.undeclared) continue;
    const sites = f.callers || [[f.caller, f.line, f.calls]];
    for (const [caller, line, calls] of sites) {
      const mean = f.ms[v] * MS;
      const sampled = calls / 10;
      const n2 = sampled / 10;
      const n1 = sampled - n2;
      const d1 = mean * 0.98;
      const d2 = mean * 1.18;
      const sum = n1 * d1 + n2 * d2; // of the sampled calls
      const share = calls / sites.reduce((a, x) => a + x[2], 0);
      const inv = {
        function_id: id(name), caller_function_id: caller ? [[id(caller), FNS[caller].module, line]] : [], ...slice,
        count: calls, sampled_count: sampled, sum_duration: Math.round(sum),
        sum_squared_duration: n1 * d1 * d1 + n2 * d2 * d2, self_duration: Math.round(sum * f.selfMs / f.ms[v]),
        duration_sketch: sketch(n1, d1, n2, d2),
      };
      if (raised[name]) {
        inv.exceptions = Object.fromEntries(Object.entries(raised[name]).map(([t, n]) => [t, Math.max(1, Math.round(n * share))]));
      }
      invocations.push(inv);
      flowFunctions.push({ flow_id: FLOW, function_id: id(name), ...slice, count: calls, error_count: 0,
        sampled_count: sampled, sum_duration: Math.round(sum), self_duration: Math.round(sum * f.selfMs / f.ms[v]) });
    }
  }
  const exception_flows = [
    { exception_type: 'TaxError', origin_function_id: id('compute_tax'), propagated_through: [id('checkout')],
      caught_in_function_id: id('view_cart'), flow_id: FLOW, ...slice, count: EXC.TaxError[v] },
    { exception_type: 'KeyError', origin_function_id: id('load_rules'),
      propagated_through: [id('apply_discounts'), id('checkout'), id('view_cart')], flow_id: FLOW, ...slice, count: EXC.KeyError[v] },
  ];
  const fsum = 3000 * FNS.view_cart.ms[v] * MS;
  const flows = [{ flow_id: FLOW, kind: 'endpoint', method: 'GET', route: '/cart', ...slice, count: 3000,
    error_count: EXC.KeyError[v], sampled_count: 3000, sum_duration: fsum, sum_squared_duration: fsum * FNS.view_cart.ms[v] * MS }];
  return {
    schema_version: 1, batch_id: `5e0c1a2b-7d3e-4f51-8a6b-00000000000${seq}`, service: SERVICE, service_version: version,
    host: 'record-host', pid: 4300 + seq, runtime: 'cpython 3.11.2', sensor_version: '0.1.0', sent_at: rfc3339(now),
    declarations, invocations, exception_flows, flows, flow_functions: flowFunctions,
  };
}

async function get(url, key, p) {
  const r = await fetch(`${url}${p}`, { headers: { authorization: `Bearer ${key}`, 'cache-control': 'no-cache' } });
  if (r.status !== 200) throw new Error(`GET ${p}: ${r.status} ${await r.text()}`);
  return r.json();
}

async function seed(url, key) {
  for (const [seq, [version, ago, v]] of [['1.0.0', 50, 0], ['1.1.0', 40, 1]].entries()) {
    const r = await fetch(`${url}/v1/ingest`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(batch(version, ago, v, seq + 1)),
    });
    if (r.status !== 200) throw new Error(`ingest ${version}: ${r.status} ${await r.text()}`);
  }
  await get(url, key, `/v1/functions/top?service=${SERVICE}`);
  // The detector runs after the fold: wait (bounded) for the regression.
  for (let i = 0; i < 50; i++) {
    const is = await get(url, key, `/v1/issues?service=${SERVICE}`);
    if ((is.issues || []).length) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('hud-server found no issue in 10 s');
}

// A minimal LSP client over hud-lsp --stdio.
function lsp(bin, env) {
  const p = spawn(bin, ['--stdio'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let buf = Buffer.alloc(0);
  let seq = 0;
  const pending = new Map();
  const waiters = [];
  let stderr = '';
  p.stderr.on('data', (d) => (stderr += d));
  p.stdout.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      const h = buf.indexOf('\r\n\r\n');
      if (h < 0) return;
      const len = Number(/Content-Length: (\d+)/i.exec(buf.subarray(0, h).toString())[1]);
      if (buf.length < h + 4 + len) return;
      const msg = JSON.parse(buf.subarray(h + 4, h + 4 + len).toString());
      buf = buf.subarray(h + 4 + len);
      if (msg.id !== undefined && !msg.method && pending.has(msg.id)) {
        pending.get(msg.id)(msg);
        pending.delete(msg.id);
      } else if (msg.id !== undefined && msg.method) {
        send({ jsonrpc: '2.0', id: msg.id, result: null }); // e.g. workspace/codeLens/refresh
      } else {
        for (const w of waiters.splice(0)) if (!w(msg)) waiters.push(w);
      }
    }
  });
  const send = (m) => {
    const b = JSON.stringify(m);
    p.stdin.write(`Content-Length: ${Buffer.byteLength(b)}\r\n\r\n${b}`);
  };
  return {
    proc: p,
    stderr: () => stderr,
    notify: (method, params) => send({ jsonrpc: '2.0', method, params }),
    request: (method, params) => new Promise((resolve, reject) => {
      const i = ++seq;
      const t = setTimeout(() => reject(new Error(`${method}: no answer in 15 s; stderr: ${stderr}`)), 15000);
      pending.set(i, (m) => {
        clearTimeout(t);
        if (m.error) reject(new Error(`${method}: ${JSON.stringify(m.error)}`));
        else resolve(m.result);
      });
      send({ jsonrpc: '2.0', id: i, method, params });
    }),
    until: (pred, what) => new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no ${what} in 15 s; stderr: ${stderr}`)), 15000);
      waiters.push((m) => (pred(m) ? (clearTimeout(t), resolve(m), true) : false));
    }),
    async close() {
      await this.request('shutdown', null).catch(() => {});
      this.notify('exit', null);
      p.stdin.end();
      await new Promise((r) => { if (p.exitCode !== null) r(); else p.on('exit', r); setTimeout(r, 3000); });
    },
  };
}

const CART = 'import billing.tax\nfrom shop.pricing import apply_discounts\n\n\n' +
  'def checkout(cart):\n    total = apply_discounts(cart)\n    return total + billing.tax.compute_tax(total)\n\n\n' +
  'def save_order(order):\n    pass\n';
const FILES = {
  'shop/cart.py': CART,
  'shop/views.py': 'from shop.cart import checkout\n\n\ndef view_cart(request):\n    return checkout(request.cart)\n',
  'shop/api.py': 'from shop.cart import checkout\n\ndef api_checkout(request):\n    return checkout(request.json)\n',
  'shop/pricing.py': 'def apply_discounts(cart):\n    return load_rules(cart)\n\n\ndef load_rules(cart):\n    return {}\n',
};

async function session(tmp, options, ws) {
  const env = { PATH: process.env.PATH, HOME: tmp, XDG_CONFIG_HOME: path.join(tmp, 'xdg'), HUD_CONFIG: '/dev/null',
    ASAN_OPTIONS: 'detect_leaks=0' };
  const c = lsp(lspBin, env);
  await c.request('initialize', { processId: null, rootUri: `file://${ws}`, workspaceFolders: [{ uri: `file://${ws}`, name: 'ws' }],
    capabilities: {}, initializationOptions: options });
  c.notify('initialized', {});
  const status = c.until((m) => m.method === 'hud/status' && m.params.state !== 'connecting', 'hud/status');
  c.notify('textDocument/didOpen', { textDocument: { uri: `file://${ws}/app/shop/cart.py`, languageId: 'python', version: 1, text: CART } });
  return { c, status: (await status).params };
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hud-record-'));
  // The committed answers name a fixed workspace (HUD_RECORD_WS: another one, e.g. for a recording in a build tree).
  const ws = process.env.HUD_RECORD_WS || '/tmp/hud-vscode-fixture/ws';
  let server;
  const sessions = [];
  try {
    fs.rmSync(ws, { recursive: true, force: true });
    for (const [p, text] of Object.entries(FILES)) {
      fs.mkdirSync(path.dirname(path.join(ws, 'app', p)), { recursive: true });
      fs.writeFileSync(path.join(ws, 'app', p), text);
    }
    const db = path.join(tmp, 'hud.db');
    server = await startServer(serverBin, db, 15000);
    const key = createKey(serverBin, db);
    await seed(server.url, key);

    const good = await session(tmp, { url: server.url, key, service: SERVICE }, ws);
    sessions.push(good.c);
    if (good.status.state !== 'ok') throw new Error(`hud/status: ${JSON.stringify(good.status)}`);
    const r = good.c.request.bind(good.c);
    const at = (line, character) => ({ textDocument: { uri: `file://${ws}/app/shop/cart.py` }, position: { line, character } });
    const out = {
      functionDetail: await r('hud/functionDetail', { functionId: id('checkout') }),
      functionDetailUninstrumented: await r('hud/functionDetail', { functionId: id('view_cart') }),
      functionDetailByPosition: await r('hud/functionDetail', at(5, 10)),
      callGraph: await r('hud/callGraph', { functionId: id('checkout') }),
      callGraphByPosition: await r('hud/callGraph', { ...at(6, 20), depth: 3, maxNodes: 100 }),
      errorFlows: await r('hud/errorFlows', { functionId: id('checkout') }),
      errorFlowsByPosition: await r('hud/errorFlows', at(5, 10)),
      hotPaths: await r('hud/hotPaths', { functionId: id('view_cart') }),
      hotPathsByCalls: await r('hud/hotPaths', { flowId: FLOW, by: 'calls' }),
      hotPathsByPosition: await r('hud/hotPaths', at(4, 6)),
      issues: await r('hud/issues', {}),
      flows: await r('hud/flows', {}),
      noFunction: await r('hud/callGraph', at(2, 0)),
      functionNotFound: await r('hud/functionDetail', { functionId: '00000000-0000-5000-8000-000000000000' }),
      hotPathsIdle: await r('hud/hotPaths', { functionId: SAVE_ORDER }),
      notOpen: await r('hud/callGraph', { textDocument: { uri: `file://${ws}/app/shop/views.py` }, position: { line: 3, character: 5 } }),
    };
    const bad = await session(tmp, { url: server.url, key: 'hud_0000000000000000000000000000000000000000', service: SERVICE }, ws);
    sessions.push(bad.c);
    out.unauthorized = await bad.c.request('hud/flows', {});
    const other = await session(tmp, { url: server.url, key, service: 'nosuch' }, ws);
    sessions.push(other.c);
    out.serviceNotFound = await other.c.request('hud/flows', {});

    fs.mkdirSync(outDir, { recursive: true });
    for (const [name, v] of Object.entries(out)) fs.writeFileSync(path.join(outDir, `${name}.json`), JSON.stringify(v, null, 2) + '\n');
    console.log(`record: ${Object.keys(out).length} answers written to ${outDir}`);
  } finally {
    for (const s of sessions) await s.close();
    server?.proc.kill();
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.rmSync(ws, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`record: ${e.stack || e}`);
  process.exit(1);
});
