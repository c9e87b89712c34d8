'use strict';
// Function.prototype.toString() as without the sensor: an instrumented function's text is V8's
// slice of the rewritten module, insertions included. A function whose text is sent elsewhere
// and compiled there (a worker pool's task, a page.evaluate() in a browser, a minifier's worker)
// would run our statements where no `__hud` exists. Each insertion's text is recognizable alone
// (src/rewrite.c: those that could be the source's own bracket carry a `/*__hud*/` mark), so the
// text without them is the source's, byte for byte (sensor_node_conformance checks every
// rewritten file that way).

const DECLS = String.raw`(?:const|let) __hud_p=__hud\.p\(\),__hud_h=__hud\.enter\(__hud_b\+\d+(?:,__hud_f\d+)?\)` +
  String.raw`(?:,__hud_i=__hud\.i\(__hud_h\),__hud_z=0)?(?:,__hud_f\d+=__hud\.f)?`;
const RES = String.raw`__hud_p=__hud\.r\(__hud_h,__hud_p,__hud_i,__hud_z\),__hud_z=0`;
const EXIT = String.raw`__hud\.exit\(__hud_h,__hud_p\)`;
const FAIL = String.raw`__hud\.fail\(__hud_h,__hud_p,__hud_e(?:,__hud_i)?\)`;
const M = String.raw`/\*__hud\*/`;
const CATCH = String.raw`\}catch\(__hud_e\)\{${FAIL};`;
const RET = String.raw` __hud\.x\(__hud_h,__hud_p,`;
// Where two could start at one place, the longer comes first.
const PARTS = [
  `;?${DECLS};try\\{`, // a block body's start (after its directives: the ';' is ours)
  `\\{${M}${DECLS};try\\{return(?:${RET}|\\()`, // an expression body's start
  `${M}\\)${CATCH}(?:${EXIT};throw __hud_e\\}|throw __hud_e\\}finally\\{(?:${RES};)?${EXIT}\\})\\}`, // its end
  `${CATCH}(?:${EXIT};throw __hud_e\\}${EXIT}|throw __hud_e\\}finally\\{(?:${RES};)?${EXIT}\\})`, // a block's end
  `${RET}${M}\\(`, `${RET}`, String.raw` __hud\.x\(__hud_h,__hud_p\)`, `${M}\\)${M}\\)`, // returns
  String.raw`__hud\.v\(`, String.raw` __hud\.s\(__hud_h,__hud_p,void 0,__hud_z=1\),${RES}\)`, // suspensions
  String.raw` __hud\.s\(__hud_h,__hud_p,`, String.raw`,__hud_z=1\),${RES}\)`, `${RES};`,
  `\\{${M}${RES};`, `\\{${M}`, String.raw` __hud\.fa\(__hud_h,\(\)=>\(__hud_z=1,__hud_p\),`, // for await
  `${M}(?:,"[A-Za-z0-9_$.[\\]]+(?:\\(\\.\\.\\.\\))?")?\\)`, `${M}\\}`, `;${RES}\\}`,
];
let re = new RegExp(PARTS.join('|'), 'g');

// Statements of ours put into a framework's own functions (lib/sourcepatch.js), taken out too.
function addStatements(texts) {
  const esc = texts.filter(Boolean).map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  re = new RegExp([...esc, ...PARTS].join('|'), 'g');
}

// TEXT (a function's, or any slice of a rewritten module) without the sensor's insertions.
function original(text) {
  return text.includes('__hud') ? text.replace(re, '') : text;
}

// Wrappers of ours that stand for a function (a framework's method, an application's handler):
// their toString() is that function's, and so are their name and length.
const aliases = new WeakMap();
function disguise(wrapper, fn) {
  if (typeof fn !== 'function') return wrapper;
  aliases.set(wrapper, fn);
  try {
    Object.defineProperty(wrapper, 'name', { value: fn.name, configurable: true });
    Object.defineProperty(wrapper, 'length', { value: fn.length, configurable: true });
  } catch {
    // a name or length the function made read-only and non-configurable: ours stays
  }
  return wrapper;
}

let installed = false;
function install() {
  if (installed) return;
  installed = true;
  const native = Function.prototype.toString;
  const apply = Reflect.apply;
  // A method, as the native one: no `prototype`, not a constructor. Its own text is the native
  // one's ("function toString() { [native code] }").
  const { toString } = {
    toString() {
      if (this === toString) return apply(native, native, []);
      let fn = this;
      for (let a = aliases.get(fn); a !== undefined; a = aliases.get(fn)) fn = a;
      const text = apply(native, fn, []);
      return text.includes('__hud') ? original(text) : text;
    },
  };
  Function.prototype.toString = toString;
}

module.exports = { original, install, addStatements, disguise };
