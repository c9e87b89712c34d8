// ES module loader hooks (module.register, Node 20): the `load` hook rewrites the source of
// every wanted ES module. Runs on Node's loader thread; the main thread's `__hud` receives
// each module's table when the module runs (lib/instrument.js).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { wanted, rewrite } = require('./lib/instrument.js');

let opts = { include: [], exclude: [], root: undefined };

// A framework's ES module build (BullMQ's dist/esm worker) hands its class to lib/frameworks.js
// on the main thread, in a line appended after the module's last (no line moves).
const ESM_PATCHES = /[/\\]bullmq[/\\]dist[/\\]esm[/\\]classes[/\\]worker\.js$/;
const ESM_PATCH = ';globalThis[Symbol.for("hud.frameworks")]?.bullmqWorker(Worker);';

const text = (source) => (typeof source === 'string' ? source : Buffer.from(source).toString('utf8'));

export async function initialize(data) {
  if (data) opts = data;
}

export async function load(url, context, nextLoad) {
  const r = await nextLoad(url, context);
  if (r.format !== 'module' || !url.startsWith('file:') || r.source == null) return r;
  const file = fileURLToPath(url);
  if (ESM_PATCHES.test(file)) return { ...r, source: `${text(r.source)}\n${ESM_PATCH}` };
  if (!wanted(file, opts)) return r;
  const code = rewrite(text(r.source), file, url, url, opts);
  return code === null ? r : { ...r, source: code };
}
