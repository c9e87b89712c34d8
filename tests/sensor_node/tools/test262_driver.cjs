// Loads each test of a list in turn (CommonJS by require(), ES modules by import()) and writes one
// JSON line per test: its outcome ('ok', or what it threw with its stack) and what it printed.
// Run by test262.mjs, once without and once with the sensor. The builtins' own properties are put
// back after each test (tests change them); the driver's own code uses what it captured at start.
'use strict';
const vm = require('node:vm');
const fs = require('node:fs');
const { pathToFileURL } = require('node:url');
const STRINGIFY = JSON.stringify;
const RK = Reflect.ownKeys, GD = Reflect.getOwnPropertyDescriptor, DP = Reflect.defineProperty;
const DEL = Reflect.deleteProperty, SP = Reflect.setPrototypeOf, G = Reflect.getPrototypeOf;
const writeSync = fs.writeSync;
const tests = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));

let prints = [];
globalThis.print = (s) => { prints = prints.concat([String(s)]); };
globalThis.$262 = {
  global: globalThis, gc() {}, evalScript: (s) => vm.runInThisContext(s), agent: {},
  detachArrayBuffer: (b) => { structuredClone(b, { transfer: [b] }); },
  createRealm() {
    const c = vm.createContext();
    return { global: vm.runInContext('this', c), evalScript: (s) => vm.runInContext(s, c) };
  },
};

// The builtins whose own properties are saved now and put back after each test.
const roots = ['Object', 'Function', 'Array', 'String', 'Number', 'Boolean', 'Symbol', 'Promise', 'Map',
  'Set', 'WeakMap', 'WeakSet', 'Error', 'TypeError', 'RangeError', 'SyntaxError', 'ReferenceError',
  'EvalError', 'URIError', 'RegExp', 'Reflect', 'JSON', 'Math', 'Date', 'ArrayBuffer', 'DataView',
  'BigInt', 'Uint8Array', 'Int8Array', 'Float64Array'].map((k) => globalThis[k]);
const gen = function* () {}, agen = async function* () {};
const objs = new Set([globalThis, G([][Symbol.iterator]()), G(G([][Symbol.iterator]())), G(gen), G(gen).prototype,
  G(async function () {}), G(agen), G(agen).prototype, G(G(agen.prototype)), G(new Map()[Symbol.iterator]()),
  G(new Set()[Symbol.iterator]()), G(''[Symbol.iterator]()), G(Uint8Array), G(Uint8Array).prototype]);
for (const r of roots) if (r) { objs.add(r); if (r.prototype) objs.add(r.prototype); }
const saved = [...objs].map((o) => [o, RK(o).map((k) => [k, GD(o, k)]), G(o)]);
// Module loading raises the limit for a while (the sensor's compile wrapper): put back Node's.
for (const [o, props] of saved) if (o === Error) for (const p of props) if (p[0] === 'stackTraceLimit') p[1] = { ...p[1], value: 10 };
const same = (a, b) => a && b && a.value === b.value && a.get === b.get && a.set === b.set &&
  a.writable === b.writable && a.enumerable === b.enumerable && a.configurable === b.configurable;
// No for-of, spread or push: the test may have changed what they use.
function restore() {
  for (let i = 0; i < saved.length; i++) {
    const o = saved[i][0], props = saved[i][1], want = new Map();
    for (let j = 0; j < props.length; j++) want.set(props[j][0], props[j][1]);
    const keys = RK(o);
    for (let j = 0; j < keys.length; j++) if (o !== globalThis && !want.has(keys[j])) DEL(o, keys[j]);
    for (let j = 0; j < props.length; j++) if (!same(GD(o, props[j][0]), props[j][1])) DP(o, props[j][0], props[j][1]);
    if (G(o) !== saved[i][2]) SP(o, saved[i][2]);
  }
}

function describe(e) {
  if (e === null || (typeof e !== 'object' && typeof e !== 'function')) return `value ${String(e)}`;
  let name, msg, stack;
  try { name = e.constructor && e.constructor.name; } catch { name = '?'; }
  try { msg = String(e.message); } catch { msg = '?'; }
  try { stack = typeof e.stack === 'string' ? e.stack : `(stack ${typeof e.stack})`; } catch (x) { stack = `(stack threw ${x && x.message})`; }
  return `${name}: ${msg}\n${stack}`;
}

(async () => {
  let lines = [];
  for (let i = 0; i < tests.length; i++) {
    const t = tests[i];
    prints = [];
    let outcome = 'ok';
    try {
      if (t.module) await import(pathToFileURL(t.file).href);
      else require(t.file);
    } catch (e) {
      outcome = `throw ${describe(e)}`;
    }
    if (t.async && outcome === 'ok')
      for (let k = 0; k < 200 && !prints.some((p) => p.startsWith('Test262:Async')); k++) await new Promise((r) => setTimeout(r, 5));
    lines = lines.concat([STRINGIFY({ n: t.n, outcome, prints })]);
    restore();
  }
  const fd = fs.openSync(process.argv[3], 'w');
  writeSync(fd, lines.join('\n') + '\n');
  fs.closeSync(fd);
  process.exit(0);
})();
process.on('unhandledRejection', () => {});
