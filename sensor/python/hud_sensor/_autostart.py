"""Imported at interpreter start-up by hud_sensor_autostart.pth (installed with the package) when
HUD_ENABLE is true: starts the sensor with the environment's configuration, no code change."""

import hud_sensor

hud_sensor.init()
