'use strict';
// One module's rewrite (src/rewrite.h) plus what the runtime needs of it: a trailer
// function, hoisted, that hands the module's table to `__hud.table` from the prologue, and
// (HUD_STACK_MODE=sourcemap) the source map. Used on the main thread (CommonJS) and on the loader thread (ES modules).
const path = require('node:path');
const config = require('./config');
const tsmap = require('./tsmap');

const native = require(path.join(__dirname, '..', 'hud_sensor.node'));
const PROLOGUE = 'var __hud_b=__hud.table(__hud_t());';
// KEY [path, url]: a module's top-level `this` is undefined in an ES module only.
const PROLOGUE_EITHER = 'var __hud_b=__hud.table(__hud_t(),this);';
const HAS_MAP = /\/[*/][#@]\s*sourceMappingURL=/;
const PKG_DIR = path.dirname(__dirname) + path.sep;

const stats = { modules: 0, functions: 0, skipped: 0, failed: 0, typescript: 0, unmapped: 0 };

// Whether FILE is instrumented: our languages, the service's own code (node_modules only
// when an include glob names it), no exclude glob, never the sensor itself.
function wanted(file, opts) {
  if (!(config.lang(file) || tsmap.TS.test(file)) || file.startsWith(PKG_DIR)) return false;
  const mod = config.modulePath(file, opts.root);
  const nm = file.lastIndexOf(`${path.sep}node_modules${path.sep}`);
  const names = [mod];
  if (nm >= 0) {
    const rest = file.slice(nm + 14).split(path.sep);
    names.push(rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0], rest.join('/'));
  }
  const hit = (globs) => globs.some((g) => names.some((n) => config.globRe(g).test(n)));
  if (hit(opts.exclude)) return false;
  return nm < 0 || hit(opts.include);
}

// The instrumented text of SOURCE, or null to run it as it is. KEY is the file name V8
// reports in stack frames (the path for CommonJS, the file: URL for ES modules).
function rewrite(source, file, key, url, opts) {
  const prologue = Array.isArray(key) ? PROLOGUE_EITHER : PROLOGUE;
  let mod = config.modulePath(file, opts.root);
  // Compiled TypeScript enters the .ts file's functions, a bundle its sources' (lib/tsmap.js); a
  // map that cannot be used leaves the module under its own identity.
  let ts = null;
  try {
    ts = tsmap.plan(native, source, file, { ...opts, wanted: (f) => wanted(f, opts) });
  } catch {
    stats.unmapped++;
  }
  // A .ts file reaches us compiled by a loader (tsx, ts-node) with its map, else not at all.
  if (!ts && tsmap.TS.test(file)) {
    stats.skipped++;
    return null;
  }
  let r;
  try {
    r = ts
      ? native.instrument(source, mod, url, 'javascript', prologue, ts.slots)
      : native.instrument(source, mod, url, 'javascript', prologue);
  } catch (err) {
    stats.failed++;
    return null;
  }
  if (!r.instrumented) {
    stats.skipped++;
    return null;
  }
  stats.modules++;
  stats.functions += r.instrumented;
  let table = [r.ids, r.names, key, Array.from(r.inserts), mod, Array.from(r.meta), r.hashes];
  if (ts) {
    // The first original file's table, then the others' (a bundle), numbered on after it.
    const metas = tsmap.meta(ts, r.meta), [p0] = ts.parts;
    const more = ts.parts.slice(1).map((p, i) => [p.fns.ids, p.fns.names, p.mod, metas[i + 1], p.fns.hashes]);
    table = [p0.fns.ids, p0.fns.names, key, Array.from(r.inserts), p0.mod, metas[0], p0.fns.hashes, ts.lineMap, more];
    stats.typescript++;
  }
  let code = `${r.code}\n;function __hud_t(){return${JSON.stringify(table)}}`;
  // The map only for Node's own source-map support: in "exact" mode the frames already carry
  // original columns, and Node (--enable-source-maps) would map them a second time.
  if (opts.stackMode === 'sourcemap' && !HAS_MAP.test(source))
    code += `\n//# sourceMappingURL=data:application/json;base64,${Buffer.from(r.map).toString('base64')}`;
  return code;
}

module.exports = { wanted, rewrite, stats, native };
