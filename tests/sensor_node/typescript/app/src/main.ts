// Entry point: runs the workload, prints {result, counts} (counts: the sensor's, else null).
import run from './workload.js';

declare const __hud: { counts(): Record<string, unknown> } | undefined;

run().then((result) => {
  const counts = typeof __hud === 'undefined' ? null : __hud.counts();
  process.stdout.write(`${JSON.stringify({ result, counts })}\n`);
});
