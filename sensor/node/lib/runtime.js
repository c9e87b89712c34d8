'use strict';
// The global `__hud` that instrumented code calls (src/rewrite.h):
//   c, p() -> c                              the current call's handle, read by p() at each entry;
//   enter(n[, o]) -> h, exit(h, p), fail(h, p, err[, e])  around every function's body (o: the
//                                           flow of the lexically enclosing function's call);
//   x(h, p, y) -> y                          where a function without a `finally` of ours returns y;
//   f                                        the current flow (a nested function's o);
//   i(h) -> e                                the edge of the call just entered (kept by a
//                                           function that can suspend);
//   s(h, p, x) -> x, r(h, p, e, z) -> p', v(x)  where an async function or generator suspends
//                                           (await, yield) and resumes (after it, catch, finally);
//   fa(h, getp, iterable[, name])            the iterable of a `for await` loop (name: its text);
//   table([...]) -> base                     a rewritten module's functions, first thing it runs.
//
// The untimed path is plain JS over memory the addon shares (src/runtime.c): the current call
// here (the callers' are in the instrumented functions' locals), and each function's run: its
// calls in a row from one caller in one flow, one decrement each. A call from another caller or
// flow adds the run's calls to its edge in the C edge table (callee, caller, flow) and starts a
// new run; the sender thread of the shared C core (sensor/core) reads both. A new edge, a timed
// call (the core's sampling countdown is the run's L) and an escaping exception call into the
// addon.
//
// Each thread (the main thread, each worker) counts in its own tables (src/runtime.c): its
// functions are numbered in it and its calls add up with the other threads' in the core; the
// sender runs once per process, started by the main thread.
const path = require('node:path');
const { fileURLToPath } = require('node:url');
const { isMainThread } = require('node:worker_threads');
const stack = require('./stack');

const native = require(path.join(__dirname, '..', 'hud_sensor.node'));
const ids = [];
const names = [];
const modules = [];

// Handles: an untimed call's function number (>= 0), a timed one < 0 (its frame's slot).
// The current call is `api.c`, the handle of the instrumented call running now (NOBODY: none);
// its function is the caller of the next call. Each instrumented function keeps the value it
// found in a local (`__hud_p`, src/rewrite.c) and puts it back where it ends, so the JS stack is
// the shadow stack: a frame that never ends (near V8's stack limit) leaves a stale value that
// the next frame below it to end puts right.
const NOBODY = 0x3fffffff; // a Smi, so that the field stays unboxed
// `var`, not `let`: the optimized hooks then read them without a hole check. Only the edge table
// moves (reload()); the runs, counts and timed frames' functions stay put.
var kf, kc, kfl, ki, mask; // eslint-disable-line no-var -- ki: the edge id per slot
const fixed = native.tables();
const cnt = fixed.cnt; // calls per edge id (uint32, read modulo 2^32 by the addon)
const ru = fixed.ru;
const RUNS = ru.length;
const idfl = fixed.idfl;
const slotfn = fixed.slotfn;
const slotfl = fixed.slotfl;
const kids = fixed.kids; // per sampled frame: the calls it has made so far (miss())
// The arguments of native.timed() and native.exitTimed(), written here and read by the addon
// (src/runtime.c, MB_*): five Node-API arguments cost more than the rest of a timed call's entry.
const mb = fixed.mb;
// Finished requests and jobs without an exception (lib/frameworks.js), as (flow, status, ns) in a
// ring that the addon drains at each snapshot (src/runtime.c, FQ_*): a request's end makes no
// call into the addon, only when it finds the ring full. The head (the next entry, written here
// only) and the tail (the next entry to drain, written by the addon only) are cells FQ_HEAD and
// FQ_TAIL, the entries from FQ_DATA (= src/runtime.c).
const fq = fixed.fq;
const FQ_HEAD = 0, FQ_TAIL = 16, FQ_DATA = 32;
const FQ_CAP = (fq.length - FQ_DATA) >> 2;
function flowDone(idx, status, ns) {
  const h = fq[FQ_HEAD];
  if (((h - fq[FQ_TAIL]) | 0) >= FQ_CAP) native.flowDrain();
  const o = FQ_DATA + ((h & (FQ_CAP - 1)) << 2);
  const hi = Math.floor(ns / 0x40000000);
  fq[o] = idx;
  fq[o + 1] = status;
  fq[o + 2] = ns - hi * 0x40000000;
  fq[o + 3] = hi;
  // The entry's cells before the head that covers it (seq()).
  if (TSO) fq[FQ_HEAD] = (h + 1) | 0;
  else Atomics.store(fq, FQ_HEAD, (h + 1) | 0);
}
function timed(n, c, ph, own, id, w) {
  mb[0] = n;
  mb[1] = c;
  mb[2] = ph;
  mb[3] = own ? 1 : 0;
  mb[4] = id;
  mb[6] = w;
  return native.timed() | 0; // int32 for the JIT
}
// The current flow (an endpoint or queue consumer, lib/frameworks.js; 0 = none), on every edge
// (docs/architecture.md, "Node sensor: flows"). A call inherits it from the call below it. A call
// with no instrumented call below it (a framework's call into the application, a timer, an
// event, a promise job) takes the flow of the framework's call running now (rc, set around it
// by lib/frameworks.js), else that of the call of its lexically enclosing function (o, the
// rewrite's __hud_f<k>: a callback made in a request runs in its flow), else none. A call that
// resumes with none below it takes its edge's flow again. No async hook is used: Node 20's
// promise hooks (AsyncLocalStorage) cost more than all the rest of the sensor together.
var fl = 0; // eslint-disable-line no-var
var rc = 0; // eslint-disable-line no-var
var scopes = 0; // eslint-disable-line no-var -- framework calls running now (enterFlow)
// Function n's run (src/runtime.c, "runs"), 8 cells from ru[8n]: its calls from one caller in
// one flow in a row are counted by one decrement, not by edge.
//   +0 K the key of its last call: the caller's handle ^ api.k (MISS: the next call looks again);
//   +1 L its calls left until its next timed call (the call that finds 1 is timed, never
//      counted here), +2 S: the run has had S - L calls (modulo 2^32), +3 E the run's edge id;
//   +4 Q odd while this thread moves the run to another edge (the sender then skips it, and
//      finds its calls at the next snapshot).
// A key is one-to-one for callers below 2^21 - 1 and flows below 511, and for no caller (NOBODY,
// whose low 21 bits are all set, with OUTER set: a key that no caller's handle makes in enter());
// any other call misses.
const MISS = -0x7fffffff;
const CALLERS = 0x1fffff;
const OUTER = 0x40000000;
const TSO = process.arch === 'x64' || process.arch === 'ia32'; // seq()
function setFl(x) {
  fl = x;
  api.f = x;
  api.k = x < 511 ? x << 21 : -0x80000000; // no key is made in such a flow
}

