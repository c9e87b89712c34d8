'use strict';
// error.stack as without the sensor. The rewrite moves no line, but columns after inserted
// text shift on the lines that received it. Two ways to put them back (HUD_STACK_MODE):
//
// - "exact" (default): the frames of rewritten files reach Error.prepareStackTrace (Node's
//   default formatter or any other) with their original column, from each file's insertion
//   list; their text is V8's own with only the column changed.
// - "sourcemap": Node's source-map support (process.setSourceMapsEnabled(true)) with the map
//   appended to each rewritten module. Node re-creates the frame text itself, which differs
//   from V8's in places (measured in tests/sensor_node; docs/sensor-node.md).
// - "off": nothing; columns on instrumented lines are those of the rewritten text.

// The collections' methods as they were when the sensor loaded: what follows runs inside the
// application's error.stack and its modules' loads, and the application may have deleted them or
// spy on them (test262's tests do both).
const apply = Reflect.apply;
const own = (proto, name) => {
  const f = proto[name];
  return (o, a, b) => apply(f, o, [a, b]);
};
const mapGet = own(Map.prototype, 'get'), mapSet = own(Map.prototype, 'set'), mapHas = own(Map.prototype, 'has');
const mapEach = own(Map.prototype, 'forEach');
const weakGet = own(WeakMap.prototype, 'get'), weakSet = own(WeakMap.prototype, 'set');
const weakDelete = own(WeakMap.prototype, 'delete');
const setAdd = own(WeakSet.prototype, 'add'), setHas = own(WeakSet.prototype, 'has');

const files = new Map(); // file name as V8 reports it -> Map(line (1-based) -> [col, len, ...])

let registered = 0; // register() calls: a rewritten module's first statement makes one

// Each line's insertions as [start, length] pairs, in a typed array after their count: a push
// onto an array would run a setter that an application put on Array.prototype, and a typed
// array's length is a getter it can replace (test262's tests do both).
function register(file, inserts) {
  registered++;
  const lines = new Map();
  for (let i = 0; i < inserts.length; i += 3) mapSet(lines, inserts[i] + 1, (mapGet(lines, inserts[i] + 1) || 0) + 2);
  mapEach(lines, (n, line) => mapSet(lines, line, new Int32Array(n + 1)));
  for (let i = 0; i < inserts.length; i += 3) {
    const a = mapGet(lines, inserts[i] + 1), w = a[0] + 1;
    a[w] = inserts[i + 1];
    a[w + 1] = inserts[i + 2];
    a[0] += 2;
  }
  mapSet(files, file, lines);
}

// Original 1-based column of generated 1-based column COL on LINE of FILE.
function originalColumn(file, line, col) {
  const lines = mapGet(files, file), a = lines && mapGet(lines, line);
  if (!a) return col;
  const c = col - 1, end = a[0] + 1;
  let removed = 0;
  for (let i = 1; i < end; i += 2) {
    const start = a[i], len = a[i + 1];
    if (c < start) break;
    if (c < start + len) return start - removed + 1; // inside inserted text: its anchor
    removed += len;
  }
  return c - removed + 1;
}

// The sensor's own frames (its wrappers: raiseOwn() below) are left out, so the frames that
// remain are exactly those of a run without the sensor.
const OWN_DIR = require('node:path').dirname(__dirname) + require('node:path').sep;
const { disguise } = require('./fntext');

function notOurs(cs) {
  const f = cs.getFileName();
  return !(f && f.startsWith(OWN_DIR));
}

