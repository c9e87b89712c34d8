// Entry point: runs the workload, prints {result, counts, edges} (the sensor's, else null).
import run from './workload.js';

declare const __hud: { counts(): Record<string, unknown>; edges(): unknown[] } | undefined;

run().then((result) => {
  const counts = typeof __hud === 'undefined' ? null : __hud.counts();
  const edges = typeof __hud === 'undefined' ? null : __hud.edges();
  process.stdout.write(`${JSON.stringify({ result, counts, edges })}\n`);
});
