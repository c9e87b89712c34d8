'use strict';
// The sandboxed processor of bullmq_sandbox.cjs: BullMQ loads it in a child process (or a
// worker thread) and calls it with each job.
const w = require('./work.cjs');

module.exports = async function processor(job) {
  return w.processJob(job.data);
};