// The sensor's wrappers on the stack (lib/cjs.js's compile wrapper while a module's top level
// runs, process.emit, lib/frameworks.js's wrappers of a framework's calls into the application)
// raise Error.stackTraceLimit by their number of frames while their callee runs, so that V8
// captures as many of the application's frames as without them. V8 cuts the trace at the raised
// limit; when a frame of the sensor's lies beyond the cut, frames too many remain after
// filtering, so traces are cut again at the application's limit.
// raiseOwn(k) -> the limit to give lowerOwn(limit) once the wrapper's callee returned.
// Per raise, innermost last: the limit, and what it was raised to (limits[0, nlimits)). A stack
// of its own length, not the array's: changing an array's length costs ~50 ns, and Express
// raises once per layer.
// A raised limit carries a mark, a quarter (V8 floors the limit, so it captures the same
// frames): a change the application makes meanwhile keeps the mark only when it is relative
// (bluebird's `Error.stackTraceLimit += 6` at load, under the compile wrapper), and is then
// kept relative to the limit underneath; a value set outright (`= 50`) stays as set.
const MARK = 0.25;
const limits = [];
let nlimits = 0;
function raiseOwn(k = 1) {
  const limit = Error.stackTraceLimit;
  if (typeof limit !== 'number' || !Number.isFinite(limit)) return undefined;
  const to = limit + k + (Number.isInteger(limit) ? MARK : 0);
  limits[nlimits++] = limit;
  limits[nlimits++] = to;
  Error.stackTraceLimit = to;
  return limit;
}
// The limit NOW with the raise from LIMIT to RAISED undone.
function undo(now, limit, raised) {
  if (now === raised) return limit;
  const marked = typeof now === 'number' && Number.isFinite(now) && now - Math.floor(now) === raised - Math.floor(raised);
  return marked ? limit + (now - raised) : now;
}
function lowerOwn(limit) {
  if (limit === undefined) return;
  nlimits -= 2;
  const now = Error.stackTraceLimit, v = undo(now, limit, limits[nlimits + 1]);
  if (v !== now) Error.stackTraceLimit = v;
}
// The limit as the application set it: raises undone from the innermost out.
function appLimit() {
  let l = Error.stackTraceLimit;
  for (let i = nlimits - 2; i >= 0; i -= 2) l = undo(l, limits[i], limits[i + 1]);
  return typeof l === 'number' ? l : Infinity;
}

// An object whose methods are V8's CallSite methods of THIS.cs. No loop of for-of and no spread:
// both run the array iterator, which the application may have replaced or deleted.
function delegating(cs) {
  const proto = {};
  const keys = Object.getOwnPropertyNames(Object.getPrototypeOf(cs));
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (k !== 'constructor' && typeof cs[k] === 'function')
      proto[k] = function () { return apply(this.cs[k], this.cs, arguments); };
  }
  return proto;
}

// A frame of a rewritten file with its original column: V8's CallSite methods, except the
// column and the text.
let siteProto = null;
function makeSiteProto(cs) {
  siteProto = delegating(cs);
  siteProto.getColumnNumber = function () { return this.col; };
  // Node's source-map support names a frame from where its function starts (a minified one).
  siteProto.getEnclosingColumnNumber = function () { return this.ecol; };
  siteProto.getEvalOrigin = function () { return this.origin; };
  siteProto.toString = function () {
    let s = String(this.cs);
    const file = this.cs.getFileName(), line = this.cs.getLineNumber();
    const from = this.cs.getEvalOrigin();
    if (from !== this.origin && typeof from === 'string') s = s.replace(from, () => this.origin);
    const tail = `${file}:${line}:${this.cs.getColumnNumber()}`;
    const at = s.lastIndexOf(tail);
    return at < 0 ? s : s.slice(0, at) + `${file}:${line}:${this.col}` + s.slice(at + tail.length);
  };
  return siteProto;
}

// A frame of CS's reporting column COL, enclosing column ECOL and eval origin ORIGIN.
const mapped = new WeakSet();
function siteAt(cs, col, ecol, origin = cs.getEvalOrigin()) {
  const o = Object.create(siteProto || makeSiteProto(cs));
  o.cs = cs;
  o.col = col;
  o.ecol = ecol;
  o.origin = origin;
  setAdd(mapped, o);
  return o;
}

