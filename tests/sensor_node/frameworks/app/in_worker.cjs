'use strict';
// Runs the application argv[2] (with the arguments after it) in a worker thread: the worker
// serves the requests. SIGTERM (which only the main thread receives) ends the worker, then the
// process.
const path = require('node:path');
const { Worker } = require('node:worker_threads');

const worker = new Worker(path.resolve(process.argv[2]), { argv: process.argv.slice(3) });
worker.on('error', (err) => {
  console.error(err);
  process.exit(1);
});
process.on('SIGTERM', async () => {
  await worker.terminate();
  process.exit(0);
});