// The runtime's interface (`__hud`); `c` is the current call, `f` the current flow (= fl), `k`
// the flow's part of a run's key: a field of this object rather than a variable, as the hooks
// read it from the object they already hold, where a field known to hold small integers needs
// no check (a variable's value is checked at each read: fib(27) took 4-5% longer).
// `fw`: what the statements lib/frameworks.js puts into a framework's functions call.
// p(): `c` read by a call where a function starts (src/rewrite.c, open_decls: V8 infers no name from
// it; the optimizing compiler inlines it to the load).
const api = { c: NOBODY, f: 0, k: 0, p: current, table, enter, exit, x, fail, s, r, v, fa, i, counts, edges, fw: null };
function current() {
  return api.c;
}

function reload() {
  const t = native.tables();
  kf = t.kf;
  kc = t.kc;
  kfl = t.kfl;
  ki = t.ki;
  mask = t.mask;
}

// A call of function N; O: the flow of its lexically enclosing function's call (undefined for a
// function at a module's top level). The same caller in the same flow as its last call, and not
// the call to time: one decrement.
function enter(n, o) {
  const ph = api.c;
  const b = n << 3; // negative or past RUNS for a function without a run
  if (ru[b] === (ph ^ api.k)) {
    const l = ru[b + 1];
    if (l > 1) {
      ru[b + 1] = l - 1;
      api.c = n;
      return n;
    }
  }
  const h = miss(n, ph, o);
  api.c = h;
  return h;
}

