'use strict';
const Module = require('node:module');
const vm = require('node:vm');
// A few statements of ours put into a framework's own functions as its file loads, instead of
// wrappers around them (lib/frameworks.js): a wrapper is one more frame and call per layer of a
// request, which cost Express ~4% more CPU per request over HTTP than the same work done inside
// its functions (docs/architecture.md, "Inside Express's functions").
//
// An edit names a function by its first line, exactly as the file has it, found once at the
// start of a line; BEFORE goes at the end of that line, AFTER (when given) in front of the
// function's closing brace: the first line after it that starts with '}' (the functions patched
// are a file's top-level ones, whose other lines are indented). No line moves; the two lines that
// receive text are registered with lib/stack.js so that a frame on them keeps its column.

// SOURCE (of FILENAME, a CommonJS module) with EDITS ([head, before, after|null]) made, and the
// insertions as lib/stack.js takes them ([line (0-based), column, length]...); null when any
// head is not found exactly once, its function's end is not where expected or the result does
// not parse (a closing brace taken for another's): the file then loads as it is.
function apply(source, edits, filename = 'anonymous') {
  const lines = source.split('\n');
  const inserts = [];
  for (const [head, before, after] of edits) {
    const at = [];
    for (let k = 0; k < lines.length; k++) if (lines[k] === head || lines[k] === `${head}\r`) at.push(k);
    if (at.length !== 1) return null;
    const k = at[0];
    let end = -1;
    if (after) {
      for (let j = k + 1; j < lines.length && end < 0; j++) {
        const c = lines[j][0];
        if (c === '}') end = j;
        else if (c !== undefined && c !== ' ' && c !== '\t' && c !== '\r') return null; // past it
      }
      if (end < 0) return null;
    }
    const h = lines[k].endsWith('\r') ? lines[k].length - 1 : lines[k].length;
    lines[k] = lines[k].slice(0, h) + before + lines[k].slice(h);
    inserts.push(k, h, before.length);
    if (after) {
      lines[end] = after + lines[end];
      inserts.push(end, 0, after.length);
    }
  }
  const code = lines.join('\n');
  try {
    new vm.Script(Module.wrap(code), { filename }); // parsed only: its functions compile lazily
  } catch {
    return null;
  }
  return { code, inserts };
}

module.exports = { apply };
