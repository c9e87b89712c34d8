// An ES module worker (the loader's hooks in the worker rewrite it).
import { parentPort, workerData } from 'node:worker_threads';
import vm from 'node:vm';
import s from './shared.cjs';

function sum(n) {
  let t = 0;
  for (const id of s.ids(n)) t += s.price(id);
  return t;
}

// V8's own text (another context's toString: the sensor's gives the source's text, `text`).
const rewritten = vm.runInNewContext('Function.prototype.toString').call(sum).includes('__hud');
parentPort.postMessage({ sum: sum(workerData.n), later: await s.later(1), rewritten, text: String(sum).includes('__hud') });
