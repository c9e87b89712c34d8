'use strict';
// Six workers and the main thread run the same loop at once (price; check every 10 calls, which
// throws a Refused, caught, on one call in 100; a Cart every 5,000) while the sender snapshots
// every 50 ms: every thread's calls add up exactly. Prints the counts of shared.cjs and of check
// and the expected ones.
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');
const s = require('./shared.cjs');

function check(i) {
  if (i % 1000 === 0) throw new s.Refused(`no ${i}`);
  return i;
}

function spin(n) {
  let t = 0;
  for (let i = 0; i < n; i++) {
    t += s.price(i);
    if (i % 10 === 0) {
      try {
        t += check(i);
      } catch {}
    }
    if (i % 5000 === 0) t += new s.Cart().add(i).total;
  }
  return t;
}

if (!isMainThread) {
  parentPort.postMessage(spin(workerData));
} else {
  (async () => {
    const N = 300000, W = 6, T = W + 1;
    const done = [];
    for (let k = 0; k < W; k++)
      done.push(new Promise((resolve, reject) => {
        const w = new Worker(__filename, { workerData: N });
        w.on('error', reject);
        w.on('exit', resolve);
      }));
    spin(N);
    await Promise.all(done);
    const got = {};
    for (const c of Object.values(require('hud-sensor').counts()))
      if ((c.module_path === 'shared.cjs' || c.name === 'check') && c.calls) got[c.name] = [c.calls, c.errors];
    const carts = (T * N) / 5000;
    const want = { price: [T * N + carts, 0], check: [(T * N) / 10, (T * N) / 1000], 'Cart.constructor': [carts, 0],
      'Cart.add': [carts, 0], 'Cart.get total': [carts, 0], 'Cart.get total.<anonymous>': [carts, 0] };
    console.log(JSON.stringify({ got, want }));
  })();
}
