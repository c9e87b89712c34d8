// ES module loader hooks (module.register, Node 20): the `load` hook rewrites the source of
// every wanted ES module. Runs on Node's loader thread; the main thread's `__hud` receives
// each module's table when the module runs (lib/instrument.js).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { wanted, rewrite, stats, native } = require('./lib/instrument.js');
const { status } = require('./lib/config.js');

let opts = { include: [], exclude: [], root: undefined };

export async function initialize(data) {
  if (data) opts = data;
}

export async function load(url, context, nextLoad) {
  const r = await nextLoad(url, context);
  if (r.format !== 'module' || !url.startsWith('file:') || r.source == null) return r;
  const file = fileURLToPath(url);
  if (!wanted(file, opts)) return r;
  const source = typeof r.source === 'string' ? r.source : Buffer.from(r.source).toString('utf8');
  const code = rewrite(source, file, url, url, opts);
  if (code === null) return r;
  // A rewrite that breaks the module would stop it from loading, and nothing here compiles the
  // text to find out (CommonJS falls back on V8's SyntaxError, lib/cjs.js): its tree must be as
  // clean as the source's, which the rewrite required.
  if (!native.parses(code, 'javascript')) {
    stats.failed++;
    status(`${file} runs uninstrumented: its rewrite does not parse`);
    return r;
  }
  return { ...r, source: code };
}
