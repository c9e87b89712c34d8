"""`pip install --no-build-isolation ./sensor/python` works offline and its auto-start .pth starts
the sensor in an unchanged program when HUD_ENABLE is set, and does nothing at all otherwise."""

import os
import shutil
import subprocess
import sys
import tempfile
import time

from sensor_support import SENSOR_SRC, WORKLOADS, Listener, by_name, check, sensor_env

APP = os.path.join(WORKLOADS, "small_app.py")


def main():
    tmp = tempfile.mkdtemp(prefix="hud-sensor-pip-")
    try:
        src = os.path.join(tmp, "src")
        # Build from a copy so that the source tree gets no build/ or egg-info.
        shutil.copytree(SENSOR_SRC, os.path.join(src, "sensor", "python"),
                        ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
        shutil.copytree(os.path.join(SENSOR_SRC, "..", "..", "common"), os.path.join(src, "common"))
        shutil.copytree(os.path.join(SENSOR_SRC, "..", "core"), os.path.join(src, "sensor", "core"))
        shutil.copy(os.path.join(SENSOR_SRC, "..", "..", "CMakeLists.txt"), src)
        target = os.path.join(tmp, "site")
        p = subprocess.run([sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-index",
                            "--no-deps", "--target", target, os.path.join(src, "sensor", "python")],
                           capture_output=True, text=True, timeout=600)
        check(p.returncode == 0, f"pip install failed:\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
        check(os.path.exists(os.path.join(target, "hud_sensor_autostart.pth")), "no auto-start .pth installed")
        # The target directory as a site directory (as site-packages would be).
        boot = os.path.join(tmp, "boot")
        os.makedirs(boot)
        with open(os.path.join(boot, "sitecustomize.py"), "w") as fh:
            fh.write(f"import site\nsite.addsitedir({target!r})\n")
        lst = Listener()
        try:
            env = sensor_env(lst, HUD_FLUSH_INTERVAL=0.2, SMALL_SECONDS=2.0)
            env["PYTHONPATH"] = boot
            r = subprocess.run([sys.executable, APP], env=env, capture_output=True, text=True, timeout=60)
            check(r.returncode == 0, r.stderr)
            check("instrumented True" in r.stdout.splitlines(), f"auto-start did not instrument: {r.stdout}")
            time.sleep(0.3)
            got = by_name(lst.batches).get("work", {}).get("count", 0)
            check(got > 0, "auto-started sensor sent no calls of work()")
            env.pop("HUD_ENABLE")
            r = subprocess.run([sys.executable, APP], env=env, capture_output=True, text=True, timeout=60)
            check(r.returncode == 0 and "hud:" not in r.stdout and "instrumented False" in r.stdout,
                  f"without HUD_ENABLE the .pth must do nothing: {r.stdout} {r.stderr}")
        finally:
            lst.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("ok: install")


if __name__ == "__main__":
    main()
