'use strict';
// The main thread calls price() 100 times while two workers call the same functions; prints
// the results, the worker's uncaught error's stack and, under the sensor, the main thread's
// counts of shared.cjs.
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const s = require('./shared.cjs');

function runWorker(file, data) {
  return new Promise((resolve) => {
    const w = new Worker(path.join(__dirname, file), { workerData: data });
    const out = { messages: [] };
    w.on('message', (m) => out.messages.push(m));
    w.on('error', (err) => (out.error = { type: err.constructor.name, stack: err.stack }));
    w.on('exit', (code) => resolve({ ...out, code }));
  });
}

async function main() {
  let total = 0;
  for (let i = 0; i < 100; i++) total += s.price(i);
  const workers = await Promise.all([runWorker('worker.cjs', { n: 50, fail: true }), runWorker('worker.mjs', { n: 2000 })]);
  let counts = null;
  try {
    counts = {};
    for (const c of Object.values(require('hud-sensor').counts()))
      if (c.module_path === 'shared.cjs') counts[c.name] = [c.calls, c.errors];
  } catch {
    counts = null;
  }
  console.log(JSON.stringify({ total, workers, counts }));
}

main();