// Every other call of N under PH: one with nothing instrumented below it (a framework's call of a
// handler, a callback of Node's), which sets its flow first and is then one decrement when its
// run is on that edge (its key is one enter() never makes: with the flow not set yet, enter()
// could take a run of the same caller in another flow); a timed one; or one from another caller
// or flow, which moves N's run to its edge. One function of more
// than V8's 460 bytes of bytecode that a function may have to be inlined (--max-inlined-bytecode-
// size): inlined into the instrumented functions (early calls are all timed, so it is hot when
// they are first optimized), it made fib(27) 1.7 times slower in half of the processes.
// The edge of the last call of a function without a run, or of N's last call that wanted a frame
// and found none (i()).
let lastId = 0;
let lastN = -1;
function miss(n, ph, o) {
  const b = n << 3;
  if (ph === NOBODY) {
    setFl(rc !== 0 ? rc : o | 0);
    if (b >= 0 && b < RUNS && ru[b] === ((NOBODY ^ api.k) | OUTER)) {
      const l = ru[b + 1];
      if (l > 1) {
        ru[b + 1] = l - 1;
        return n;
      }
    }
  }
  if (b < 0 || b >= RUNS) {
    // Past the functions with a run (never timed), or undeclared (its module's table failed).
    lastId = n < ids.length ? count(n, ph, true) : 0;
    return n;
  }
  // Two reasons to time the call: its countdown ran out (L = 1), or the caller is a sampled call
  // that wants its self time (kid() says which of its calls). A timed call is counted by the
  // addon with its frame, under the sender's lock: counted here, a snapshot between the count
  // and the frame would put the call in one period and its timing in the next, whose record then
  // claims one call more than it counted. The addon returns N when no frame is free (the call
  // counted all the same).
  const own = ru[b + 1] === 1;
  const w = ph < 0 && (ph & 1) === 0 ? kid(-ph >> 1) : 0;
  if (own || w > 0) {
    const id = count(n, ph, false);
    const h = timed(n, fnOf(ph), ph, own, id, w);
    if (h >= 0) {
      // No frame was free: counted on edge ID, which N's run is not on (i()).
      lastId = id;
      lastN = n;
    }
    return h;
  }
  const id = count(n, ph, false);
  // A sampled caller's calls never make a key (its handle is < 0), so each comes here: while N's
  // run is on their edge already, each is one decrement there, as in enter(), not a move.
  const l0 = ru[b + 1];
  if (ph < 0 && ru[b + 3] === id && l0 > 1) {
    ru[b + 1] = l0 - 1;
    return n;
  }
  const q = ru[b + 4];
  seq(b, q + 1);
  const l = l0 - 1;
  cnt[ru[b + 3]] += ru[b + 2] - ru[b + 1]; // the last run's calls go to its edge (mod 2^32)
  const k = api.k;
  ru[b] = k < 0 ? MISS : ph >= 0 && ph < CALLERS ? ph ^ k : ph === NOBODY ? (ph ^ k) | OUTER : MISS;
  ru[b + 3] = id;
  ru[b + 2] = l + 1;
  ru[b + 1] = l;
  seq(b, q + 2);
  return n;
}

// Q of the run from ru[B] (the sender skips a run while it is odd). On x86 (total store order) a
// plain store keeps its place among the run's stores, which V8 emits in program order, as the
// sender needs; Atomics.store, a call of a builtin and a locked exchange, took ~13 ns of each
// move there. Elsewhere the stores could be seen out of order: Atomics.store.
function seq(b, q) {
  if (TSO) ru[b + 4] = q;
  else Atomics.store(ru, b + 4, q);
}

// The next call made by the sampled call in frame S: whether it is timed for S's self time, as
// how many of S's calls its duration stands for (0: not timed). The first KIDS are all timed, then
// every 2nd of the next 64, every 4th of the next 128..., 32 per doubling: a sampled call that
// runs for long (a loop of millions of calls) times a few hundred of them, not each (which made
// every call of such a loop ~100 times slower), and its self time takes the others' from them.
// The count stops at 2^30 (a call that lives for days), where no more of its calls are timed.
const KIDS = 64;
function kid(s) {
  const k = kids[s] + 1;
  if (k > 0x40000000) return 0;
  kids[s] = k;
  if (k <= KIDS) return 1;
  const stride = 2 << (31 - Math.clz32((k - 1) >> 6));
  return ((k - 1) & (stride - 1)) === 0 ? stride : 0;
}

// The function of handle H (the caller of the calls it makes): -1 for none, -3 for an
// undeclared function's call (the addon makes no edge of its calls).
function fnOf(h) {
  if (h >= 0) return h < ids.length ? h : h === NOBODY ? -1 : -3;
  return slotfn[-h >> 1];
}

