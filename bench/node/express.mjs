// The Express benches' app processes (bench/node/express_app.cjs in the install dir).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { median, bootstrap } from './stats.mjs';

// With two CPUs or more: this process (the load generator) on CPU 0, the apps on CPU 1 (pinApps
// true), so that the load generator does not take the app's CPU and only one app runs at a time.
export function pinToCpu0() {
  return (os.availableParallelism?.() ?? os.cpus().length) >= 2 && spawnSync('taskset', ['-p', '-c', '0', String(process.pid)]).status === 0;
}

// Starts the app with node FLAGS in CWD under ENV (on CPU 1 when PIN); resolves to {c: the child,
// url: its /orders/7} once it listens. NAME names it in errors.
export function startExpressApp(name, flags, { cwd, env, pin }) {
  const argv = [process.execPath, ...flags, 'express_app.cjs'];
  const [cmd, ...rest] = pin ? ['taskset', '-c', '1', ...argv] : argv;
  const c = spawn(cmd, rest, { cwd, env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let s = '';
    c.stdout.on('data', (d) => {
      s += d;
      const x = /"port":(\d+)/.exec(s);
      if (x) resolve({ c, url: `http://127.0.0.1:${x[1]}/orders/7` });
    });
    c.on('exit', (code) => reject(new Error(`${name}: app exited ${code}`)));
  });
}

// Stops a child process started by the benches (SIGTERM) and resolves once it exited.
export function stopApp(c) {
  c.removeAllListeners('exit');
  c.kill('SIGTERM');
  return new Promise((resolve) => c.once('exit', resolve));
}

// An app's CPU time so far in ns, from the scheduler (/proc/PID/stat counts in 10 ms steps):
// [its main thread (the application's JS), all its threads (with V8's collector and compiler
// threads and the sensor's sender)].
export function appCpuNs(pid) {
  let all = 0, main = 0;
  for (const t of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const ns = Number(fs.readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
      all += ns;
      if (Number(t) === pid) main = ns;
    } catch {
      // the thread ended
    }
  }
  return [main, all];
}

// The side-by-side benches' apps: plain and the sensor's variants from SPEC (space-separated
// NAME[:VAR=VALUE...]; an empty VALUE unsets VAR), each {args, env} over BASE (which enables
// the sensor). All of them share one CPU, so each has 1/n of it: a variant that does not set
// HUD_CPU_BUDGET gets the default's 1% of a core over n, the share of its CPU that timing takes
// in an app alone at full speed (with 1% of a core each, timing could take n% of a variant's
// CPU here).
export function benchModes(spec, base) {
  const modes = { plain: { args: [], env: { ...base, HUD_ENABLE: '' } } };
  for (const v of spec.split(/\s+/).filter(Boolean)) {
    const [name, ...sets] = v.split(':');
    const env = { ...base };
    for (const s of sets) {
      const i = s.indexOf('=');
      env[s.slice(0, i)] = s.slice(i + 1);
    }
    modes[name] = { args: ['--import', 'hud-sensor/register'], env };
  }
  const n = Object.keys(modes).length;
  for (const m of Object.values(modes)) {
    if (m.env.HUD_CPU_BUDGET === undefined) m.env.HUD_CPU_BUDGET = String(0.01 / n);
    for (const k of Object.keys(m.env)) if (m.env[k] === '') delete m.env[k];
  }
  return modes;
}

// The side-by-side benches' figures: per round, each app's CPU per request in each slice over
// plain's in the same slice, the median over slices (round(per): per = {mode: [CPU ns per
// request, per slice]}, plain first); printed per round and, at the end, per mode with a 95%
// interval over rounds (report(title)).
export function sideBySide(names) {
  const perRound = Object.fromEntries(names.map((m) => [m, []]));
  const plainUs = [];
  return {
    round(per) {
      const r = plainUs.push(median(per.plain) / 1000) - 1;
      for (const m of names) perRound[m].push(median(per[m].map((x, k) => x / per.plain[k])));
      console.log(`  round ${r + 1}: plain ${plainUs[r].toFixed(1)} us/request; ` +
        names.slice(1).map((m) => `${m} ${perRound[m][r].toFixed(3)}x`).join(', '));
    },
    report(title) {
      console.log(`${title}; main-thread CPU per request over plain's (plain: ${median(plainUs).toFixed(1)} us):`);
      for (const m of names.slice(1)) {
        const [lo, hi] = bootstrap(perRound[m]);
        console.log(`  ${m.padEnd(10)} ${median(perRound[m]).toFixed(3)}x plain (95% ${lo.toFixed(3)}-${hi.toFixed(3)})`);
      }
    },
  };
}
