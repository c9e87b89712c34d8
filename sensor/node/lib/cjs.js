'use strict';
// CommonJS: every module compiled after install() goes through the rewrite.
const Module = require('node:module');
const { pathToFileURL } = require('node:url');
const vm = require('node:vm');
const { wanted, rewrite, stats } = require('./instrument');
const stack = require('./stack');
const { disguise } = require('./fntext');
const { status } = require('./config');

let installed = false;
let toldRequired = false; // the status line about require() of ES modules, once
let toldFailed = false; // the status line about a failure before the compile, once
// Called with each CommonJS module once its top level ran (lib/frameworks.js patches the
// frameworks here: a wrapper of its own would add a frame to stacks taken meanwhile).
let loaded = null;
// Called with each CommonJS module's text that the rewrite leaves as it is, before it compiles:
// returns the text to compile (lib/frameworks.js puts its statements into a framework's).
let source = null;

function install(opts) {
  if (installed) return;
  installed = true;
  const compile = Module.prototype._compile;
  Module.prototype._compile = disguise(function hudCompile(content, filename, format) {
    let original = null;
    try {
      if (typeof content === 'string' && wanted(filename, opts) && !rejected(content, filename, format)) {
        const code = rewritten(content, filename, format, opts);
        if (code !== null) {
          original = content;
          content = code;
        }
      } else if (typeof content === 'string' && source !== null) {
        content = source(content, filename);
      }
    } catch (err) {
      // The sensor's own work never stops a module from loading (an application may have
      // deleted a builtin it calls): the module runs as it is.
      failed(filename, err);
    }
    // This frame is on the stack while the module's top level runs; lib/stack.js hides it,
    // and one more frame is captured meanwhile so that none of the application's is lost.
    const limit = stack.raiseOwn();
    const before = stack.registrations();
    try {
      let r;
      try {
        r = compile.call(this, content, filename, format);
      } catch (err) {
        // A rewritten text that V8 does not compile (its first statement, which registers it,
        // never ran) runs as it is: a source V8 rejects fails with its own text and columns, and
        // a rewrite bug must not stop the application.
        if (original === null || !(err instanceof SyntaxError) || stack.registrations() !== before) throw err;
        stats.failed++;
        r = compile.call(this, original, filename, format);
        status(`${filename} runs uninstrumented: its rewrite does not compile (${err.message})`);
      }
      if (loaded !== null) {
        try {
          loaded(this, filename);
        } catch (err) {
          failed(filename, err);
        }
      }
      return r;
    } finally {
      stack.lowerOwn(limit);
    }
  }, compile);
}

// Whether V8 rejects the source as CommonJS, and Node will not try it as an ES module. Such a
// source is left as it is, so that it fails as without the sensor: the rewrite may hide an early
// error, as `try {` a parameter's redeclaration or its calls' parentheses a misplaced `yield`.
// V8 compiles a module's text ~30x faster than the rewrite takes (inner functions are only
// pre-parsed, but their early errors found).
const CJS_PARAMS = ['exports', 'require', 'module', '__filename', '__dirname'];
// The SyntaxErrors after which Node 20 compiles a file of unknown format as an ES module
// (src/node_contextify.cc).
const RETRIED_AS_MODULE = new Set([
  'Cannot use import statement outside a module',
  "Unexpected token 'export'",
  "Cannot use 'import.meta' outside a module",
  ...CJS_PARAMS.map((p) => `Identifier '${p}' has already been declared`),
  'await is only valid in async functions and the top level bodies of modules',
]);
function rejected(content, filename, format) {
  if (format === 'module') return false;
  try {
    vm.compileFunction(content, CJS_PARAMS, { filename });
    return false;
  } catch (err) {
    if (!(err instanceof SyntaxError)) return false;
    return format === 'commonjs' || !RETRIED_AS_MODULE.has(err.message);
  }
}

function failed(filename, err) {
  if (!toldFailed) status(`${filename}: the sensor failed around its load, which went on without it (${err && err.message})`);
  toldFailed = true;
}

// The rewrite of a module that Node compiles here, or null. V8 names an ES module's frames by its
// URL: Node 20.19+ compiles an ES module given to require() here (FORMAT "module"), and a .js file
// outside a "type" package as one when its syntax says so (FORMAT undefined): then the module's
// first statement tells which name it runs under (runtime.js table()).
function rewritten(content, filename, format, opts) {
  const url = pathToFileURL(filename).href;
  if (format === 'module' && !toldRequired) {
    toldRequired = true;
    status(`ES module ${filename} given to require(): the modules it imports are not instrumented (Node runs no loader hook for them)`);
  }
  const key = format === 'module' ? url : format === 'commonjs' ? filename : [filename, url];
  return rewrite(content, filename, key, url, opts);
}

module.exports = { install, onLoaded: (fn) => (loaded = fn), onSource: (fn) => (source = fn) };
