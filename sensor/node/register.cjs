'use strict';
// `node --require hud-sensor/register app.js` (or in NODE_OPTIONS): the same as
// `--import hud-sensor/register`, for a process that must not run its entry point through the
// ES module loader: any --import does that, and the ES module loader refuses a .ts entry that a
// require hook (ts-node) would compile. Nothing happens unless HUD_ENABLE is true.
require('./index.js').init();
