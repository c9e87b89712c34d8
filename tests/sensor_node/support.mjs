// Shared by the Node sensor suites: an application directory in the build tree with the
// built package installed as node_modules/hud-sensor, and node runs with a bounded time.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';

export const PKG = process.env.HUD_NODE_PKG; // the built package (sensor/node/CMakeLists.txt)
export const OUT = process.env.HUD_NODE_TEST_OUT;
const here = path.dirname(new URL(import.meta.url).pathname);

if (!PKG || !fs.existsSync(path.join(PKG, 'hud_sensor.node'))) {
  console.error(`hud_sensor.node not built under ${PKG}`);
  process.exit(1);
}

// A fresh application directory NAME with the fixtures and hud-sensor installed.
export function makeApp(name) {
  const dir = path.join(OUT, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'node_modules'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'app', private: true }));
  for (const f of fs.readdirSync(path.join(here, 'fixtures')))
    fs.copyFileSync(path.join(here, 'fixtures', f), path.join(dir, f));
  fs.symlinkSync(PKG, path.join(dir, 'node_modules', 'hud-sensor'));
  return dir;
}

// Environment without any HUD_ variable of the caller, plus EXTRA. Unless EXTRA says otherwise,
// the sender posts to a port where nothing listens and reads no configuration file, so that a
// test never sends to a backend of the machine's.
export function env(extra = {}) {
  const e = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('HUD_') && k !== 'NODE_OPTIONS') e[k] = v;
  return { ...e, HUD_URL: 'http://127.0.0.1:1', XDG_CONFIG_HOME: '/nonexistent-hud-config', ...extra };
}

// Runs node with ARGS in CWD; returns {status, stdout, stderr}. Fails the suite on a timeout.
export function node(args, cwd, extraEnv = {}) {
  const r = spawnSync(process.execPath, args, { cwd, env: env(extraEnv), encoding: 'utf8', timeout: 60000 });
  if (r.error) throw r.error;
  return r;
}

// Whether CODE compiles as a CommonJS module's body, or with ESM as an ES module (parsed only:
// its functions compile lazily).
export function compiles(code, esm = false) {
  try {
    // An ES module compiles without running only through vm.SourceTextModule
    // (--experimental-vm-modules).
    if (esm) new vm.SourceTextModule(code);
    else vm.compileFunction(code, ['exports', 'require', 'module', '__filename', '__dirname']);
    return true;
  } catch {
    return false;
  }
}

// The JSON document on the last line of stdout of a successful run.
export function lastJson(r, what) {
  if (r.status !== 0) throw new Error(`${what}: exit ${r.status}\n${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

// The pinned packages of the directory NAME beside this file (package.json, package-lock.json),
// installed by `npm ci` into OUT/NAME (again only when the lockfile changed); with LINK the built
// hud-sensor is linked into its node_modules. Exits 77 (skipped) without npm. Returns OUT/NAME.
export function npmInstall(name, { link = false } = {}) {
  if (spawnSync('npm', ['--version']).status !== 0) {
    console.log(`sensor_node_${name}: skipped: needs npm (scripts/dev.sh deps installs it)`);
    process.exit(77);
  }
  const dir = path.join(OUT, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(here, name, f), path.join(dir, f));
  const stamp = path.join(dir, 'node_modules', '.hud-installed-lock');
  const lock = fs.readFileSync(path.join(dir, 'package-lock.json'), 'utf8');
  if (!fs.existsSync(stamp) || fs.readFileSync(stamp, 'utf8') !== lock) {
    const r = spawnSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'],
      { cwd: dir, stdio: 'inherit', timeout: 180000 });
    assert.equal(r.status, 0, 'npm ci failed');
    fs.writeFileSync(stamp, lock);
  }
  if (link) {
    fs.rmSync(path.join(dir, 'node_modules', 'hud-sensor'), { force: true });
    fs.symlinkSync(PKG, path.join(dir, 'node_modules', 'hud-sensor'));
  }
  return dir;
}

// A real hud-server (HUD_SERVER_BIN) on a free loopback port over DIR/hud.db, with an ingest
// and a read key. Returns {port, keys, get(path, params) -> JSON, sensorEnv(service) -> the
// An ingest and a read key of environment "test" in the hud-server database DB ({ingest, read}),
// made by the hud-server binary BIN.
export function createKeys(BIN, db) {
  const keys = {};
  for (const role of ['ingest', 'read']) {
    const r = spawnSync(BIN, ['keys', 'create', '--env', 'test', '--role', role, '--db', db], { encoding: 'utf8', timeout: 30000 });
    keys[role] = (r.stdout || '').trim().split('\n')[0];
    assert.match(keys[role], /^hud_/, `keys create: ${r.stdout} ${r.stderr}`);
  }
  return keys;
}

// environment that sends to it, stop()}.
export async function hudServer(dir) {
  const { spawn } = await import('node:child_process');
  const BIN = process.env.HUD_SERVER_BIN;
  assert.ok(BIN && fs.existsSync(BIN), `hud-server not built at ${BIN}`);
  const db = path.join(dir, 'hud.db');
  fs.rmSync(db, { force: true });
  const keys = createKeys(BIN, db);
  const srv = spawn(BIN, ['--db', db, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`hud-server did not start: ${out}`)), 20000);
    srv.stdout.on('data', (d) => {
      out += d;
      const m = /listening on \S+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    });
    srv.on('exit', () => reject(new Error(`hud-server exited: ${out}`)));
  });
  return {
    port,
    keys,
    async get(p, params) {
      const r = await fetch(`http://127.0.0.1:${port}${p}?${new URLSearchParams(params)}`, {
        headers: { Authorization: `Bearer ${keys.read}`, 'Cache-Control': 'no-cache' },
        signal: AbortSignal.timeout(10000),
      });
      assert.equal(r.status, 200, `${p}: HTTP ${r.status}`);
      return r.json();
    },
    sensorEnv: (service) => ({
      HUD_ENABLE: '1', HUD_STATUS: 'off', HUD_URL: `http://127.0.0.1:${port}`, HUD_KEY: keys.ingest,
      HUD_SERVICE: service, HUD_FLUSH_INTERVAL: '0.5', HUD_LOG_FILE: path.join(dir, `${service}.log`),
    }),
    stop: () => srv.kill('SIGTERM'),
  };
}
