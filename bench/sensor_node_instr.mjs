// Where an Express request's instructions go at full optimization, plain and under the sensor's
// variants: the app served without sockets (bench/node/express_inproc.cjs) run to two request
// counts under callgrind (per instruction, `node --single-threaded --perf-basic-prof`, so that
// V8's perf map names the optimized JavaScript); per request, the difference of the two runs over
// the difference of their counts. Prints per variant the instructions per request (the
// collector's, optimized JavaScript, builtins, the rest) and the functions that gained or lost
// most against plain (the collector's left out). The counts of one build move by ±2k per request
// between runs (the collector's cycles fall differently into the window): they say where
// instructions go, not whether a small change helped. With HUD_INSTR_CACHE=1 callgrind also
// simulates this machine's caches (L1i and L1d 32 KiB, L2 1 MiB as its last level; ~3x slower):
// per variant the misses per request, L2 misses by kind of code (the collector's included), and
// the functions whose L1i and L2 misses grew most. V8's request
// path misses L1i about once per 35 instructions, so code of ours on it costs more in misses than
// in instructions (docs/architecture.md, "Caches, simulated"). Minutes under valgrind, so not one
// of the bench/*.sh that scripts/dev.sh bench runs (docs/HACKING.md):
//   node bench/sensor_node_instr.mjs PKG OUT [N1 N2]   (default 12000 24000; HUD_BENCH_VARIANTS
//   as in bench/sensor_node_inproc.sh, default `flows-only:HUD_EXCLUDE_MODULES=** sensor`)
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { installBenchDeps, installInprocLoop } from './node/install.mjs';
import { benchModes } from './node/express.mjs';

const [pkg, outArg, n1Arg, n2Arg] = process.argv.slice(2);
const out = path.resolve(outArg);
const [n1, n2] = [Number(n1Arg || 12000), Number(n2Arg || 24000)];
if (spawnSync('valgrind', ['--version']).status !== 0) {
  console.log('sensor_node_instr: skipped (needs valgrind)');
  process.exit(0);
}
if (!installBenchDeps(out, pkg)) {
  console.log('sensor_node_instr: skipped (needs npm)');
  process.exit(0);
}
const loop = installInprocLoop(out);
const cache = process.env.HUD_INSTR_CACHE === '1';
const CACHE = ['--cache-sim=yes', '--I1=32768,8,64', '--D1=32768,8,64', '--LL=1048576,8,64'];
const L2 = ['ILmr', 'DLmr', 'DLmw']; // callgrind's last-level misses: instruction reads, data reads and writes

const base = { ...process.env, HUD_STATUS: 'off', HUD_URL: 'http://127.0.0.1:1', XDG_CONFIG_HOME: '/nonexistent-hud-config', HUD_ENABLE: '1' };
const modes = benchModes(process.env.HUD_BENCH_VARIANTS || 'flows-only:HUD_EXCLUDE_MODULES=** sensor', base);
const names = Object.keys(modes);

// One run of MODE to N requests: {function: self cost, an array in callgrind's order of events
// (`events`)}, the optimized JavaScript's by its name in V8's perf map ("JS ..."), any other
// unnamed code as "???".
function run(mode, n) {
  const file = path.join(out, `instr.${mode}.${n}.cg`);
  const args = ['--tool=callgrind', '--dump-instr=yes', '--dump-line=no', ...(cache ? CACHE : []), `--callgrind-out-file=${file}`,
    process.execPath, '--single-threaded', '--perf-basic-prof', ...modes[mode].args, loop];
  // Its stdin stays open: the loop exits when it closes.
  const env = { ...modes[mode].env, HUD_BENCH_REQUESTS: String(n) };
  const c = spawn('valgrind', args, { cwd: out, env, stdio: ['pipe', 'ignore', 'pipe'] });
  let err = '';
  c.stderr.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => c.on('exit', (code) => {
    const map = `/tmp/perf-${c.pid}.map`;
    if (code !== 0 || !fs.existsSync(map)) return reject(new Error(`${mode} ${n}: exit ${code}\n${err.slice(-2000)}`));
    const costs = selfCosts(file, perfMap(map));
    fs.rmSync(map);
    fs.rmSync(file);
    resolve(costs);
  }));
}

// V8's perf map: sorted [start, end, name] of the code it generated.
function perfMap(file) {
  const ents = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => {
    const [a, s, ...name] = l.split(' ');
    const start = parseInt(a, 16);
    return [start, start + parseInt(s, 16), name.join(' ').replace(/\s+\S+:\d+:\d+$/, '')];
  });
  return ents.sort((x, y) => x[0] - y[0]);
}
function lookup(ents, addr) {
  let lo = 0, hi = ents.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (ents[mid][0] <= addr) lo = mid + 1;
    else hi = mid - 1;
  }
  return hi >= 0 && addr < ents[hi][1] ? ents[hi][2] : '???';
}

