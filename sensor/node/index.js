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
  require('./lib/runtime').install();
  const stack = require('./lib/stack');
  cfg.stackMode = stack.mode();
  stack.install(cfg.stackMode);
  require('./lib/cjs').install(cfg);
  const { register } = require('node:module');
  const { pathToFileURL } = require('node:url');
  register('./hooks.mjs', pathToFileURL(__filename), { data: cfg });
  state = { cfg, stats: instrument.stats };
  const service = opts.service || env.HUD_SERVICE || require('node:path').parse(process.argv[1] || 'node').name;
  say(`sensor enabled: service=${service} pid=${process.pid}`);
  return true;
}

// Calls and escaped exceptions per function_id so far (the placeholder counters of
// lib/runtime.js): {id: {name, calls, errors}}.
function counts() {
  return globalThis.__hud ? globalThis.__hud.counts() : {};
}

// Modules rewritten on this thread (CommonJS; ES modules are rewritten on the loader thread).
function stats() {
  return state ? { ...state.stats } : null;
}

module.exports = { init, counts, stats, enabled: () => config.enabled() };
