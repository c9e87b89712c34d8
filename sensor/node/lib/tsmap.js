'use strict';
// Compiled TypeScript: a JavaScript module whose source map has one TypeScript source counts
// its functions under the identity of that .ts file, as hud-index names it (module_path,
// qualname, function_id, lines), so that lenses land on the code the engineer edits. A bundle
// (esbuild, webpack, rollup: a map of several sources) counts each function under the identity
// of the source file it came from, TypeScript or JavaScript, for the sources that are the
// service's own code (or included); the bundler's own helpers and the other sources' functions
// stay as they are.
//
// The .ts text (the map's sourcesContent, else the file) goes through the same source index
// as hud-index; the table the module registers is the .ts file's functions. Each compiled
// function is matched through the map to the .ts function whose name (or definition) starts
// at the position its own name (or definition) maps to (tsc maps both tokens), else by the
// fallbacks in match(); a pair of named functions must share the name. Compiled functions
// without a .ts counterpart (tsc's helpers __awaiter, __decorate, ...; the IIFEs of enums,
// namespaces and ES5 classes) are left as they are. Downlevel async functions and async
// generators (`return __awaiter(this, ..., function* () {...})`) count on the inner generator,
// which runs the body once per call and sees its exceptions.
const fs = require('node:fs');
const path = require('node:path');
const config = require('./config');
const sourcemap = require('./sourcemap');

