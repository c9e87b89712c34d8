// From the Node sensor to the editor, all real: the compiled TypeScript fixture (typescript/app,
// tsc to CommonJS with source maps) and the JavaScript ground-truth workload run under the
// sensor and send to a real hud-server; the real hud-lsp, opened on the source files as an
// editor opens them (a .ts file and a .js file), answers lenses on the functions' names with
// their exact calls, a hover with the error count, and the call hierarchy with the callers'
// call-site lines of the source the engineer edits.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { hudServer, lastJson, makeApp, node, env, OUT } from './support.mjs';
import { APP, haveNpm } from './ts_support.mjs';

if (!haveNpm()) process.exit(77);
const LSP = process.env.HUD_LSP_BIN;
assert.ok(LSP && fs.existsSync(LSP), `hud-lsp not built at ${LSP}`);
const here = path.dirname(new URL(import.meta.url).pathname);

// A JSON-RPC client over hud-lsp's stdio: request(method, params) -> result; notify(); the
// server's own requests are answered null (workspace/configuration: no section).
function lsp(opts) {
  const child = spawn(LSP, [], { stdio: ['pipe', 'pipe', 'pipe'], env: env({ XDG_CONFIG_HOME: '/nonexistent-hud-config' }) });
  let buf = Buffer.alloc(0), next = 1, stderr = '';
  const pending = new Map();
  const notes = [];
  child.stderr.on('data', (d) => (stderr += d));
  const send = (msg) => {
    const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', ...msg }));
    child.stdin.write(`Content-Length: ${body.length}\r\n\r\n`);
    child.stdin.write(body);
  };
  child.stdout.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const len = Number(/Content-Length: (\d+)/i.exec(buf.subarray(0, end).toString())[1]);
      if (buf.length < end + 4 + len) return;
      const msg = JSON.parse(buf.subarray(end + 4, end + 4 + len).toString());
      buf = buf.subarray(end + 4 + len);
      if (msg.method && msg.id !== undefined) send({ id: msg.id, result: null });
      else if (msg.method) notes.push(msg);
      else if (msg.id !== undefined && pending.has(msg.id)) {
        pending.get(msg.id)(msg);
        pending.delete(msg.id);
      }
    }
  });
  const request = (method, params) => new Promise((resolve, reject) => {
    const id = next++;
    const t = setTimeout(() => reject(new Error(`${method}: no answer in 20 s\n${stderr}`)), 20000);
    pending.set(id, (m) => {
      clearTimeout(t);
      if (m.error) reject(new Error(`${method}: ${JSON.stringify(m.error)}`));
      else resolve(m.result);
    });
    send({ id, method, params });
  });
  const notify = (method, params) => send({ method, params });
  return {
    notes,
    async start(root, service) {
      const uri = `file://${root}`;
      await request('initialize', { processId: process.pid, rootUri: uri, workspaceFolders: [{ uri, name: path.basename(root) }],
        capabilities: { textDocument: { hover: { contentFormat: ['plaintext'] }, codeLens: {} } },
        initializationOptions: { ...opts, service } });
      notify('initialized', {});
    },
    open(file, languageId) {
      notify('textDocument/didOpen', { textDocument: { uri: `file://${file}`, languageId, version: 1, text: fs.readFileSync(file, 'utf8') } });
      return { uri: `file://${file}` };
    },
    request,
    async stop() {
      await request('shutdown', null);
      notify('exit', null);
      await new Promise((resolve) => child.on('exit', resolve));
    },
  };
}