// A frame of code given to eval() names where eval was called ("eval at f (file:1:30)"): the
// columns of rewritten files in it mapped back.
function mapOrigin(origin) {
  return origin.replace(/\(([^()]+):(\d+):(\d+)\)/g, (m, file, line, col) =>
    mapHas(files, file) ? `(${file}:${line}:${originalColumn(file, Number(line), Number(col))})` : m);
}

// A library's formatter may hand the frames it was given on to the one it found before it (as
// Babel's does, to hide its own frames), which is also ours: a frame is mapped once.
function mapSite(cs) {
  if (setHas(mapped, cs)) return cs;
  const file = cs.getFileName();
  if (!file || !mapHas(files, file)) {
    const origin = typeof cs.isEval === 'function' && cs.isEval() ? cs.getEvalOrigin() : undefined;
    const to = typeof origin === 'string' ? mapOrigin(origin) : origin;
    if (to === origin) return cs;
    const ecol = typeof cs.getEnclosingColumnNumber === 'function' ? cs.getEnclosingColumnNumber() : null;
    return siteAt(cs, cs.getColumnNumber(), ecol, to);
  }
  const col = cs.getColumnNumber();
  const orig = originalColumn(file, cs.getLineNumber(), col);
  const ecol = typeof cs.getEnclosingColumnNumber === 'function' ? cs.getEnclosingColumnNumber() : null;
  const eorig = typeof ecol === 'number' ? originalColumn(file, cs.getEnclosingLineNumber(), ecol) : ecol;
  if (orig === col && eorig === ecol) return cs;
  return siteAt(cs, orig, eorig);
}

// An error the runtime throws in V8's place (a `for await` over a value that is not iterable,
// lib/runtime.js fa()): its first frame is the call of ours, whose column maps to where the
// loop's expression starts, and V8's points K columns further (at the chain's last name).
const shifts = new WeakMap();
function shiftColumn(error, k) {
  weakSet(shifts, error, k);
}
function shifted(site, k) {
  const ecol = typeof site.getEnclosingColumnNumber === 'function' ? site.getEnclosingColumnNumber() : null;
  return siteAt(site.cs || site, site.getColumnNumber() + k, ecol);
}

// The application's frames of a trace: the sensor's own left out (a run of them: a wrapper of a
// framework's call and its helpers), with two corrections so that what remains reads as without
// the sensor:
// - a wrapper that replaced a method (Express 4's Layer.prototype.handle_request) calls the
//   original, which V8 no longer finds under the method's name: the original's frame takes the
//   wrapper's method name back (`Layer.handle [as handle_request]`);
// - a wrapper named in `below` (a hook of ours in a Fastify hook chain) also stands for frames of
//   the framework's under it, there only because it is in the chain: skip(trace, k) -> how many.
const below = new Map(); // wrapper's function name -> skip
function hideBelow(name, skip) {
  mapSet(below, name, skip);
}
let methodProto = null;
function asMethod(cs, method) {
  if (!methodProto) {
    methodProto = delegating(cs);
    methodProto.getMethodName = function () { return this.method; };
    methodProto.toString = function () {
      const s = String(this.cs);
      const loc = ` (${this.cs.getFileName()}:${this.cs.getLineNumber()}:${this.cs.getColumnNumber()})`;
      return s.endsWith(loc) ? `${s.slice(0, -loc.length)} [as ${this.method}]${loc}` : s;
    };
  }
  const o = Object.create(methodProto);
  o.cs = cs;
  o.method = method;
  return o;
}
// Whether V8 writes " [as M]" after function name F: F does not already end with M.
function named(f, m) {
  return typeof f === 'string' && f !== '' && f !== m && !f.endsWith(`.${m}`) && !f.endsWith(` ${m}`);
}
// Compacted in a copy whose elements are its own, so that writing them runs no setter an
// application put on Array.prototype (a push would). Array.of with no constructor makes it
// without reading the trace's constructor (slice and map would: TRACE may come from another
// realm, whose Array's species the application can watch). A trace too long to pass as
// arguments (Error.stackTraceLimit = Infinity) is sliced.
const arrayOf = Array.of;
function appFrames(trace) {
  const out = trace.length <= 4096 ? apply(arrayOf, undefined, trace) : trace.slice();
  let w = 0;
  for (let k = 0; k < trace.length;) {
    if (notOurs(trace[k])) {
      out[w++] = trace[k++];
      continue;
    }
    let j = k;
    while (j < trace.length && !notOurs(trace[j])) j++;
    const wrapper = trace[j - 1], callee = w > 0 ? out[w - 1] : undefined;
    const m = wrapper.getMethodName();
    if (callee && m && callee.getMethodName() === null && named(callee.getFunctionName(), m) &&
        callee.getTypeName() === wrapper.getTypeName())
      out[w - 1] = asMethod(callee, m);
    const skip = mapGet(below, wrapper.getFunctionName());
    k = skip ? j + skip(trace, j) : j;
  }
  out.length = w;
  return out;
}