// The edge id of the call H that has just entered: a function that can suspend keeps it, for its
// flow when it resumes with nothing below it and for an exception that escapes it (< 0: H, timed).
function i(h) {
  if (h < 0) return h;
  if (h === lastN) {
    lastN = -1;
    return lastId;
  }
  const b = h << 3;
  return b >= 0 && b < RUNS ? ru[b + 3] : lastId;
}

// The edge of a call of N under handle PH in the current flow through the hash table (= ehash()
// in src/runtime.c), its call counted when INC; made when new.
function count(n, ph, inc) {
  const c = fnOf(ph);
  let i = (Math.imul(n + 1, 0x9e3779b1) ^ Math.imul(c + 2, 0x85ebca77) ^ Math.imul(fl, 0xc2b2ae35)) & mask;
  for (;;) {
    const f = kf[i];
    if (f === n + 1 && kc[i] === c && kfl[i] === fl) {
      const id = ki[i];
      if (inc) cnt[id]++; // wraps at 2^32 (the addon reads it modulo 2^32)
      return id;
    }
    if (f === 0) {
      // The line only for an edge that can be made: not for an undeclared function (its
      // module's table failed), nor once the table had no room (each call would ask again).
      const line = c >= 0 && n < ids.length && !full ? callLine(c) : 0;
      const id = native.edge(n, c, fl, line, inc) | 0;
      if (id === 0) full = n < ids.length;
      if (id >= 0) return id;
      reload();
      return -id - 1;
    }
    i = (i + 1) & mask;
  }
}

// The line of the call being entered in its caller C, read from the stack once per edge (a new
// edge's first call): the first frame below the callee's in C's file whose line (through the
// module's line map for compiled TypeScript) lies within C's lines. 0 when there is none (C's
// frame is not on the stack: an async function resumed by a promise job).
let full = false; // the edge table had no room for a declared function's edge
const lineFiles = new Map(); // file as V8 reports it -> true (its lines are the source's) or a line map
const fnFile = [], fnLines = []; // per function: its file, [first, last line]
function sites(_, cs) {
  return cs;
}
function callLine(c) {
  const file = fnFile[c], range = fnLines[c], map = lineFiles.get(file);
  if (!range || map === undefined) return 0;
  const prep = Error.prepareStackTrace, limit = Error.stackTraceLimit;
  const o = {};
  let cs;
  try {
    Error.stackTraceLimit = 32;
    Error.captureStackTrace(o, enter);
    Error.prepareStackTrace = sites;
    cs = o.stack;
  } catch {
    cs = null;
  } finally {
    Error.prepareStackTrace = prep;
    Error.stackTraceLimit = limit;
  }
  if (!Array.isArray(cs)) return 0;
  for (let k = 1; k < cs.length; k++) {
    if (cs[k].getFileName() !== file) continue;
    const raw = cs[k].getLineNumber() | 0;
    const line = map === true ? raw : map[raw - 1] | 0;
    if (line >= range[0] && line <= range[1]) return line;
  }
  return 0;
}

// The call H ends; P was current when it started or last resumed.
function exit(h, p) {
  api.c = p;
  if (h < 0) {
    mb[5] = h;
    native.exitTimed();
  }
}

// The call H ends returning Y (a function without a `finally` of ours, src/rewrite.c).
function x(h, p, y) {
  exit(h, p);
  return y;
}

// The flow an exception went through an instrumented call in, by exception (the last one for a
// primitive): where an unhandled rejection or an uncaught exception belongs (lib/frameworks.js).
const errFlows = new WeakMap();
let lastErrFlow = 0;
// ERR escapes the call H (of N, or timed); P its caller's handle, E its edge when it kept it
// (a function that can suspend, whose P is what was current at its last resume).
function fail(h, p, err, e) {
  if (fl !== 0) {
    if ((typeof err === 'object' && err !== null) || typeof err === 'function') errFlows.set(err, fl);
    else lastErrFlow = fl;
  }
  native.fail(e !== undefined ? e : h < 0 ? h : h < ids.length ? count(h, p, false) : 0, err);
}
function flowOfError(err) {
  if ((typeof err === 'object' && err !== null) || typeof err === 'function') return errFlows.get(err) | 0;
  return lastErrFlow;
}

// The call H suspends (await, yield): P is current again.
function s(h, p, x) {
  api.c = p;
  return x;
}

