'use strict';
// The global `__hud` that instrumented code calls (src/rewrite.h):
//   enter(n) -> h, exit(h), fail(h, err)   around every function's body;
//   s(h, x) -> x, r(h, v) -> v              where an async function or generator suspends
//                                           (await, yield) and resumes (after it, catch, finally);
//   fa(h, iterable)                          the iterable of a `for await` loop;
//   table([...]) -> base                     a rewritten module's functions, first thing it runs.
//
// The untimed path is plain JS over memory the addon shares (src/runtime.c): a shadow stack
// here, and each call counted in the C edge table by (callee, caller); the sender thread of the
// shared C core (sensor/core) reads the counts from there. A new edge, a timed call (the
// core's sampling countdown in cd[]) and an escaping exception call into the addon.
//
// Only the main thread records: worker threads get functions that do nothing (the core's
// tables belong to one thread of application code, as CPython's belong to the GIL holder).
const path = require('node:path');
const { fileURLToPath } = require('node:url');
const { isMainThread } = require('node:worker_threads');
const stack = require('./stack');

const native = require(path.join(__dirname, '..', 'hud_sensor.node'));
const ids = [];
const names = [];
const modules = [];

// Handles: an untimed call's edge id (> 0; 0 when the table was full), a timed one < 0.
// The shadow stack: frame d is st[2d] (its function: the caller of the next call) and st[2d+1]
// (its handle); frame 0 is a sentinel (no function, a handle no call has), so the hooks need no
// test for an empty stack.
const MAX = 65536;
const NOBODY = 0x7fffffff;
const st = new Int32Array(2 * MAX);
st[0] = -1;
st[1] = NOBODY;
// `var`, not `let`: the optimized hooks then read them without a hole check. Only the edge table
// moves (reload()); the countdowns, edge ids and timed frames' functions stay put.
var top = 0; // eslint-disable-line no-var -- index of the top frame's function in st
var kf, kc, kfl, ck, mask; // eslint-disable-line no-var -- ck: [calls, edge id] per slot
const fixed = isMainThread ? native.tables() : null;
const cd = fixed && fixed.cd;
const idfn = fixed && fixed.idfn;
const slotfn = fixed && fixed.slotfn;
const idfl = fixed && fixed.idfl;
const slotfl = fixed && fixed.slotfl;
// The current flow (an endpoint or queue consumer, lib/frameworks.js; 0 = none), on every edge.
// A call inherits it from the call below it on the shadow stack; a run that starts on an empty
// stack (a timer, an event, a promise job) asks the async context (ctx); a call that resumes on
// an empty stack takes its edge's flow again (docs/architecture.md, "Node sensor: flows").
var fl = 0; // eslint-disable-line no-var
var ctx = null; // eslint-disable-line no-var
// Per function, the caller (+ 2; 0 = none yet) and ck index of its last call: a recursion or a
// loop calling the same function from the same caller finds its counter without hashing.
const CACHE = 1 << 20;
const lastc = new Int32Array(CACHE);
const lastf = new Int32Array(CACHE); // and its flow
const lasts = new Int32Array(CACHE);

function reload() {
  const t = native.tables();
  kf = t.kf;
  kc = t.kc;
  kfl = t.kfl;
  ck = t.ck;
  mask = t.mask;
  lastc.fill(0); // the slots moved
}

function enter(n) {
  if (top === 0 && ctx !== null) fl = ctx();
  const c = st[top];
  const ph = st[top + 1];
  let h;
  if (lastc[n] === c + 2 && lastf[n] === fl) {
    const j = lasts[n];
    ck[j]++;
    h = ck[j + 1];
  } else {
    h = count(n, c);
  }
  const own = --cd[n] === 0;
  // Timed: the countdown ran out, or the caller is a sampled call (its self time).
  if (own || (ph < 0 && (ph & 1) === 0)) h = native.timed(n, c, ph, own, h) | 0; // int32 for the JIT
  if (top < 2 * MAX - 2) {
    top += 2;
    st[top] = n;
    st[top + 1] = h;
  }
  return h;
}

// The call of N by C in the current flow counted through the hash table (= ehash() in
// src/runtime.c); its edge id.
function count(n, c) {
  let i = (Math.imul(n + 1, 0x9e3779b1) ^ Math.imul(c + 2, 0x85ebca77) ^ Math.imul(fl, 0xc2b2ae35)) & mask;
  for (;;) {
    const f = kf[i];
    if (f === n + 1 && kc[i] === c && kfl[i] === fl) {
      const j = 2 * i;
      ck[j]++; // wraps at 2^32 (the addon reads it modulo 2^32)
      if (n < CACHE) {
        lastc[n] = c + 2;
        lastf[n] = fl;
        lasts[n] = j;
      }
      return ck[j + 1];
    }
    if (f === 0) {
      const id = native.edge(n, c, fl) | 0;
      if (id >= 0) return id;
      reload();
      return -id - 1;
    }
    i = (i + 1) & mask;
  }
}

