'use strict';
// BullMQ with a sandboxed processor: the Worker runs bullmq_processor.cjs in child processes
// (argv[5] "threads": in worker threads) and consumes the queue argv[3]; the test adds the jobs.
const path = require('node:path');
const { Worker } = require(process.argv[4] || 'bullmq');

const connection = { host: '127.0.0.1', port: Number(process.argv[2]) };
const worker = new Worker(process.argv[3], path.join(__dirname, 'bullmq_processor.cjs'),
  { connection, concurrency: 2, useWorkerThreads: process.argv[5] === 'threads' });
worker.on('ready', () => console.log(JSON.stringify({ ready: true })));
process.on('SIGTERM', () => worker.close().then(() => process.exit(0)));
