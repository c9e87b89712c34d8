'use strict';
// The application's own code shared by the framework apps: each function's calls per flow are
// known exactly from the requests the test sends.
const fs = require('node:fs');
const { setTimeout: sleep } = require('node:timers/promises');

function price(id) {
  return id * 3;
}

function audit(id) {
  return id % 7;
}

function loaded(id) {
  return { id, total: price(id) };
}

// Resolved from a timer's callback (an instrumented function run by the event loop).
function fetchOrder(id) {
  return new Promise(function executor(resolve) {
    setTimeout(function timerDone() {
      resolve(loaded(id));
    }, 1 + (id % 5));
  });
}

// Many calls (beyond the sampling quota of timed calls): most of them are counted only.
function lines(id) {
  let total = 0;
  for (let k = 0; k < 1000; k++) total += price(id + k);
  return total;
}

// audit runs after an await resumed on a timer of Node's own (no instrumented code between).
async function getOrder(id) {
  await sleep(1 + (id % 3));
  audit(id);
  lines(id);
  return fetchOrder(id);
}

async function getUser(id) {
  await sleep(1 + (id % 4));
  audit(id);
  return { id, name: `u${id}` };
}

// A new order from a request body.
async function createOrder(body) {
  await sleep(1 + (body.n % 2));
  return { id: body.n, total: price(body.n) };
}

// An fs callback.
function readConfig(cb) {
  fs.readFile(__filename, function configRead(err, buf) {
    cb(err, parseConfig(buf));
  });
}

function parseConfig(buf) {
  return { bytes: buf ? buf.length : 0 };
}

function status() {
  return 'ok';
}

class Boom extends Error {}
class NotFound extends Error {
  constructor(m) {
    super(m);
    this.status = 404;
  }
}

function explode() {
  throw new Boom('boom');
}

// Rejects once the request that started it without waiting for it is still running: an
// unhandled rejection.
class Lost extends Error {}
async function notify(id) {
  await sleep(1 + (id % 2));
  throw new Lost(`notify ${id}`);
}

// A queue job's work.
async function processJob(data) {
  if (data.notify) notify(data.n); // nobody waits: an unhandled rejection while the job runs
  await sleep(data.notify ? 20 : 1 + (data.n % 3));
  if (data.fail) explode();
  return price(data.n);
}

// Rejects in the same turn as its siblings (an async callback of forEach: nobody waits).
async function report(n) {
  await null;
  throw new Lost(`report ${n}`);
}

// A hot chain below a handler that runs in two flows (GET /a/item and /b/item): the handler and
// its callee are timed (a sampled call times its callees, the first 64 and then at a stride),
// itemStep's calls each look up their edge, and itemMid's and itemUnit's calls, past the first
// request's quota of timed calls, are counted by their run (lib/runtime.js): a run must end where
// the flow changes.
function itemUnit(k) {
  return k & 1;
}
function itemMid(k) {
  return itemUnit(k) + 1;
}
function itemStep(k) {
  return itemMid(k);
}
function itemSum(n) {
  let s = 0;
  for (let k = 0; k < n; k++) s += itemStep(k);
  return s;
}

// Promise jobs of the same handler: itemTick runs with nothing instrumented below it, in the flow
// of its lexical parent's call; past its first timed calls each call is one decrement of its run
// (lib/runtime.js, miss()), which must end where the flow changes too.
function itemTicks(n) {
  let p = Promise.resolve(0);
  for (let k = 0; k < n; k++)
    p = p.then(function itemTick(v) {
      return v + 1;
    });
  return p;
}

module.exports = { createOrder, price, audit, getOrder, getUser, readConfig, status, explode, Boom, NotFound, processJob,
  notify, report, Lost, itemSum, itemTicks };
