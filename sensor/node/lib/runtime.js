'use strict';
// The global `__hud` that instrumented code calls. Its hot functions are the addon's own
// (src/runtime.c over the shared C core, sensor/core): enter(n) -> h, exit(h), fail(h, err),
// s(h, x) / r(h, v) at suspension and resumption points. table([...]) runs first in a
// rewritten module: it registers the module's insertions (lib/stack.js) and declares its
// functions to the core, returning the module's base n of enter(n) (src/rewrite.h).
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

function table(t) {
  const [tids, tnames, file, inserts, mod, meta, hashes] = t;
  stack.register(file, inserts);
  const where = file.startsWith('file:') ? fileURLToPath(file) : file;
  const base = isMainThread ? native.table(tids, tnames, where, mod, Int32Array.from(meta), hashes) : ids.length;
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

// fa(h, iterable): `for await` over ITERABLE in the call h (src/rewrite.c). Each next() (and
// return()) is where the loop suspends: the call leaves the shadow stack; the inner
// iterator's promise is returned as it is, so the loop takes the same ticks.
function fa(h, iterable) {
  if (iterable == null) return iterable; // the loop throws its own TypeError
  const get = iterable[Symbol.asyncIterator];
  if (typeof get !== 'function') return iterable; // a sync iterable: no wrapper (not exact)
  return {
    [Symbol.asyncIterator]() {
      const it = get.call(iterable);
      const w = {
        next(v) {
          const p = it.next(v); // an async generator's body runs here, called by this call
          native.s(h);
          return p;
        },
      };
      if (typeof it.return === 'function')
        w.return = (v) => {
          const p = it.return(v);
          native.s(h);
          return p;
        };
      return w;
    },
  };
}

const nop = () => 0;
const pass = (h, x) => x;

function install() {
  if (globalThis.__hud) return globalThis.__hud;
  const api = isMainThread
    ? { table, enter: native.enter, exit: native.exit, fail: native.fail, s: native.s, r: native.r, fa, counts }
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

module.exports = { install, counts, start, native };
