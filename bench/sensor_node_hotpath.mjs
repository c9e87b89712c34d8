// bench/sensor_node.sh, part 1: the candidates for the Node sensor's untimed hot path, side by
// side in one process (docs/architecture.md, "The Node runtime"). Each candidate is recursive fib
// instrumented the way its rewrite would do it, over JS copies of the addon's tables (the edge
// hash table, the countdowns, the per-function edge cache); the slow paths (a new edge, a timed
// call) are stand-ins, never taken here once warm (no countdown runs out). Rounds alternate the
// candidates; the best run of each per process, the median over processes.
//   node sensor_node_hotpath.mjs [processes] [rounds]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CALLS = 317811; // fib(27)

function candidates() {
  const SIZE = 1 << 16;
  const mask = SIZE - 1;
  const kf = new Int32Array(SIZE), kc = new Int32Array(SIZE), kfl = new Int32Array(SIZE);
  const ck = new Int32Array(2 * SIZE);
  const idfn = new Int32Array(1 << 16);
  const cd = new Int32Array(1 << 20).fill(0x3fffffff); // no countdown runs out
  const lastc = new Int32Array(1 << 20).fill(-0x7fffffff);
  const lastf = new Int32Array(1 << 20);
  const lasts = new Int32Array(1 << 20);
  let nid = 0;
  var fl = 0; // eslint-disable-line no-var
  const NOBODY = 0x3fffffff;
  const slow = { timed: (n, c, ph, own, h) => h, exitTimed() {} };

  function fnOf(h) {
    return h === NOBODY ? -1 : h > 0 ? idfn[h] : -3;
  }
  // The hash probe (= the runtime's count()); keyed by caller function C.
  function probe(n, c) {
    let i = (Math.imul(n + 1, 0x9e3779b1) ^ Math.imul(c + 2, 0x85ebca77) ^ Math.imul(fl, 0xc2b2ae35)) & mask;
    for (;;) {
      const f = kf[i];
      if (f === n + 1 && kc[i] === c && kfl[i] === fl) return 2 * i;
      if (f === 0) {
        kf[i] = n + 1;
        kc[i] = c;
        kfl[i] = fl;
        ck[2 * i + 1] = ++nid;
        idfn[nid] = n;
        return 2 * i;
      }
      i = (i + 1) & mask;
    }
  }

  // A. The shadow stack in an Int32Array, enter()/exit() calls (the runtime before).
  const st = new Int32Array(2 * 65536);
  st[0] = -1;
  st[1] = 0x7fffffff;
  var top = 0; // eslint-disable-line no-var
  const A = {
    enter(n) {
      const c = st[top];
      const ph = st[top + 1];
      let h;
      if (lastc[n] === c + 2 && lastf[n] === fl) {
        const j = lasts[n];
        ck[j]++;
        h = ck[j + 1];
      } else {
        const j = probe(n, c);
        ck[j]++;
        lastc[n] = c + 2;
        lastf[n] = fl;
        lasts[n] = j;
        h = ck[j + 1];
      }
      const own = --cd[n] === 0;
      if (own || (ph < 0 && (ph & 1) === 0)) h = slow.timed(n, c, ph, own, h) | 0;
      if (top < 2 * 65536 - 2) {
        top += 2;
        st[top] = n;
        st[top + 1] = h;
      }
      return h;
    },
    exit(h) {
      if (st[top + 1] === h) top -= 2;
      if (h < 0) slow.exitTimed(h);
    },
  };

  // B. The caller's handle in a field of the hooks' object, kept by each function in a local
  // (the runtime before J): B_F_0 cache by caller handle.
  function countB(n, ph) {
    const j = probe(n, fnOf(ph));
    ck[j]++;
    if (ph >= 0) {
      lastc[n] = ph;
      lastf[n] = fl;
      lasts[n] = j;
    }
    return ck[j + 1];
  }
  const B = {
    c: NOBODY,
    enter(n) {
      const ph = B.c;
      let h;
      if (lastc[n] === ph && lastf[n] === fl) {
        const j = lasts[n];
        ck[j]++;
        h = ck[j + 1];
      } else h = countB(n, ph);
      const own = --cd[n] === 0;
      if (own || (ph < 0 && (ph & 1) === 0)) h = slow.timed(n, fnOf(ph), ph, own, h) | 0;
      B.c = h;
      return h;
    },
    exit(h, p) {
      B.c = p;
      if (h < 0) slow.exitTimed(h);
    },
  };
  // C. As B, the sampling test folded into one compare: (countdown | parent handle) <= 0.
  const C = {
    c: NOBODY,
    enter(n) {
      const ph = C.c;
      let h;
      if (lastc[n] === ph && lastf[n] === fl) {
        const j = lasts[n];
        ck[j]++;
        h = ck[j + 1];
      } else h = countB(n, ph);
      if (((--cd[n] - 1) | ph) < 0) h = timedC(n, ph, h);
      C.c = h;
      return h;
    },
    exit(h, p) {
      C.c = p;
      if (h < 0) slow.exitTimed(h);
    },
  };
  function timedC(n, ph, h) {
    const own = cd[n] === 0;
    return own || (ph < 0 && (ph & 1) === 0) ? slow.timed(n, fnOf(ph), ph, own, h) | 0 : h;
  }
  // D. As C, the current call in an Int32Array cell instead of an object field.
  const cur = new Int32Array(1);
  cur[0] = NOBODY;
  const D = {
    enter(n) {
      const ph = cur[0];
      let h;
      if (lastc[n] === ph && lastf[n] === fl) {
        const j = lasts[n];
        ck[j]++;
        h = ck[j + 1];
      } else h = countB(n, ph);
      if (((--cd[n] - 1) | ph) < 0) h = timedC(n, ph, h);
      cur[0] = h;
      return h;
    },
    exit(h, p) {
      cur[0] = p;
      if (h < 0) slow.exitTimed(h);
    },
  };
  // E. As C, the edge cache holding the edge id itself (lastid) beside the count index.
  const lastid = new Int32Array(1 << 20);
  function countE(n, ph) {
    const j = probe(n, fnOf(ph));
    ck[j]++;
    if (ph >= 0) {
      lastc[n] = ph;
      lastf[n] = fl;
      lasts[n] = j;
      lastid[n] = ck[j + 1];
    }
    return ck[j + 1];
  }
  const E = {
    c: NOBODY,
    enter(n) {
      const ph = E.c;
      let h;
      if (lastc[n] === ph && lastf[n] === fl) {
        ck[lasts[n]]++;
        h = lastid[n];
      } else h = countE(n, ph);
      if (((--cd[n] - 1) | ph) < 0) h = timedC(n, ph, h);
      E.c = h;
      return h;
    },
    exit(h, p) {
      E.c = p;
      if (h < 0) slow.exitTimed(h);
    },
  };
  // F. As C without the flow compare (what the flow costs on this path).
  const F = {
    c: NOBODY,
    enter(n) {
      const ph = F.c;
      let h;
      if (lastc[n] === ph) {
        const j = lasts[n];
        ck[j]++;
        h = ck[j + 1];
      } else h = countB(n, ph);
      if (((--cd[n] - 1) | ph) < 0) h = timedC(n, ph, h);
      F.c = h;
      return h;
    },
    exit(h, p) {
      F.c = p;
      if (h < 0) slow.exitTimed(h);
    },
  };
  // G. As C with no edge count at all (the local caller, the countdown: the floor of this shape).
  const G = {
    c: NOBODY,
    enter(n) {
      const ph = G.c;
      let h = 1;
      if (((--cd[n] - 1) | ph) < 0) h = timedC(n, ph, h);
      G.c = h;
      return h;
    },
    exit(h, p) {
      G.c = p;
      if (h < 0) slow.exitTimed(h);
    },
  };

  // I. As C, the flow folded into the cache key: caller handle ^ (flow << 21) (edge ids < 2^21).
  var flk = fl << 21; // eslint-disable-line no-var
  const lastk = new Int32Array(1 << 20).fill(-0x7fffffff);
  function countI(n, ph) {
    const j = probe(n, fnOf(ph));
    ck[j]++;
    if (ph >= 0) {
      lastk[n] = ph ^ flk;
      lasts[n] = j;
    }
    return ck[j + 1];
  }
  const I = {
    c: NOBODY,
    enter(n) {
      const ph = I.c;
      let h;
      if (lastk[n] === (ph ^ flk)) {
        const j = lasts[n];
        ck[j]++;
        h = ck[j + 1];
      } else h = countI(n, ph);
      if (((--cd[n] - 1) | ph) < 0) h = timedC(n, ph, h);
      I.c = h;
      return h;
    },
    exit(h, p) {
      I.c = p;
      if (h < 0) slow.exitTimed(h);
    },
  };
  // J. As I, the cache interleaved ([key, edge id] per function) and the counts indexed by edge id.
  const kid = new Int32Array(2 << 20).fill(-0x7fffffff);
  const cnt = new Int32Array(1 << 16);
  function countJ(n, ph) {
    const id = ck[probe(n, fnOf(ph)) + 1];
    cnt[id]++;
    if (ph >= 0) {
      kid[2 * n] = ph ^ flk;
      kid[2 * n + 1] = id;
    }
    return id;
  }
  const J = {
    c: NOBODY,
    enter(n) {
      const ph = J.c;
      let h;
      if (kid[2 * n] === (ph ^ flk)) {
        h = kid[2 * n + 1];
        cnt[h]++;
      } else h = countJ(n, ph);
      if (((--cd[n] - 1) | ph) < 0) h = timedC(n, ph, h);
      J.c = h;
      return h;
    },
    exit(h, p) {
      J.c = p;
      if (h < 0) slow.exitTimed(h);
    },
  };
  // K. As J, the countdown in the same interleaved array ([key, edge id, countdown, -]).
  const k4 = new Int32Array(4 << 20).fill(-0x7fffffff);
  for (let i = 2; i < k4.length; i += 4) k4[i] = 0x3fffffff;
  function countK(n, ph) {
    const id = ck[probe(n, fnOf(ph)) + 1];
    cnt[id]++;
    if (ph >= 0) {
      k4[4 * n] = ph ^ flk;
      k4[4 * n + 1] = id;
    }
    return id;
  }
  const K = {
    c: NOBODY,
    enter(n) {
      const ph = K.c;
      const b = 4 * n;
      let h;
      if (k4[b] === (ph ^ flk)) {
        h = k4[b + 1];
        cnt[h]++;
      } else h = countK(n, ph);
      if (((--k4[b + 2] - 1) | ph) < 0) h = timedC(n, ph, h);
      K.c = h;
      return h;
    },
    exit(h, p) {
      K.c = p;
      if (h < 0) slow.exitTimed(h);
    },
  };

  // N. As M (J ending where it returns), the sampling armed per function by the sender instead of
  // a countdown: a load, no store per call.
  const arm = new Int32Array(1 << 20);
  const N = {
    c: NOBODY,
    enter(n) {
      const ph = N.c;
      let h;
      if ((arm[n] | ph) < 0) h = timedC(n, ph, 1);
      else if (kid[2 * n] === (ph ^ flk)) {
        h = kid[2 * n + 1];
        cnt[h]++;
      } else h = countJ(n, ph);
      N.c = h;
      return h;
    },
    x(h, p, y) {
      N.c = p;
      if (h < 0) slow.exitTimed(h);
      return y;
    },
    exit(h, p) {
      N.c = p;
      if (h < 0) slow.exitTimed(h);
    },
  };
  // R. Runs (the runtime now, lib/runtime.js): the handle is the function's number; a call from
  // the same caller in the same flow decrements its run's calls left until its next timed call,
  // [key, left, start, edge, sequence] per function; everything else goes to missR.
  const ru = new Int32Array(8 << 16).fill(-0x7fffffff);
  for (let i = 1; i < ru.length; i += 8) ru[i] = 0x3fffffff;
  function missR(n, ph) {
    const b = n << 3;
    if (ru[b + 1] === 1 || (ph < 0 && (ph & 1) === 0)) return slow.timed(n, ph, ph, true, n) | 0;
    const id = ck[probe(n, ph === NOBODY ? -1 : ph) + 1];
    const q = ru[b + 4];
    Atomics.store(ru, b + 4, q + 1);
    const l = ru[b + 1] - 1;
    cnt[ru[b + 3]] += ru[b + 2] - ru[b + 1];
    ru[b] = ph >>> 21 === 0 && flk >= 0 ? ph ^ flk : -0x7fffffff;
    ru[b + 3] = id;
    ru[b + 2] = l + 1;
    ru[b + 1] = l;
    Atomics.store(ru, b + 4, q + 2);
    return n;
  }
  const R = {
    c: NOBODY,
    enter(n) {
      const ph = R.c;
      const b = n << 3;
      if (ru[b] === (ph ^ flk)) {
        const l = ru[b + 1];
        if (l > 1) {
          ru[b + 1] = l - 1;
          R.c = n;
          return n;
        }
      }
      const h = missR(n, ph);
      R.c = h;
      return h;
    },
    x(h, p, y) {
      R.c = p;
      if (h < 0) slow.exitTimed(h);
      return y;
    },
    exit(h, p) {
      R.c = p;
      if (h < 0) slow.exitTimed(h);
    },
  };
  // The floor and its parts: Z the current call alone; P with one counter per function (exact
  // counts, no caller edges); Q with the per-function edge cache looked up, nothing counted.
  // Their calls end by putting the caller's handle back (no timed calls to end).
  const ending = (o) => Object.assign(o, {
    x(h, p, y) {
      o.c = p;
      return y;
    },
    exit(h, p) {
      o.c = p;
    },
  });
  const fcnt = new Int32Array(1 << 20);
  const P = ending({
    c: NOBODY,
    enter(n) {
      fcnt[n]++;
      P.c = n;
      return n;
    },
  });
  const Q = ending({
    c: NOBODY,
    enter(n) {
      const ph = Q.c;
      let h;
      if (kid[2 * n] === (ph ^ flk)) h = kid[2 * n + 1];
      else h = countJ(n, ph);
      Q.c = h;
      return h;
    },
  });
  const Z = ending({
    c: NOBODY,
    enter(n) {
      Z.c = n;
      return n;
    },
  });
  // Each hooks object is a global constant as `__hud` is, and each fib its own compiled
  // script (closures of one literal would share their type feedback).
  const H = { c: NOBODY, fl: 0, lastc, lastf, lasts, ck, cd, count: countB, timed: timedC, exitTimed: slow.exitTimed };
  // T. Hooks that do nothing: what the function's shape alone costs (try/catch, try/finally).
  const T = { c: NOBODY, enter() { return 1; }, exit() {}, x(h, p, y) { return y; } };
  J.x = (h, p, y) => {
    J.c = p;
    if (h < 0) slow.exitTimed(h);
    return y;
  };
  const hooks = { A, B, C, D, E, F, G, H, I, J, K, T, N, Z, P, Q, R, fail: () => {} };
  for (const [k, o] of Object.entries(hooks)) Object.defineProperty(globalThis, `__hud${k}`, { value: o });
  Object.defineProperty(globalThis, '__hudcur', { value: cur });
  const make = (src) => new Function(`${src}; return fib;`)(); // eslint-disable-line no-new-func
  const expr = 'n < 2 ? n : fib(n - 1) + fib(n - 2)';
  const body = `return ${expr};`;
  // Ending where it returns (the runtime's shape, src/rewrite.c), over hooks object K.
  const atReturn = (k, n) => make(`function fib(n) { const __hud_p = __hud${k}.c, __hud_h = __hud${k}.enter(${n});
      try { return __hud${k}.x(__hud_h, __hud_p, ${expr}) }
      catch (e) { __hudfail(__hud_h, e); __hud${k}.exit(__hud_h, __hud_p); throw e } __hud${k}.exit(__hud_h, __hud_p) }`);
  const local = (k, n, read = `__hud${k}.c`) =>
    make(`function fib(n) { const __hud_p = ${read}, __hud_h = __hud${k}.enter(${n}); try { ${body} }
      catch (e) { __hudfail(__hud_h, e); throw e } finally { __hud${k}.exit(__hud_h, __hud_p) } }`);
  return {
    plain: make(`function fib(n) { ${body} }`),
    'A shadow stack array, enter/exit (before)': make(`function fib(n) { const __hud_h = __hudA.enter(1);
      try { ${body} } catch (e) { __hudfail(__hud_h, e); throw e } finally { __hudA.exit(__hud_h) } }`),
    'B caller handle in a local, hooks object field': local('B', 2),
    'C = B + sampling test folded in one compare': local('C', 3),
    'D = C with the current call in an Int32Array cell': local('D', 4, '__hudcur[0]'),
    'E = C with the edge id cached per function': local('E', 5),
    'F = C without the flow compare': local('F', 6),
    'G = C without any edge count (floor)': local('G', 7),
    'I = C with the flow folded into the cache key': local('I', 9),
    'J = I with [key, edge id] interleaved, counts by edge id': local('J', 10),
    'K = J with the countdown interleaved too': local('K', 11),
    'M = J ending where it returns, no finally (the runtime before)': atReturn('J', 12),
    'N = M with sampling armed (load only)': atReturn('N', 16),
    'R = runs, handles name functions (the runtime now)': atReturn('R', 21),
    'P = Z + a counter per function': atReturn('P', 19),
    'Q = Z + the edge cache check, no count': atReturn('Q', 20),
    'Z floor: current call only, M ending': atReturn('Z', 17),
    'T1 empty hooks, try/catch/finally': local('T', 13),
    'T2 empty hooks, try/finally': make(`function fib(n) { const __hud_p = __hudT.c, __hud_h = __hudT.enter(14);
      try { ${body} } finally { __hudT.exit(__hud_h, __hud_p) } }`),
    'T3 empty hooks, try/catch, ending where it returns': make(`function fib(n) { const __hud_p = __hudT.c,
      __hud_h = __hudT.enter(15); try { return __hudT.x(__hud_h, __hud_p, ${expr}) }
      catch (e) { __hudfail(__hud_h, e); __hudT.exit(__hud_h, __hud_p); throw e } }`),
    'H = C written out inline in the function': make(`function fib(n) { const __hud_p = __hudH.c; let __hud_h;
      if (__hudH.lastc[8] === __hud_p && __hudH.lastf[8] === __hudH.fl) { const j = __hudH.lasts[8]; __hudH.ck[j]++; __hud_h = __hudH.ck[j + 1] }
      else __hud_h = __hudH.count(8, __hud_p);
      if (((--__hudH.cd[8] - 1) | __hud_p) < 0) __hud_h = __hudH.timed(8, __hud_p, __hud_h);
      __hudH.c = __hud_h;
      try { ${body} } catch (e) { __hudfail(__hud_h, e); throw e }
      finally { __hudH.c = __hud_p; if (__hud_h < 0) __hudH.exitTimed(__hud_h) } }`),
  };
}

