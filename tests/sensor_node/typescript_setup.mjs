// Prepares the TypeScript suites (ts_support.mjs): installs typescript and rxjs, compiles the
// fixture project in every variant. Skipped (77) without npm.
import { PKG } from './support.mjs';
import { haveNpm, install, compile, VARIANTS } from './ts_support.mjs';

if (!haveNpm()) {
  console.log('sensor_node_ts_setup: skipped: needs npm (scripts/dev.sh deps installs it)');
  process.exit(77);
}
install();
compile(PKG);
console.log(`typescript fixture compiled: ${Object.keys(VARIANTS).join(', ')}`);
