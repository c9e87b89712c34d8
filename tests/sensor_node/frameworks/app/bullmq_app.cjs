'use strict';
// BullMQ: a Worker consumes two kinds of jobs from the queue argv[3]; the test adds the jobs.
const { Worker } = require(process.argv[4] || 'bullmq'); // or BullMQ 6
const w = require('./work.cjs');

const connection = { host: '127.0.0.1', port: Number(process.argv[2]) };
// processor returns the job promise as it is: an exception escapes processJob, not processor.
const worker = new Worker(process.argv[3], async function processor(job) {
  return w.processJob(job.data);
}, { connection, concurrency: 4 });
process.on('unhandledRejection', function onUnhandled(err) {
  if (!(err instanceof w.Lost)) throw err;
});
worker.on('ready', () => console.log(JSON.stringify({ ready: true })));
process.on('SIGTERM', () => worker.close().then(() => process.exit(0)));