// Self cost per function from a callgrind file with per-instruction positions (a call's line,
// after calls=, is its inclusive cost and is skipped). Sets `events` (Ir first).
let events = ['Ir'];
function selfCosts(file, ents) {
  const names = new Map();
  const cost = new Map();
  const add = (k, v) => {
    const c = cost.get(k) || cost.set(k, new Array(events.length).fill(0)).get(k);
    for (let i = 0; i < v.length; i++) c[i] += v[i];
  };
  let fn = '', unnamed = false, addr = 0, skip = false;
  for (const l of fs.readFileSync(file, 'utf8').split('\n')) {
    if (l.startsWith('events:')) {
      events = l.slice(7).trim().split(/\s+/);
      continue;
    }
    if (l.startsWith('fn=')) {
      const m = /^fn=\((\d+)\)(?: (.*))?$/.exec(l);
      if (m && m[2] !== undefined) names.set(m[1], m[2]);
      fn = m ? names.get(m[1]) : l.slice(3);
      unnamed = fn === undefined || fn.startsWith('0x') || fn === '???';
      continue;
    }
    if (l.startsWith('cfn=')) {
      const m = /^cfn=\((\d+)\) (.*)$/.exec(l);
      if (m) names.set(m[1], m[2]);
      continue;
    }
    if (l.startsWith('calls=')) {
      skip = true;
      continue;
    }
    const m = /^(0x[0-9a-f]+|[+-]\d+|\*)((?:\s+\d+)+)$/.exec(l);
    if (!m) continue;
    const p = m[1];
    if (p.startsWith('0x')) addr = parseInt(p, 16);
    else if (p !== '*') addr += Number(p);
    if (skip) {
      skip = false;
      continue;
    }
    add(unnamed ? lookup(ents, addr) : fn, m[2].trim().split(/\s+/).map(Number));
  }
  return cost;
}

const GC = /Mark|Sweep|Evacuat|RememberedSet|LiveObject|Scaveng|ShouldVisit|BodyDescriptor|Heap::|MemoryChunk|Marking|PagedSpace|FreeList|Unmapper|MinorMC|heap::base/;
function kind(k) {
  if (GC.test(k)) return 'collector';
  if (k.startsWith('JS:')) return 'JavaScript';
  if (k.startsWith('Builtins_')) return 'builtins';
  return 'rest';
}

// Two runs at a time (one per core).
const jobs = names.flatMap((m) => [[m, n1], [m, n2]]);
const got = {};
async function worker() {
  for (let j; (j = jobs.shift());) got[`${j[0]} ${j[1]}`] = await run(j[0], j[1]);
}
await Promise.all([worker(), worker()]);

// Per variant and function: the cost per request of each event, as the difference of its two runs.
const per = {};
const zero = () => new Array(events.length).fill(0);
for (const m of names) {
  const a = got[`${m} ${n1}`], b = got[`${m} ${n2}`];
  per[m] = new Map([...new Set([...a.keys(), ...b.keys()])].map((k) => {
    const x = a.get(k) || zero(), y = b.get(k) || zero();
    return [k, y.map((v, i) => (v - x[i]) / (n2 - n1))];
  }));
}
const k1 = (x) => `${(x / 1000).toFixed(1)}k`;
console.log(`express GET /orders/:id without sockets, callgrind, instructions per request (requests ${n1} to ${n2}):`);
for (const m of names) {
  const sums = {};
  for (const [k, v] of per[m]) sums[kind(k)] = (sums[kind(k)] || 0) + v[0];
  const total = Object.values(sums).reduce((x, y) => x + y, 0);
  console.log(`  ${m.padEnd(10)} ${k1(total)}: ` + ['collector', 'JavaScript', 'builtins', 'rest'].map((c) => `${c} ${k1(sums[c] || 0)}`).join(', '));
}
// The functions whose cost in events ES (indexes into events, summed) moved most against plain.
function moved(m, es, what) {
  const at = (k, mm) => es.reduce((t, e) => t + ((per[mm].get(k) || zero())[e] || 0), 0);
  const d = [...new Set([...per.plain.keys(), ...per[m].keys()])].filter((k) => kind(k) !== 'collector')
    .map((k) => [at(k, m) - at(k, 'plain'), k]).sort((x, y) => y[0] - x[0]);
  console.log(`  ${m} against plain, ${what}, the collector left out: most gained, then most lost`);
  for (const [v, k] of [...d.slice(0, 15), ...d.slice(-5)]) console.log(`    ${v >= 0 ? '+' : ''}${v.toFixed(0).padStart(6)} ${k.slice(0, 110)}`);
}
if (cache) {
  // Misses per request (simulated): L1 instruction, L1 data (reads and writes), L2 (all).
  const ev = (m, evs) => [...per[m].values()].reduce((s, v) => s + evs.reduce((t, e) => t + (v[events.indexOf(e)] || 0), 0), 0);
  const row = (m) => [['L1i', ['I1mr']], ['L1d', ['D1mr', 'D1mw']], ['L2', L2]]
    .map(([t, evs]) => ({ t, v: ev(m, evs) }));
  console.log('misses per request (simulated: L1i and L1d 32 KiB, L2 1 MiB), and against plain:');
  const p = row('plain');
  for (const m of names) console.log(`  ${m.padEnd(10)} ` + row(m).map((x, i) => `${x.t} ${x.v.toFixed(0)}` +
    (m === 'plain' ? '' : ` (${(x.v / p[i].v).toFixed(3)}x)`)).join(', '));
  // L2 misses by kind of code (the collector's included: a larger young generation to scavenge
  // misses there).
  const l2 = L2.map((e) => events.indexOf(e));
  for (const m of names) {
    const sums = {};
    for (const [k, v] of per[m]) sums[kind(k)] = (sums[kind(k)] || 0) + l2.reduce((t, e) => t + v[e], 0);
    console.log(`  ${m.padEnd(10)} L2 by kind: ` + ['collector', 'JavaScript', 'builtins', 'rest'].map((c) => `${c} ${(sums[c] || 0).toFixed(1)}`).join(', '));
  }
}
for (const m of names.slice(1)) {
  moved(m, [0], 'instructions');
  if (cache) {
    moved(m, [events.indexOf('I1mr')], 'L1i misses');
    moved(m, L2.map((e) => events.indexOf(e)), 'L2 misses');
  }
}
