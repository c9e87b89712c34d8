// The Node benches' npm packages (bench/node/package-lock.json, pinned), installed with `npm ci`
// into OUT once per lockfile, and the sensor package PKG linked as node_modules/hud-sensor.
// Returns false when npm is missing.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export function installBenchDeps(out, pkg) {
  if (spawnSync('npm', ['--version']).status !== 0) return false;
  fs.mkdirSync(out, { recursive: true });
  for (const f of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(here, f), path.join(out, f));
  const stamp = path.join(out, 'node_modules', '.hud-installed-lock');
  const lock = fs.readFileSync(path.join(out, 'package-lock.json'), 'utf8');
  if (!fs.existsSync(stamp) || fs.readFileSync(stamp, 'utf8') !== lock) {
    const r = spawnSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: out, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('npm ci failed');
    fs.writeFileSync(stamp, lock);
  }
  fs.rmSync(path.join(out, 'node_modules', 'hud-sensor'), { force: true });
  fs.symlinkSync(path.resolve(pkg), path.join(out, 'node_modules', 'hud-sensor'));
  fs.copyFileSync(path.join(here, 'express_app.cjs'), path.join(out, 'express_app.cjs'));
  return true;
}

// The Express app served without sockets (express_inproc.cjs), installed under OUT's node_modules
// so that the sensor leaves it uninstrumented: its path.
export function installInprocLoop(out) {
  const loop = path.join(out, 'node_modules', 'hud-bench-inproc', 'index.cjs');
  fs.mkdirSync(path.dirname(loop), { recursive: true });
  fs.copyFileSync(path.join(here, 'express_inproc.cjs'), loop);
  return loop;
}