// hud-index's functions of FILE (module paths relative to ROOT): [{qualname, start_line, end_line, ...}].
function indexOf(root, file) {
  const out = spawnSync(process.env.HUD_INDEX_BIN, ['--root', root, file], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  return out.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

// Lenses of DOC until they are there (the figures arrive after the file opens): {qualname:
// title} of the functions FNS (hud-index's records of the file), by the lens's function_id, each
// on its function's lines.
async function lenses(client, doc, fns) {
  let got = [];
  for (let k = 0; k < 50 && !got.length; k++) {
    got = (await client.request('textDocument/codeLens', { textDocument: doc })) || [];
    if (!got.length) await new Promise((r) => setTimeout(r, 200));
  }
  if (!got.length) {
    const why = await client.request('workspace/executeCommand', { command: 'hud.explain', arguments: [doc.uri] });
    assert.fail(`no lenses on ${doc.uri}: ${JSON.stringify(why)}\n${client.notes.map((n) => JSON.stringify(n)).join('\n')}`);
  }
  const out = {};
  for (const l of got) {
    const line = l.range.start.line + 1;
    const f = fns.filter((x) => x.function_id === l.command.arguments[0] && x.start_line <= line && line <= x.end_line);
    assert.ok(f.length, `a lens on line ${line} of no function with its id ${l.command.arguments[0]}`);
    out[f[0].qualname] = l.command.title;
  }
  return out;
}

const dir = path.join(OUT, 'ts_editor');
fs.rmSync(dir, { recursive: true, force: true });
fs.mkdirSync(dir, { recursive: true });
const hud = await hudServer(dir);
try {
  // The sensor's runs: compiled TypeScript (cjs2020) and the JavaScript workload.
  const ts = node(['--import', 'hud-sensor/register', path.join('cjs2020', 'main.js')], APP, hud.sensorEnv('ts-shop'));
  lastJson(ts, 'typescript run');
  const js = makeApp('js_editor');
  lastJson(node(['--import', 'hud-sensor/register', 'ground_truth_driver.cjs', 'workload.cjs'], js, hud.sensorEnv('js-shop')), 'javascript run');
  // The server folds batches as they come: wait until both services answer (bounded).
  for (const service of ['ts-shop', 'js-shop'])
    for (let k = 0; ; k++) {
      if ((await hud.get('/v1/functions/top', { service, limit: 5 })).items.length) break;
      assert.ok(k < 100, `no functions of ${service} on the server`);
      await new Promise((r) => setTimeout(r, 100));
    }
  const opts = { url: `http://127.0.0.1:${hud.port}`, key: hud.keys.read, window: '1h', lensLayout: '{calls} calls' };

  // TypeScript: lenses on src/workload.ts are its functions' exact calls (expected.json).
  const expected = JSON.parse(fs.readFileSync(path.join(here, 'typescript', 'expected.json'), 'utf8'));
  const tsFile = path.join(APP, 'src', 'workload.ts');
  const tsFns = indexOf(APP, tsFile);
  const c1 = lsp(opts);
  await c1.start(APP, 'ts-shop');
  const tsDoc = c1.open(tsFile, 'typescript');
  const want = {};
  for (const [name, [calls]] of Object.entries(expected['src/workload.ts'])) if (!name.includes('<anonymous>')) want[name] = `${calls} calls`;
  const tsGot = await lenses(c1, tsDoc, tsFns);
  for (const k of Object.keys(tsGot)) if (k.includes('<anonymous>')) delete tsGot[k];
  assert.deepEqual(tsGot, want, 'lenses on src/workload.ts');
  // Hover on risky: 4 calls, 2 of which raised.
  const risky = tsFns.find((f) => f.qualname === 'risky');
  const hover = await c1.request('textDocument/hover', { textDocument: tsDoc, position: { line: risky.start_line - 1, character: 10 } });
  const text = typeof hover.contents === 'string' ? hover.contents : hover.contents.value;
  assert.match(text, /4 in the window/, `hover of risky: ${text}`);
  assert.match(text, /errors \| 50% \(2 calls\)/, `hover of risky: ${text}`);
  // Call hierarchy: add is called by apply, at line 27 of the .ts file.
  const addFn = tsFns.find((f) => f.qualname === 'add');
  const [item] = await c1.request('textDocument/prepareCallHierarchy', { textDocument: tsDoc, position: { line: addFn.start_line - 1, character: 7 } });
  assert.equal(item.name, 'add');
  const incoming = await c1.request('callHierarchy/incomingCalls', { item });
  assert.deepEqual(incoming.map((c) => [c.from.name, c.from.uri, c.fromRanges.map((r) => r.start.line + 1)]),
    [['apply', tsDoc.uri, [27]]], 'callers of add, on the .ts lines');
  await c1.stop();

  // JavaScript: lenses on workload.cjs are expected.json's calls.
  const jsExpected = JSON.parse(fs.readFileSync(path.join(js, 'expected.json'), 'utf8'));
  const jsFile = path.join(js, 'workload.cjs');
  const jsFns = indexOf(js, jsFile);
  const c2 = lsp(opts);
  await c2.start(js, 'js-shop');
  const jsDoc = c2.open(jsFile, 'javascript');
  const jsGot = await lenses(c2, jsDoc, jsFns);
  for (const k of Object.keys(jsGot)) if (k.includes('<anonymous>')) delete jsGot[k];
  const jsWant = {};
  for (const [name, [calls]] of Object.entries(jsExpected)) if (!name.includes('<anonymous>')) jsWant[name] = `${calls} calls`;
  assert.deepEqual(jsGot, jsWant, 'lenses on workload.cjs');
  await c2.stop();
  console.log(`editor: hud-lsp's lenses on src/workload.ts (${Object.keys(tsGot).length} functions) and workload.cjs ` +
    `(${Object.keys(jsGot).length}) are the sensor's exact calls; hover and callers on the .ts lines`);
} finally {
  hud.stop();
}
