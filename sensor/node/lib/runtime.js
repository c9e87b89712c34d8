'use strict';
// The global `__hud` that instrumented code calls: enter(n) / exit(h) / fail(h, err), and
// table([ids, names, file, inserts, module_path]) that a rewritten module runs first; it returns the
// module's base n of enter(n) (sensor/node/src/rewrite.h, lib/instrument.js).
//
// PLACEHOLDER for the C core: calls and escaped exceptions are counted here, in plain JS
// arrays, so that tests can check exact counts. The next step replaces these bodies with the
// shared C core (sensor/core/) behind the same four functions; the rewrite does not change.
const ids = [];
const names = [];
const modules = [];
const calls = [];
const errors = [];

const stack = require('./stack');

function table(t) {
  const [tids, tnames, file, inserts, mod] = t;
  const base = ids.length;
  stack.register(file, inserts);
  for (let k = 0; k < tids.length; k++) {
    ids[base + k] = tids[k];
    names[base + k] = tnames[k];
    modules[base + k] = mod;
    calls[base + k] = 0;
    errors[base + k] = 0;
  }
  return base;
}

function enter(n) {
  calls[n]++;
  return n;
}

function exit(h) {}

function fail(h, err) {
  errors[h]++;
}

// Figures per function_id: {id: {name, module_path, calls, errors}} (functions sharing an
// id add up).
function counts() {
  const out = {};
  for (let n = 0; n < ids.length; n++) {
    const e = out[ids[n]] || (out[ids[n]] = { name: names[n], module_path: modules[n], calls: 0, errors: 0 });
    e.calls += calls[n];
    e.errors += errors[n];
  }
  return out;
}

function install() {
  if (globalThis.__hud) return globalThis.__hud;
  const api = Object.freeze({ table, enter, exit, fail, counts });
  Object.defineProperty(globalThis, '__hud', { value: api, enumerable: false });
  return api;
}

module.exports = { install, counts };
