'use strict';
// A pool that starts workers over and over: 60 short workers one after the other, each loading
// shared.cjs and calling price 10 times, with a flush after each (the snapshot frees an ended
// worker's tables). Prints the sensor's figures after 10 workers and after all of them.
const path = require('node:path');
const { Worker, isMainThread, parentPort } = require('node:worker_threads');
const s = require('./shared.cjs');

if (!isMainThread) {
  let t = 0;
  for (let i = 0; i < 10; i++) t += s.price(i);
  parentPort.postMessage(t);
} else {
  (async () => {
    const hud = require('hud-sensor');
    const at = {};
    for (let k = 1; k <= 60; k++) {
      await new Promise((resolve, reject) => {
        const w = new Worker(__filename);
        w.on('error', reject);
        w.on('exit', resolve);
      });
      hud.flush(5);
      if (k === 10 || k === 60) at[k] = hud.stats();
    }
    const price = Object.values(hud.counts()).find((c) => c.module_path === 'shared.cjs' && c.name === 'price');
    console.log(JSON.stringify({ at, price: price.calls }));
  })();
}
