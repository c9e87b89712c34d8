'use strict';
// CommonJS: every module compiled after install() goes through the rewrite.
const Module = require('node:module');
const { pathToFileURL } = require('node:url');
const { wanted, rewrite } = require('./instrument');

let installed = false;

function install(opts) {
  if (installed) return;
  installed = true;
  const compile = Module.prototype._compile;
  Module.prototype._compile = function hudCompile(content, filename) {
    if (typeof content === 'string' && wanted(filename, opts)) {
      const code = rewrite(content, filename, filename, pathToFileURL(filename).href, opts);
      if (code !== null) content = code;
    }
    return compile.call(this, content, filename);
  };
}

module.exports = { install };
