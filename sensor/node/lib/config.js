'use strict';
// The sensor's settings from init() arguments and the environment (docs/config.md): the
// same keys and status lines as the Python sensor.
const fs = require('node:fs');
const path = require('node:path');

const TRUE = new Set(['1', 'true', 'yes', 'on']);

function enabled(env = process.env) {
  return TRUE.has(String(env.HUD_ENABLE || '').trim().toLowerCase());
}

let stream = null;

// Chooses where status lines go (init() option, else HUD_STATUS); reports a bad value once.
function statusStream(opt, env = process.env) {
  const v = String(opt || env.HUD_STATUS || 'stdout').trim().toLowerCase();
  if (v === 'stdout' || v === 'stderr' || v === 'off') return (stream = v);
  process.stderr.write(`hud: HUD_STATUS=${v} is not stdout, stderr or off: using stdout\n`);
  return (stream = 'stdout');
}

function status(msg) {
  if (!stream) statusStream();
  if (stream === 'off') return;
  try {
    (stream === 'stderr' ? process.stderr : process.stdout).write(`hud: ${msg}\n`);
  } catch {
    // A closed stream must not stop the program.
  }
}

function globs(v) {
  if (!v) return [];
  if (typeof v === 'string') v = v.split(',');
  return v.map((g) => String(g).trim()).filter(Boolean);
}

// fnmatch-like: '*' any run, '?' one character; matched against the module path and the
// package-relative path ("lodash/map.js", "node_modules/lodash/map.js").
function globRe(g) {
  const s = g.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${s}$`);
}

// The package root of FILE: the nearest directory above it with a package.json (cached).
const roots = new Map();
function packageRoot(file) {
  let dir = path.dirname(file);
  const seen = [];
  for (;;) {
    if (roots.has(dir)) break;
    seen.push(dir);
    if (fs.existsSync(path.join(dir, 'package.json'))) {
      roots.set(dir, dir);
      break;
    }
    const up = path.dirname(dir);
    if (up === dir) {
      roots.set(dir, null);
      break;
    }
    dir = up;
  }
  const root = roots.get(dir);
  for (const d of seen) roots.set(d, root);
  return root;
}

// module_path (docs/protocol.md): FILE relative to HUD_ROOT when it lies below it, else to
// its package root, '/'-separated; the path without its leading '/' when neither applies.
function modulePath(file, root = process.env.HUD_ROOT) {
  let base = root ? path.resolve(root) : null;
  if (!base || !file.startsWith(base + path.sep)) base = packageRoot(file);
  const rel = base ? path.relative(base, file) : file.replace(/^\/+/, '');
  return rel.split(path.sep).join('/');
}

function lang(file) {
  if (/\.(c|m)?jsx?$/.test(file)) return 'javascript';
  return null; // TypeScript arrives compiled, with a map (lib/tsmap.js).
}

module.exports = { enabled, status, statusStream, globs, globRe, modulePath, packageRoot, lang };