function exit(h) {
  if (st[top + 1] === h) top -= 2;
  else unwind(h);
  if (h < 0) native.exitTimed(h);
}

// H is not on top: frames above it whose exit never ran (near the stack's limit, a RangeError
// stops the `finally` that calls exit) go with it. Not found: the call was not on the stack (it
// suspended and was resumed by a rejection), nothing moves.
function unwind(h) {
  for (let k = top - 2; k > 0; k -= 2)
    if (st[k + 1] === h) {
      top = k - 2;
      return;
    }
}

function fail(h, err) {
  native.fail(h, err);
}

function s(h, x) {
  if (st[top + 1] === h) top -= 2;
  else unwind(h);
  return x;
}

function r(h, v) {
  if (top === 0 && ctx !== null) {
    fl = h < 0 ? slotfl[-h >> 1] : idfl[h];
    if (fl === 0) fl = ctx(); // entered before its request's route was known
  }
  if (st[top + 1] !== h && top < 2 * MAX - 2) {
    top += 2;
    st[top] = h < 0 ? slotfn[-h >> 1] : idfn[h];
    st[top + 1] = h;
  }
  return v;
}

// fa(h, iterable): `for await` over ITERABLE in the call h (src/rewrite.c). Each next() (and
// return()) is where the loop suspends: the call leaves the shadow stack after the inner
// next() ran (an async generator's body starts there, called by this call); the inner promise
// is returned as it is, so the loop takes the same ticks.
function fa(h, iterable) {
  if (iterable == null) return iterable; // the loop throws its own TypeError
  const get = iterable[Symbol.asyncIterator];
  if (typeof get !== 'function') return iterable; // a sync iterable: no wrapper (not exact)
  return {
    [Symbol.asyncIterator]() {
      const it = get.call(iterable);
      const w = {
        next(v) {
          const p = it.next(v);
          s(h);
          return p;
        },
      };
      if (typeof it.return === 'function')
        w.return = (v) => {
          const p = it.return(v);
          s(h);
          return p;
        };
      return w;
    },
  };
}

const UNDECLARED = 0x3fffffff;
let tableFailed = false;

function table(t) {
  const [tids, tnames, file, inserts, mod, meta, hashes] = t;
  stack.register(file, inserts);
  const where = file.startsWith('file:') ? fileURLToPath(file) : file;
  let base = ids.length;
  if (isMainThread) {
    try {
      base = native.table(tids, tnames, where, mod, Int32Array.from(meta), hashes);
    } catch (err) {
      // Out of memory or of function slots: the module runs, its calls are not recorded
      // (indices past every declared function, which the addon ignores).
      if (!tableFailed) require('./config').status(`functions of ${mod} not recorded: ${err.message}`);
      tableFailed = true;
      base = UNDECLARED;
    }
  }
  if (base === UNDECLARED) return base;
  for (let k = 0; k < tids.length; k++) {
    ids[base + k] = tids[k];
    names[base + k] = tnames[k];
    modules[base + k] = mod;
  }
  return base;
}

// Calls and escaped exceptions per function_id so far, for the process:
// {id: {name, module_path, calls, errors}} (functions sharing an id add up).
function counts() {
  const c = isMainThread ? native.counts() : new Float64Array(2 * ids.length);
  const out = {};
  for (let n = 0; n < ids.length; n++) {
    const e = out[ids[n]] || (out[ids[n]] = { name: names[n], module_path: modules[n], calls: 0, errors: 0 });
    e.calls += c[2 * n] || 0;
    e.errors += c[2 * n + 1] || 0;
  }
  return out;
}

const nop = () => 0;
const pass = (h, x) => x;

function install() {
  if (globalThis.__hud) return globalThis.__hud;
  if (isMainThread) reload();
  const api = isMainThread
    ? { table, enter, exit, fail, s, r, fa, counts }
    : { table, enter: nop, exit: nop, fail: nop, s: pass, r: pass, fa: pass, counts };
  Object.defineProperty(globalThis, '__hud', { value: Object.freeze(api), enumerable: false });
  return api;
}

// Starts the core's sender (the same settings and keys as the Python sensor, docs/config.md)
// and flushes at exit, so that short scripts deliver. Throws on a bad configuration.
function start(cfg) {
  if (!isMainThread) return;
  native.start(cfg);
  process.once('exit', () => native.shutdown(2));
}

// Flows (lib/frameworks.js): CONTEXT() -> the async context's flow; from now on, runs that
// start on an empty stack ask it. setFlow(idx): the route is known, what runs next is in idx.
function useFlows(context) {
  if (isMainThread) ctx = context;
}
function setFlow(idx) {
  fl = idx;
}

module.exports = { install, counts, start, native, useFlows, setFlow };