const TS = /\.(c|m)?tsx?$/;
const HAS_MAP = /\/[*/][#@]\s*sourceMappingURL=/;
const DOWNLEVEL = /\b__(?:awaiter|asyncGenerator)\)?\((?:[^()]|\([^()]*\))*,\s*$/;
const P = 4; // points per function (src/positions.h)
const MODIFIERS = /^\s*export\s+(default\s+)?$/;

// The .ts source of a map: {file, text, index}, or null unless the map has exactly one
// TypeScript source, named by a path or a file: URL (a bundler's webpack:// and the like are
// not files hud-index sees). The text is the map's sourcesContent when it has it (what was
// compiled, so positions match even when the file was edited since), else the file's.
function tsSource(map, dir) {
  const ts = [];
  map.sources.forEach((s, i) => {
    if (typeof s === 'string' && TS.test(s)) ts.push(i);
  });
  if (ts.length !== 1) return null;
  const i = ts[0];
  if (/^[a-z][a-z0-9+.-]*:/i.test(map.sources[i]) && !map.sources[i].startsWith('file:')) return null;
  const file = sourcemap.sourcePath(map, dir, i);
  if (!file) return null;
  const c = Array.isArray(map.sourcesContent) ? map.sourcesContent[i] : null;
  if (typeof c === 'string') return { file, text: c, index: i, compiled: true };
  try {
    return { file, text: fs.readFileSync(file, 'utf8'), index: i };
  } catch {
    return null;
  }
}

const JS = /\.(c|m)?jsx?$/;

// webpack names a source `webpack://<namespace>/./<path below the project root>`; its own
// modules (webpack/runtime/...) and externals have no file extension of ours.
const WEBPACK = /^webpack:\/\/[^/]*\/(?:\.\/)?/;

// The sources of a bundle's map its functions count under: [{file, text, index, lang}] for each
// TypeScript or JavaScript source named by a path, a file: URL or a webpack:// URL (below ROOT,
// the project: HUD_ROOT, else the bundle's package root), not FILE itself, whose text is at hand
// (sourcesContent, else the file) and which WANTED(path) accepts.
function bundleSources(map, dir, file, wanted, root) {
  const out = [];
  map.sources.forEach((s, i) => {
    if (typeof s !== 'string' || !(TS.test(s) || JS.test(s))) return;
    const webpack = WEBPACK.test(s);
    if (/^[a-z][a-z0-9+.-]*:/i.test(s) && !s.startsWith('file:') && !webpack) return;
    const f = webpack ? (root ? path.join(root, s.replace(WEBPACK, '')) : null) : sourcemap.sourcePath(map, dir, i);
    if (!f || f === file || !wanted(f)) return;
    let text = Array.isArray(map.sourcesContent) ? map.sourcesContent[i] : null;
    const compiled = typeof text === 'string';
    if (!compiled) {
      try {
        text = fs.readFileSync(f, 'utf8');
      } catch {
        return;
      }
    }
    out.push({ file: f, text, index: i, compiled, lang: f.endsWith('.tsx') ? 'tsx' : TS.test(f) ? 'typescript' : 'javascript' });
  });
  return out;
}

// The last part of a qualname as a name to compare, or null when it says nothing: anonymous,
// constructors (ES5 names them after the class), ES5 accessors (the `get`/`set` functions of
// Object.defineProperty); tsc's renames (name_1) folded.
function lastName(q) {
  const n = q.slice(q.lastIndexOf('.') + 1).replace(/^(get|set) /, '').replace(/_\d+$/, '');
  return n === '<anonymous>' || n === 'constructor' || n === 'get' || n === 'set' ? null : n;
}

const pos = (pts, k, o) => [pts[P * k + o], pts[P * k + o + 1]];

// Which .ts function each compiled function enters: Int32Array over JS's functions (-1: none).
// KS: the compiled functions to consider (default all: those whose tokens map into SRCINDEX, for
// a bundle, candidates()); JSLINES: JSTEXT's lines when the caller has them.
function match(js, jsText, ts, tsText, lines, srcIndex, ks = null, jsLines = null, compiled = false) {
  const n = js.ids.length;
  ks ||= Array.from({ length: n }, (_, k) => k);
  const slots = new Int32Array(n).fill(-1);
  const exact = new Uint8Array(n); // paired where its name or definition maps exactly
  const taken = new Uint8Array(ts.ids.length);
  const byName = new Map(), byStart = new Map(), onLine = new Map(); // .ts line -> [m] by column
  for (let m = 0; m < ts.ids.length; m++) {
    const [l, c] = pos(ts.points, m, 0);
    byName.set(pos(ts.points, m, 2).join(':'), m);
    byStart.set(`${l}:${c}`, m);
    if (!onLine.has(l)) onLine.set(l, []);
    onLine.get(l).push(m);
  }
  for (const a of onLine.values()) a.sort((x, y) => ts.points[P * x + 1] - ts.points[P * y + 1]);
  const key = (s) => (s && s[1] === srcIndex ? `${s[2]}:${s[3]}` : null);
  const take = (k, m) => {
    if (m === undefined || m < 0 || taken[m]) return false;
    slots[k] = m;
    taken[m] = 1;
    return true;
  };
  // Where tsc maps a function: its name (or its definition) maps to the .ts one's.
  for (const k of ks) {
    const name = key(sourcemap.exact(lines, ...pos(js.points, k, 2)));
    const start = key(sourcemap.exact(lines, ...pos(js.points, k, 0)));
    if ([byName.get(name), byStart.get(start), byStart.get(name), byName.get(start)].some((m) => take(k, m))) exact[k] = 1;
  }
  // Compilers that map the expression around a function but not the function (esbuild, as
  // tsx runs it: `const f = __name(async () => {...}, "f")`): the nearest segment before it.
  for (const k of ks) {
    if (slots[k] >= 0) continue;
    const at = key(sourcemap.before(lines, ...pos(js.points, k, 0)));
    if (at) [byStart.get(at), byName.get(at)].some((m) => take(k, m));
  }
  // Maps that mark only where lines or statements start (webpack's, for the module code it
  // copies as it is): the function's name (or definition) at the same distance from the segment
  // before it on its line, in the source, is a .ts function's.
  for (const k of ks) {
    if (slots[k] >= 0) continue;
    for (const o of [2, 0]) {
      const [l, c] = pos(js.points, k, o);
      const seg = sourcemap.before(lines, l, c);
      if (!seg || seg[1] !== srcIndex) continue;
      const at = `${seg[2]}:${seg[3] + c - seg[0]}`;
      if ([byName.get(at), byStart.get(at)].some((m) => take(k, m))) break;
    }
  }
  // A function whose head maps only from its parameters or a modifier: ES5 moves a default
  // parameter's arrow into the body (`if (f === void 0) { f = function (a) {...} }`), esbuild
  // drops an arrow's parentheses and maps `export default async function f` from `export`.
  // The first segment in the compiled head (before its `{` or `=>`) maps into the .ts head:
  // the latest .ts function starting on that line before it, else the one it starts right
  // after `export` / `export default`.
  jsLines ||= jsText.split('\n');
  let tsLines = null;
  for (const k of ks) {
    if (slots[k] >= 0) continue;
    const [l, c] = pos(js.points, k, 0);
    const text = jsLines[l] || '';
    const ends = [text.indexOf('{', c), text.indexOf('=>', c)].filter((e) => e >= 0);
    const seg = sourcemap.from(lines, l, c);
    if (!seg || seg[1] !== srcIndex || (ends.length && seg[0] >= Math.min(...ends))) continue;
    const cands = onLine.get(seg[2]) || [];
    let best = -1;
    for (const m of cands) if (ts.points[P * m + 1] <= seg[3]) best = m;
    if (best < 0) {
      tsLines ||= tsText.split('\n');
      const t = tsLines[seg[2]] || '';
      best = cands.find((m) => MODIFIERS.test(t.slice(seg[3], ts.points[P * m + 1]))) ?? -1;
    }
    take(k, best);
  }
  // A pair whose functions both have names must have one name (up to tsc's renames `f_1`):
  // positions from a .ts file edited since it was compiled must not pair strangers. Not for an
  // exact pair into the text that was COMPILED (the map's sourcesContent): a minifier renames.
  for (const k of ks) {
    if (slots[k] < 0 || (compiled && exact[k])) continue;
    const a = lastName(js.names[k]), b = lastName(ts.names[slots[k]]);
    if (a && b && a !== b) {
      taken[slots[k]] = 0;
      slots[k] = -1;
    }
  }
  // Downlevel async: the .ts function moves to the generator its compiled function hands to
  // __awaiter / __asyncGenerator.
  for (const g of ks) {
    const f = js.parents[g];
    if (f < 0 || slots[g] >= 0 || slots[f] < 0 || !ts.async[slots[f]] || js.async[f]) continue;
    const [l, c] = pos(js.points, g, 0);
    const line = jsLines[l] || '';
    if (!line.startsWith('function*', c) || !DOWNLEVEL.test(line.slice(Math.max(0, c - 200), c))) continue;
    slots[g] = slots[f];
    slots[f] = -1;
  }
  return slots;
}

// Per map source, the compiled functions any of whose tokens match() looks at maps into it:
// Map(source index -> [k]), so that each source of a bundle is matched against its own functions.
function candidates(js, lines) {
  const out = new Map();
  for (let k = 0; k < js.ids.length; k++) {
    const seen = new Set();
    for (const o of [0, 2]) {
      const [l, c] = pos(js.points, k, o);
      for (const seg of [sourcemap.before(lines, l, c), sourcemap.from(lines, l, c)]) {
        if (!seg || seen.has(seg[1])) continue;
        seen.add(seg[1]);
        if (!out.has(seg[1])) out.set(seg[1], []);
        out.get(seg[1]).push(k);
      }
    }
  }
  return out;
}

// For SOURCE (the compiled text of FILE): {parts, js, slots, lineMap} — parts: the original
// files its functions count under, [{file, mod, fns}] (their functions, the addon's functions(),
// numbered one part after the other), js: the compiled ones, slots for instrument() over the
// parts' functions, lineMap: the original line of each compiled line — or null when SOURCE is
// not compiled TypeScript nor a bundle with a usable map. OPTS.wanted(path): whether a bundle's
// source is instrumented (lib/instrument.js).
function plan(native, source, file, opts) {
  if (!HAS_MAP.test(source)) return null;
  const loaded = sourcemap.load(source, file);
  if (!loaded) return null;
  const ts = tsSource(loaded.map, loaded.dir);
  const srcs = ts ? [{ ...ts, lang: ts.file.endsWith('.tsx') ? 'tsx' : 'typescript' }]
    : loaded.map.sources.length >= 2 && opts.wanted
      ? bundleSources(loaded.map, loaded.dir, file, opts.wanted, opts.root ? path.resolve(opts.root) : config.packageRoot(file))
      : [];
  if (!srcs.length) return null;
  let lines;
  try {
    lines = sourcemap.decode(loaded.map.mappings);
  } catch {
    return null;
  }
  const js = native.functions(source, config.modulePath(file, opts.root), 'javascript');
  const slots = new Int32Array(js.ids.length).fill(-1);
  const parts = [];
  const bySource = ts ? null : candidates(js, lines);
  const jsLines = source.split('\n');
  let offset = 0;
  for (const src of srcs) {
    const ks = bySource ? bySource.get(src.index) : null;
    if (bySource && !ks) continue; // none of the bundle's functions comes from it
    const mod = config.modulePath(src.file, opts.root);
    const fns = native.functions(src.text, mod, src.lang);
    const mine = match(js, source, fns, src.text, lines, src.index, ks, jsLines, !!src.compiled);
    let used = false;
    for (let k = 0; k < mine.length; k++)
      if (mine[k] >= 0 && slots[k] < 0) {
        slots[k] = offset + mine[k];
        used = true;
      }
    if (!used && !ts) continue; // a source none of whose functions is in the bundle
    parts.push({ file: src.file, mod, fns, offset });
    offset += fns.ids.length;
  }
  if (!parts.length) return null;
  return { parts, js, slots, lineMap: lineMap(lines, new Set(srcs.map((x) => x.index))) };
}

// The original line (1-based) of each compiled line: that of its first segment in one of
// SOURCES (map indexes), 0 for a line with none (call-site lines, lib/runtime.js).
function lineMap(lines, sources) {
  return lines.map((segs) => {
    for (const g of segs) if (sources.has(g[1])) return g[2] + 1;
    return 0;
  });
}

// The runtime's declarations of each part's functions: [start, end, flags (1 async, 2
// generator)] per function, lines of its original file. A generator is one whose compiled
// function is one, unless the original function is async and its compiled one is not (tsc's
// downlevel __awaiter runs the body as a generator; an async generator compiled that way is
// declared as not one).
function meta(plan, jsMeta) {
  const { parts, slots } = plan;
  const total = parts.reduce((n, p) => n + p.fns.ids.length, 0);
  const gen = new Uint8Array(total);
  const partOf = (g) => parts.findLast((p) => p.offset <= g);
  for (let k = 0; k < slots.length; k++) {
    const g = slots[k];
    if (g < 0) continue;
    const p = partOf(g);
    const fl = jsMeta[3 * k + 2];
    if (fl & 2 && (!p.fns.async[g - p.offset] || fl & 1)) gen[g] = 1;
  }
  return parts.map((p) => {
    const out = [];
    for (let m = 0; m < p.fns.ids.length; m++)
      out.push(p.fns.startLines[m], p.fns.endLines[m], (p.fns.async[m] ? 1 : 0) | (gen[p.offset + m] ? 2 : 0));
    return out;
  });
}

module.exports = { plan, match, meta, tsSource, TS };
