// An ES module worker (the loader's hooks in the worker rewrite it).
import { parentPort, workerData } from 'node:worker_threads';
import s from './shared.cjs';

function sum(n) {
  let t = 0;
  for (const id of s.ids(n)) t += s.price(id);
  return t;
}

parentPort.postMessage({ sum: sum(workerData.n), later: await s.later(1), rewritten: String(sum).includes('__hud') });