// Node's formatting when it has no Error.prepareStackTrace of its own (lib/internal/errors.js).
function isNodeError(e) {
  for (let o = e; o !== null && typeof o === 'object'; o = Object.getPrototypeOf(o))
    for (let i = 0, s = Object.getOwnPropertySymbols(o); i < s.length; i++) if (s[i].description === 'kIsNodeError') return true;
  return false;
}

function nodeDefault(error, trace) {
  const head = isNodeError(error)
    ? `${error.name} [${error.code}]: ${error.message}`
    : Error.prototype.toString.call(error);
  if (trace.length === 0) return head;
  return `${head}\n    at ${trace.join('\n    at ')}`;
}

// Error.prepareStackTrace becomes an accessor: whatever function is set (Node's default,
// the application's, a library's) is called with the frames of rewritten files mapped back.
// Reading it gives the wrapper of the function set (the same object each time).
const wrappers = new WeakMap();
function wrap(fn) {
  if (typeof fn !== 'function') return fn;
  let w = weakGet(wrappers, fn);
  if (!w) {
    w = function prepareStackTrace(error, trace) {
      let sites = trace;
      try {
        sites = appFrames(trace);
        const lim = appLimit();
        if (sites.length > lim) sites.length = lim;
        for (let i = 0; i < sites.length; i++) sites[i] = mapSite(sites[i]);
        const k = weakGet(shifts, error);
        if (k !== undefined && sites.length > 0) {
          sites[0] = shifted(sites[0], k);
          weakDelete(shifts, error); // once, as the mapping
        }
      } catch {
        // Frames unmapped rather than no stack (an application may have deleted a builtin
        // the mapping calls).
        sites = trace;
      }
      return apply(fn, this, [error, sites]);
    };
    disguise(w, fn); // reads as the function set: its name, length and text
    weakSet(wrappers, fn, w);
    weakSet(wrappers, w, w);
  }
  return w;
}

function installExact() {
  const d = Object.getOwnPropertyDescriptor(Error, 'prepareStackTrace');
  if (d && !d.configurable) return false;
  let current = d ? (d.get ? d.get.call(Error) : d.value) : undefined;
  if (typeof current !== 'function') current = nodeDefault;
  const original = current; // what `Error.prepareStackTrace = undefined` goes back to
  Object.defineProperty(Error, 'prepareStackTrace', {
    configurable: true,
    enumerable: d ? d.enumerable : false,
    get() {
      return wrap(current);
    },
    set(v) {
      current = typeof v === 'function' ? v : original;
    },
  });
  return true;
}

function install(mode) {
  if (mode === 'sourcemap') process.setSourceMapsEnabled(true);
  else if (mode === 'exact') installExact();
}

function mode(env = process.env) {
  const m = String(env.HUD_STACK_MODE || 'exact').trim().toLowerCase();
  return m === 'sourcemap' || m === 'off' ? m : 'exact';
}

module.exports = { register, originalColumn, install, mode, raiseOwn, lowerOwn, hideBelow, shiftColumn, registrations: () => registered };
