'use strict';
// CommonJS: every module compiled after install() goes through the rewrite.
const Module = require('node:module');
const { pathToFileURL } = require('node:url');
const { wanted, rewrite } = require('./instrument');
const stack = require('./stack');
const { disguise } = require('./fntext');

let installed = false;
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
  Module.prototype._compile = disguise(function hudCompile(content, filename) {
    if (typeof content === 'string' && wanted(filename, opts)) {
      const code = rewrite(content, filename, filename, pathToFileURL(filename).href, opts);
      if (code !== null) content = code;
    } else if (typeof content === 'string' && source !== null) {
      content = source(content, filename);
    }
    // This frame is on the stack while the module's top level runs; lib/stack.js hides it,
    // and one more frame is captured meanwhile so that none of the application's is lost.
    const limit = stack.raiseOwn();
    try {
      const r = compile.call(this, content, filename);
      if (loaded !== null) loaded(this, filename);
      return r;
    } finally {
      stack.lowerOwn(limit);
    }
  }, compile);
}

module.exports = { install, onLoaded: (fn) => (loaded = fn), onSource: (fn) => (source = fn) };
