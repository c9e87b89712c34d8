// A real hud-server on 127.0.0.1 holding one known batch of the shop service (the figures of
// tests/lsp/test_lsp.c's fixture), with a key made by `hud-server keys create`.
import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';

const NS = 1e9;
const MS = 1e6;

// function_id = uuid5(HUD_FUNCTION_ID_NAMESPACE, module_path + ":" + qualname) (docs/protocol.md).
const FUNCTION_NS = Buffer.from('09c84c8d869157438311698989d60e14', 'hex');
export function functionId(module, qualname) {
  const h = createHash('sha1').update(FUNCTION_NS).update(module + ':' + qualname, 'utf8').digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

// source_code_hash of lines START..END (1-based) of TEXT (docs/protocol.md).
export function sourceHash(text, start, end) {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const h = createHash('sha1');
  for (const l of lines.slice(start - 1, end)) h.update(l.replace(/[ \t\r\f\v]+$/, '') + '\n');
  return h.digest('hex');
}

// The bin index of hud/sketch.h (common/sketch.c value_index): a cubic approximation of log2 on the
// mantissa, times 1 / (10/7 * ln(gamma)).
const CUBIC = [6 / 35, -3 / 5, 10 / 7];
function approxLog2(v) {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, v);
  const hi = dv.getUint32(0);
  const e = ((hi >>> 20) & 0x7ff) - 1023;
  dv.setUint32(0, (hi & 0x000fffff) | 0x3ff00000);
  const x = dv.getFloat64(0) - 1;
  return e + ((CUBIC[0] * x + CUBIC[1]) * x + CUBIC[2]) * x;
}
function binIndex(alpha, v) {
  const t = approxLog2(v) / (CUBIC[2] * 2 * Math.atanh(alpha));
  const i = Math.trunc(t);
  return i + (i < t ? 1 : 0);
}

// The compact sketch of N1 values D1 and N2 values D2 (ns, >= 1, D1 < D2).
export function sketch(n1, d1, n2, d2) {
  const alpha = 0.005;
  const i1 = binIndex(alpha, d1);
  if (!n2) return { a: alpha, z: 0, o: i1, c: `${n1}` };
  const gap = binIndex(alpha, d2) - i1 - 1;
  const mid = gap === 0 ? '' : gap === 1 ? '0,' : `-${gap},`;
  return { a: alpha, z: 0, o: i1, c: `${n1},${mid}${n2}` };
}

// The sample file the editor opens (services/backend/shop/db.py below the workspace root).
export const SAMPLE = [
  'import time', '', '', 'class Pool:', '    def acquire(self):', '        return 1', '', '',
  'def fetch_order(order_id):', '    return {"id": order_id}', '', '',
  'def fetch_items(order_id):', '    return []', '', '',
  'def save_order(order):', '    pass', '',
].join('\n');

// Figures per function (window 1 h: calls / 60 per minute); 90% of the sampled calls take d1, 10% d2.
// lines: the function in SAMPLE; deployed: its code is SAMPLE's (else the lens says "≠ prod").
export const FUNCTIONS = [
  { name: 'Pool.acquire', lines: [5, 6], calls: 30, errors: 3, sampled: 30, d1: 850e3, d2: 0, deployed: false },
  { name: 'fetch_order', lines: [9, 10], calls: 72000, errors: 288, sampled: 1000, d1: 10 * MS, d2: 38 * MS, deployed: true },
  { name: 'fetch_items', lines: [13, 14], calls: 600, errors: 0, sampled: 600, d1: 2.5 * MS, d2: 0, deployed: true },
  { name: 'save_order', lines: [17, 18], calls: 0, deployed: true }, // declared, never called
];
const MODULE = 'shop/db.py';

function rfc3339(ms) {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, '.000000+00:00');
}

export function batch() {
  const now = Date.now();
  const slice = Math.floor(now / 60000) * 60000 - 5 * 60000;
  const declarations = [];
  const invocations = [];
  for (const f of FUNCTIONS) {
    const id = functionId(MODULE, f.name);
    const hash = f.deployed ? sourceHash(SAMPLE, f.lines[0], f.lines[1]) : '0123456789abcdef0123456789abcdef01234567';
    declarations.push({
      function_id: id, name: f.name, file: `/srv/app/${MODULE}`, module_path: MODULE,
      start_line: f.lines[0], end_line: f.lines[1], is_async: false, source_code_hash: hash,
    });
    if (!f.calls) continue;
    const n2 = f.d2 ? f.sampled / 10 : 0;
    const n1 = f.sampled - n2;
    const sum = n1 * f.d1 + n2 * f.d2;
    const inv = {
      function_id: id, caller_function_id: [], timestamp: rfc3339(slice), timeslice: 60 * NS, count: f.calls,
      sampled_count: f.sampled, sum_duration: sum, sum_squared_duration: n1 * f.d1 * f.d1 + n2 * f.d2 * f.d2,
      self_duration: sum, duration_sketch: sketch(n1, f.d1, n2, f.d2),
    };
    if (f.errors) inv.exceptions = { TimeoutError: f.errors };
    invocations.push(inv);
  }
  return {
    schema_version: 1, batch_id: '6f1c8f43-3a55-4d2b-9a43-5b8a8f1f0a01', service: 'shop', service_version: '1.0.0',
    host: 'test-host', pid: 4242, runtime: 'cpython 3.11.2', sensor_version: '0.1.0', sent_at: rfc3339(now),
    declarations, invocations,
  };
}

// Starts `hud-server --db DB --listen 127.0.0.1:0` and resolves {proc, url} once it printed its port.
export function startServer(bin, db, timeoutMs) {
  return new Promise((resolve, reject) => {
    const proc = spawn(bin, ['--db', db, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`hud-server did not start: ${out}`)); }, timeoutMs);
    const onData = (d) => {
      out += d;
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, url: `http://127.0.0.1:${m[1]}` });
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`hud-server exited (${code}): ${out}`)); });
  });
}

// `hud-server keys create --env prod --role ingest,read --db DB`: the key it prints.
export function createKey(bin, db) {
  const out = execFileSync(bin, ['keys', 'create', '--env', 'prod', '--role', 'ingest,read', '--db', db],
    { encoding: 'utf8', timeout: 10000, stdio: ['ignore', 'pipe', 'pipe'] });
  const key = out.split('\n')[0].trim();
  if (!key.startsWith('hud_')) throw new Error(`keys create printed: ${out}`);
  return key;
}

// Posts the batch, then waits for its fold (a no-cache read waits for it, as test_lsp.c does).
export async function seed(url, key) {
  const auth = { authorization: `Bearer ${key}` };
  let r = await fetch(`${url}/v1/ingest`, {
    method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(batch()),
  });
  if (r.status !== 200) throw new Error(`ingest: ${r.status} ${await r.text()}`);
  r = await fetch(`${url}/v1/functions/top?service=shop`, { headers: { ...auth, 'cache-control': 'no-cache' } });
  if (r.status !== 200) throw new Error(`top: ${r.status} ${await r.text()}`);
  return r.json();
}
