// `node --import hud-sensor/register app.js` (or in NODE_OPTIONS): starts the sensor with the
// environment's configuration before the application loads. Nothing happens unless
// HUD_ENABLE is true.
import { createRequire } from 'node:module';

createRequire(import.meta.url)('./index.js').init();