function child(rounds) {
  const c = candidates();
  const best = {};
  for (const k of Object.keys(c)) best[k] = Infinity;
  for (let r = 0; r < rounds; r++)
    for (const [k, f] of Object.entries(c)) {
      const t = process.hrtime.bigint();
      f(27);
      best[k] = Math.min(best[k], Number(process.hrtime.bigint() - t));
    }
  process.stdout.write(JSON.stringify(best));
}

if (process.argv[2] === '--child') child(Number(process.argv[3]));
else {
  const procs = Number(process.argv[2] || 5), rounds = Number(process.argv[3] || 40);
  const all = [];
  for (let i = 0; i < procs; i++) {
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', String(rounds)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    all.push(JSON.parse(r.stdout));
  }
  const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
  const ns = (k) => all.map((b) => b[k] / CALLS);
  const plain = median(ns('plain'));
  console.log(`hot path candidates, fib(27) in one process, best of ${rounds} rounds, median of ${procs} processes (range):`);
  for (const k of Object.keys(all[0])) {
    const v = ns(k), m = median(v);
    console.log(`  ${k}: ${m.toFixed(2)} ns/call (${Math.min(...v).toFixed(2)}-${Math.max(...v).toFixed(2)})` +
      (k === 'plain' ? '' : `, +${(m - plain).toFixed(2)} ns, ${(m / plain).toFixed(2)}x`));
  }
}
