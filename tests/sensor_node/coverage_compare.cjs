'use strict';
// The sensor's call counts against V8's precise coverage (coverage_probe.cjs's output), used by
// conformance.mjs, programs.mjs and tools/exact.mjs. Compared: each function whose id no other
// function shares (anonymous functions of one scope share theirs) and whose start line no other
// function's shares (V8 gives offsets in the rewritten text, whose lines are the source's), not a
// generator or an async function (V8 counts those once per resume).
const fs = require('node:fs');
const path = require('node:path');

const GENERATOR = /function\s*\*|(^|[\s,{;])\*\s*(\[[^\]]*\]|[\w$#]+)\s*\(/;
const MAP = /\/[*/][#@]\s*sourceMappingURL=/;

// COV: {v8: [[url, line, count]...], counts}; NATIVE, CONFIG: the package's addon and lib/config.js;
// ROOT: HUD_ROOT of the run; KEEP(file): the files to compare; SKIPMAPPED: leave out files with a
// source map (the sensor counts a bundle under its sources). -> {same, called, wrong, mapped}
function compare(cov, { native, config, root, keep = () => true, skipMapped = false }) {
  const v8 = new Map(); // file -> line -> count (null: several functions start on it)
  for (const [url, line, count] of cov.v8) {
    const file = url.startsWith('file:') ? new URL(url).pathname : url;
    if (!keep(file)) continue;
    if (!v8.has(file)) v8.set(file, new Map());
    v8.get(file).set(line, v8.get(file).has(line) ? null : count);
  }
  const uses = new Map(), ours = [];
  let mapped = 0;
  for (const file of v8.keys()) {
    if (!/\.(c|m)?js$/.test(file) || !fs.existsSync(file)) continue;
    const text = fs.readFileSync(file, 'utf8');
    if (skipMapped && MAP.test(text)) {
      mapped++;
      continue;
    }
    const f = native.functions(text, config.modulePath(file, root), 'javascript');
    const lines = text.split('\n'), at = new Map();
    for (let i = 0; i < f.ids.length; i++) {
      uses.set(f.ids[i], (uses.get(f.ids[i]) || 0) + 1);
      at.set(f.startLines[i], at.has(f.startLines[i]) ? -1 : i);
    }
    for (const [l, i] of at)
      if (i >= 0 && !f.async[i] && !GENERATOR.test(lines[l - 1])) ours.push([file, l, f.ids[i], f.names[i]]);
  }
  let same = 0, called = 0;
  const wrong = [];
  for (const [file, l, id, name] of ours) {
    const want = v8.get(file).get(l);
    if (want === null || uses.get(id) !== 1) continue;
    const got = cov.counts[id] ? cov.counts[id].calls : 0;
    if (got !== (want || 0)) wrong.push(`${path.relative(root || '.', file)}:${l} ${name}: the sensor counted ${got}, V8 ${want || 0}`);
    else if (++same && got) called++;
  }
  return { same, called, wrong, mapped };
}

module.exports = { compare };
