'use strict';
// Preloaded (--require) by programs.mjs and tools/exact.mjs: V8's precise coverage (exact call
// counts per function, through the inspector) from the start, written at exit with the sensor's
// counts as {v8: [[url, line of the function's start, count]...], counts} to COVERAGE_PROBE_OUT.
// Lines, because the rewrite keeps them (V8 reports offsets in the rewritten text). A worker
// thread of the program's only leaves an empty COVERAGE_PROBE_OUT.worker-<id> (its calls are in
// the sensor's counts once it ended, not in this coverage); the ES module loader's thread runs no
// instrumented code and leaves nothing. COVERAGE_PROBE_SKIP: a part of the URLs to leave out.
const fs = require('node:fs');
const { pathToFileURL } = require('node:url');
const { isMainThread, threadId } = require('node:worker_threads');

const session = new (require('node:inspector').Session)();
session.connect();
function post(method, params = {}) {
  let out, err;
  session.post(method, params, (e, v) => {
    err = e;
    out = v;
  });
  if (err) throw err;
  return out;
}
post('Profiler.enable');
post('Profiler.startPreciseCoverage', { callCount: true, detailed: false });

function lineOf(starts, offset) {
  let lo = 0, hi = starts.length - 1;
  while (lo < hi) {
    const m = (lo + hi + 1) >> 1;
    if (starts[m] <= offset) lo = m;
    else hi = m - 1;
  }
  return lo + 1;
}

process.on('exit', () => {
  const out = process.env.COVERAGE_PROBE_OUT;
  if (!out) return;
  if (!isMainThread) {
    if (globalThis.__hud) fs.writeFileSync(`${out}.worker-${threadId}`, '');
    return;
  }
  const skip = process.env.COVERAGE_PROBE_SKIP;
  const self = [__filename, pathToFileURL(__filename).href];
  const cov = post('Profiler.takePreciseCoverage').result;
  post('Debugger.enable');
  const v8 = [];
  for (const sc of cov) {
    if (!/^(file:|\/)/.test(sc.url) || self.includes(sc.url) || (skip && sc.url.includes(skip))) continue;
    let text;
    try {
      text = post('Debugger.getScriptSource', { scriptId: sc.scriptId }).scriptSource;
    } catch {
      continue; // a script V8 no longer holds
    }
    const starts = [0];
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
    for (const f of sc.functions)
      if (f.ranges[0].startOffset > 0) v8.push([sc.url, lineOf(starts, f.ranges[0].startOffset), f.ranges[0].count]);
  }
  fs.writeFileSync(out, JSON.stringify({ v8, counts: globalThis.__hud ? globalThis.__hud.counts() : {} }));
});