// The call H resumes (after await/yield, in a catch or finally block); P was current when it
// started or last resumed, E is its edge (i()), Z whether it suspended since (src/rewrite.c).
// Returns what is current when it next suspends or ends: P when it did not suspend (a catch
// reached synchronously), else what was current at the resume.
function r(h, p, e, z) {
  if (!z) return p;
  const q = api.c;
  if (q === NOBODY) {
    const f = e < 0 ? slotfl[-e >> 1] : idfl[e];
    setFl(f !== 0 ? f : rc); // 0: entered before its request's route was known
  }
  api.c = h;
  return q;
}

function v(x) {
  return x;
}

// fa(h, getp, iterable[, name]): `for await` over ITERABLE in the call h (src/rewrite.c); GETP() is
// the call's __hud_p; NAME the loop's expression when it is a name or a chain of them, or `C(...)`
// when it is a call of one (as V8 prints them in its TypeError). Each next()
// (and return()) is where the loop suspends: the call stops being current after the inner next()
// ran (an async generator's body starts there, called by this call). An async iterator's promise
// is returned as it is, so the loop takes the same ticks; a sync iterable (an array of promises)
// stays one, wrapped the same way, so that the loop's own async-from-sync iterator awaits each
// value as it would.
function fa(h, getp, iterable, name) {
  if (iterable == null) {
    if (name === undefined) return iterable; // the loop throws its own TypeError
    throw loopError(name, `Cannot read properties of ${iterable} (reading 'Symbol(Symbol.asyncIterator)')`);
  }
  const async = iterable[Symbol.asyncIterator];
  const get = typeof async === 'function' ? async : async == null ? iterable[Symbol.iterator] : undefined;
  if (typeof get !== 'function') {
    if (name === undefined) return iterable;
    throw loopError(name, name.endsWith('(...)') ? `${name} is not a function or its return value is not async iterable`
      : `${name} is not async iterable`);
  }
  const step = (it, method) => (...a) => {
    const p = method.apply(it, a);
    s(h, getp());
    return p;
  };
  const wrap = () => {
    const it = get.call(iterable);
    if ((typeof it !== 'object' || it === null) && typeof it !== 'function') return it; // the loop's TypeError
    // `return` is read when the loop closes, as the loop reads it (a getter may throw then).
    return {
      next: step(it, it.next),
      get return() {
        const m = it.return;
        return typeof m === 'function' ? step(it, m) : m;
      },
    };
  };
  return get === async ? { [Symbol.asyncIterator]: wrap } : { [Symbol.iterator]: wrap };
}

// The TypeError a `for await` over NAME throws: the loop would throw it itself, but V8 would name
// fa's call in it, not the expression, and point at its start. Given the expression's text, the
// same error as without the sensor: this frame left out of its stack (lib/stack.js), and the
// column on the chain's last name or index, as V8's.
function loopError(name, message) {
  const limit = stack.raiseOwn();
  const err = new TypeError(message);
  stack.lowerOwn(limit);
  const chain = name.endsWith('(...)') ? name.slice(0, -5) : name;
  // V8 points at the last name of a chain, or at the '[' of a last index.
  const at = chain.endsWith(']') ? chain.lastIndexOf('[') : chain.lastIndexOf('.') + 1;
  if (at > 0) stack.shiftColumn(err, at);
  return err;
}

const UNDECLARED = 0x10000000; // 8n < 0: no run (enter())
let tableFailed = false;

// T: [ids, names, file (or [path, url]), inserts, module_path, meta, hashes, lineMap, more]: the module's functions;
// more (a bundle): [ids, names, module_path, meta, hashes] of the other files its functions came
// from, numbered on after the first's. Returns the module's first number.
// FILE may be [path, url] (lib/cjs.js): the url when SELF, the module's top-level `this`, says
// it runs as an ES module.
function table(t, self) {
  try {
    return tableOf(t, self);
  } catch (err) {
    // The module's first statement: a failure here (an application that deleted a builtin
    // this uses) must not stop the module. It runs, its calls not recorded.
    if (!tableFailed && isMainThread) {
      try {
        require('./config').status(`functions of a module not recorded: ${err && err.message}`);
      } catch {
        // no status line either
      }
    }
    tableFailed = true;
    return UNDECLARED;
  }
}
function tableOf(t, self) {
  const [tids, tnames, key, inserts, mod, meta, hashes, lineMap, more] = t;
  const file = Array.isArray(key) ? key[self === undefined ? 1 : 0] : key;
  stack.register(file, inserts);
  // Compiled TypeScript and bundles: the original line of each compiled line (lib/tsmap.js).
  lineFiles.set(file, Array.isArray(lineMap) ? lineMap : true);
  const where = file.startsWith('file:') ? fileURLToPath(file) : file;
  const parts = [[tids, tnames, mod, meta, hashes], ...(more || [])];
  let base;
  try {
    // One environment's numbers run on from call to call: the first part's is the module's.
    const bases = parts.map(([ids, names, m, pmeta, h]) => native.table(ids, names, where, m, Int32Array.from(pmeta), h));
    base = bases[0];
  } catch (err) {
    // Out of memory or of function slots: the module runs, its calls are not recorded
    // (indices past every declared function, which the addon ignores).
    if (!tableFailed && isMainThread) require('./config').status(`functions of ${mod} not recorded: ${err.message}`);
    tableFailed = true;
    base = UNDECLARED;
  }
  if (base === UNDECLARED) return base;
  let n = base;
  for (const [pids, pnames, pmod, pmeta] of parts)
    for (let k = 0; k < pids.length; k++, n++) {
      ids[n] = pids[k];
      names[n] = pnames[k];
      modules[n] = pmod;
      fnFile[n] = file;
      fnLines[n] = [pmeta[3 * k], pmeta[3 * k + 1]];
    }
  return base;
}

