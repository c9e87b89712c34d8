'use strict';
// Runs the application argv[2] (with the arguments after it) in a worker thread: the worker
// serves the requests. SIGTERM (which only the main thread receives) stops the worker, then the
// process.
const path = require('node:path');
const { Worker } = require('node:worker_threads');

const worker = new Worker(path.resolve(process.argv[2]), { argv: process.argv.slice(3) });
worker.on('error', (err) => {
  console.error(err);
  process.exit(1);
});
// The worker stops its server first (express_app.cjs): terminated at once, a response the client
// already had could still be waiting for its 'close', and its request be lost (seen once under load).
process.on('SIGTERM', () => {
  worker.once('exit', () => process.exit(0));
  worker.postMessage('stop');
  setTimeout(() => worker.terminate(), 5000).unref();
});
