'use strict';
// A CommonJS worker: sync, class, generator, async and a caught exception; then, when asked,
// an uncaught one that ends the worker (its 'error' event in the main thread).
const { parentPort, workerData } = require('node:worker_threads');
const s = require('./shared.cjs');

async function run(n) {
  const cart = new s.Cart();
  for (const id of s.ids(n)) cart.add(id);
  let caught = '';
  try {
    s.refuse('no');
  } catch (err) {
    caught = `${err.constructor.name}: ${err.message}`;
  }
  return { total: cart.total, later: await s.later(cart.total), caught, name: run.name, length: s.refuse.length,
    // V8's own text (another context's toString: the sensor's gives the source's text).
    rewritten: require('node:vm').runInNewContext('Function.prototype.toString').call(s.price).includes('__hud'),
    text: String(s.price).includes('__hud') };
}

run(workerData.n).then((r) => {
  parentPort.postMessage(r);
  if (workerData.fail) s.refuse('worker gives up');
});