// Calls and escaped exceptions per function_id so far, for the process (every thread's calls of
// the functions this thread loaded): {id: {name, module_path, calls, errors}} (functions sharing
// an id add up).
function counts() {
  const c = native.counts();
  const out = {};
  for (let n = 0; n < ids.length; n++) {
    const e = out[ids[n]] || (out[ids[n]] = { name: names[n], module_path: modules[n], calls: 0, errors: 0 });
    e.calls += c[2 * n] || 0;
    e.errors += c[2 * n + 1] || 0;
  }
  return out;
}

function install() {
  if (globalThis.__hud) return globalThis.__hud;
  reload();
  require('./fntext').install(); // toString() of an instrumented function: its source's text
  Object.seal(api);
  Object.defineProperty(globalThis, '__hud', { value: api, enumerable: false });
  return api;
}

// This thread's caller edges so far: [{name, module_path, caller, caller_module, line, calls}]
// (caller '' and caller_module '' for none).
function edges() {
  const e = native.edges();
  const out = [];
  for (let i = 0; i < e.length; i += 4) {
    const [n, c] = [e[i], e[i + 1]];
    out.push({ name: names[n], module_path: modules[n], caller: c >= 0 ? names[c] : '',
      caller_module: c >= 0 ? modules[c] : '', line: e[i + 2], calls: e[i + 3] });
  }
  return out;
}

// What timing a call costs beyond the core's own part: its two calls into the addon, measured
// once (the best of three rounds of a call of no function), so that the sampling budget
// (HUD_CPU_BUDGET) counts what timing really costs here.
function calibrate() {
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < 500; k++) exit(timed(-1, -1, NOBODY, false, 0, 0), NOBODY);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 500);
  }
  native.calibrate(best);
}

// Starts the core's sender (the same settings and keys as the Python sensor, docs/config.md)
// and flushes at exit, so that short scripts deliver. Throws on a bad configuration.
function start(cfg) {
  if (!isMainThread) return;
  calibrate();
  native.start(cfg);
  process.once('exit', () => native.shutdown(2));
}

// Flows (lib/frameworks.js). enterFlow(idx) -> state: a framework's call into the application
// (a middleware, a route handler, a job's processor) starts in flow idx; leaveFlow(state) once it
// returned puts back what was current. setFlow(idx): the route became known during such a call
// (or a run of the application's code): what runs next in it is in idx.
// What was current when each running framework call started, by depth (scopes - 1): the state
// is the depth, a small integer (a number packing both was a double, boxed in the caller's frame
// across its try).
const outerRc = [0], outerFl = [0];
function enterFlow(idx) {
  const d = scopes;
  outerRc[d] = rc;
  outerFl[d] = fl;
  scopes = d + 1;
  rc = idx;
  setFl(idx);
  return d;
}
function leaveFlow(d) {
  scopes = d;
  rc = outerRc[d];
  setFl(outerFl[d]);
}
function setFlow(idx) {
  if (scopes > 0) rc = idx;
  setFl(idx);
}

// Returns whether the global `__hud` carries them (it is another copy's when one installed first).
function setFrameworkHooks(hooks) {
  api.fw = hooks;
  return globalThis.__hud === api;
}

module.exports = { install, counts, edges, start, native, enterFlow, leaveFlow, setFlow, flowOfError, setFrameworkHooks, flowDone };
