'use strict';
// hud's Node.js sensor: require('hud-sensor').init() at the top of the entry file, or
// `node --import hud-sensor/register app.js` (also through NODE_OPTIONS). Nothing happens
// unless HUD_ENABLE is true; then the service's own modules loaded afterwards (CommonJS and
// ES modules) are rewritten so that every function counts its calls (docs/sensor-node.md).
const config = require('./lib/config');

let state = null;

function init(opts = {}) {
  if (state) return true;
  config.statusStream(opts.status);
  // Worker threads (which run --import too) start quietly: one status line per process.
  const main = require('node:worker_threads').isMainThread;
  const say = opts.quiet || !main ? () => {} : (m) => config.status(m);
  if (!config.enabled()) {
    if (main) config.status('HUD_ENABLE is not set: sensor disabled, nothing instrumented');
    return false;
  }
  // Another copy of the package started first (an application's own dependency under
  // `--import` of another): it counts every function already. This one would rewrite each
  // module a second time (every call counted twice) with calls that copy's `__hud` may lack.
  if (globalThis.__hud !== undefined) {
    if (main) config.status('another copy of the sensor runs in this process: this one stays off');
    return false;
  }
  let instrument;
  try {
    instrument = require('./lib/instrument');
  } catch (err) {
    if (main) config.status(`native module unavailable (${err.message}): sensor disabled`);
    return false;
  }
  const env = process.env;
  const cfg = {
    include: config.globs(opts.include_modules ?? env.HUD_INCLUDE_MODULES),
    exclude: config.globs(opts.exclude_modules ?? env.HUD_EXCLUDE_MODULES),
    root: opts.root ?? env.HUD_ROOT ?? undefined,
  };
  const runtime = require('./lib/runtime');
  runtime.install();
  const stack = require('./lib/stack');
  cfg.stackMode = stack.mode();
  stack.install(cfg.stackMode);
  require('./lib/cjs').install(cfg);
  // Endpoints and queue consumers as flows (in every thread: a worker serves requests too).
  require('./lib/frameworks').install();
  const { register } = require('node:module');
  const { pathToFileURL } = require('node:url');
  register('./hooks.mjs', pathToFileURL(__filename), { data: cfg });
  state = { cfg, stats: instrument.stats };
  const service = opts.service || env.HUD_SERVICE || require('node:path').parse(process.argv[1] || 'node').name;
  try {
    runtime.start(senderSettings(opts, service));
  } catch (err) {
    if (main) config.status(`sender not started (${err.message}): counting only, nothing sent`);
  }
  say(`sensor enabled: service=${service} pid=${process.pid}`);
  return true;
}

// The sender's settings: init() arguments, else the environment (the Python sensor's keys;
// HUD_URL, HUD_KEY and the config file are read by the core's shared configuration).
function senderSettings(opts, service) {
  const env = process.env;
  const num = (v, d) => (v === undefined || v === null || v === '' || Number.isNaN(Number(v)) ? d : Number(v));
  let tags = opts.tags;
  if (!tags && env.HUD_TAGS) {
    try {
      tags = JSON.parse(env.HUD_TAGS);
    } catch (err) {
      config.status(`HUD_TAGS ignored: ${err.message}`);
    }
  }
  const s = {
    service,
    version: opts.version || env.HUD_VERSION || undefined,
    environment: opts.env || undefined,
    log_file: opts.log_file || env.HUD_LOG_FILE || undefined,
    interval: num(opts.flush_interval ?? env.HUD_FLUSH_INTERVAL, 10),
    budget: num(opts.cpu_budget ?? env.HUD_CPU_BUDGET, 0.01),
    backlog: num(env.HUD_BACKLOG, 30),
    runtime: `node ${process.versions.node}`,
    tags: tags && typeof tags === 'object' ? Object.entries(tags).map(([k, v]) => [String(k), String(v)]) : [],
  };
  if (opts.url) s.url = String(opts.url);
  if (opts.key) s.key = String(opts.key);
  return s;
}

// Calls and escaped exceptions per function_id so far, for the process (the core's
// counters): {id: {name, module_path, calls, errors}}.
function counts() {
  return globalThis.__hud ? globalThis.__hud.counts() : {};
}

// Modules rewritten on this thread (CommonJS; ES modules are rewritten on the loader thread),
// the sampling (the quota of timed calls per function per second, the measured cost of a
// timed call (ns) that the budget counts and the timed calls so far), and for the process the
// functions declared, the edges of the threads' tables, the sensor's memory (bytes) and the
// sender's batches (waiting, sent, dropped).
function stats() {
  if (!state) return null;
  const n = require('./lib/runtime').native.stats();
  return { ...state.stats, quota: n.quota, timed_call_ns: n.timed_call_ns, timed_calls: n.timed_calls,
    functions: n.functions, edges: n.edges, memory_bytes: n.memory_bytes, backlog: n.backlog,
    batches_sent: n.batches_sent, dropped_batches: n.dropped_batches };
}

// Sends what was recorded now; true when the backend took it (waits up to TIMEOUT_S).
function flush(timeoutS = 5) {
  return state ? require('./lib/runtime').native.flush(timeoutS) : false;
}

// Caller edges per (callee, caller) with their call-site lines so far, for the process (tests).
function edges() {
  return globalThis.__hud ? globalThis.__hud.edges() : [];
}

module.exports = { init, counts, edges, stats, flush, enabled: () => config.enabled() };
