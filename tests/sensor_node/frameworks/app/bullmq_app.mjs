// BullMQ imported by an ES module: a Worker consumes two kinds of jobs from the queue argv[3].
import { Worker } from 'bullmq';
import w from './work.cjs';

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
