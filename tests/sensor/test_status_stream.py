"""Where the sensor's status line goes: stdout by default (as documented), stderr or nowhere with
HUD_STATUS=stderr|off, so that `python -m hud_sensor run tool.py | jq` works; enabled or not; a
bad value says so on stderr and keeps the default. Without the native module the program still
runs."""

import os
import shlex
import subprocess
import sys

from sensor_support import WORKLOADS, Listener, check, sensor_env

TOOL = os.path.join(WORKLOADS, "json_tool.py")


def pipeline(env):
    cmd = f"{shlex.quote(sys.executable)} -m hud_sensor run {shlex.quote(TOOL)} | jq -c .fib"
    p = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], env=env, capture_output=True,
                       text=True, timeout=60)
    return p


def main():
    lst = Listener()
    try:
        for enabled in (True, False):
            for mode in (None, "stdout", "stderr", "off", "bogus"):
                env = sensor_env(lst, HUD_FLUSH_INTERVAL=60)
                if not enabled:
                    env.pop("HUD_ENABLE")
                if mode is not None:
                    env["HUD_STATUS"] = mode
                what = f"enabled={enabled} HUD_STATUS={mode}"
                expect = "enabled" if enabled else "HUD_ENABLE is not set"
                p = pipeline(env)
                if mode in ("stderr", "off"):
                    check(p.returncode == 0 and p.stdout == "610\n",
                          f"{what}: jq got {p.stdout!r} (exit {p.returncode}): {p.stderr}")
                    on_err = [ln for ln in p.stderr.splitlines() if ln.startswith("hud:")]
                    if mode == "stderr":
                        check(len(on_err) == 1 and expect in on_err[0], f"{what}: stderr {p.stderr!r}")
                    else:
                        check(on_err == [], f"{what}: status lines with off: {p.stderr!r}")
                else:
                    # The documented default: the status line is on stdout, which is not JSON then.
                    check(p.returncode != 0, f"{what}: jq parsed stdout with a status line on it: {p.stdout!r}")
                    raw = subprocess.run([sys.executable, "-m", "hud_sensor", "run", TOOL], env=env,
                                         capture_output=True, text=True, timeout=60)
                    lines = raw.stdout.splitlines()
                    check(len(lines) == 2 and expect in lines[0] and lines[1] == '{"fib": 610}',
                          f"{what}: stdout {raw.stdout!r}")
                    if mode == "bogus":
                        check("'bogus' is not stdout, stderr or off" in raw.stderr, f"{what}: stderr {raw.stderr!r}")
                    else:
                        check("hud:" not in raw.stderr, f"{what}: stderr {raw.stderr!r}")
        # Without the native module (a broken install) the program still runs untouched, and says why.
        for enabled in (True, False):
            env = sensor_env(lst, HUD_STATUS="stderr")
            if not enabled:
                env.pop("HUD_ENABLE")
            env["PYTHONPATH"] = os.pathsep.join(x for x in env["PYTHONPATH"].split(os.pathsep)
                                                if x != os.environ["HUD_SENSOR_MODULE_DIR"])
            p = pipeline(env)
            why = "native module unavailable" if enabled else "HUD_ENABLE is not set"
            check(p.returncode == 0 and p.stdout == "610\n" and why in p.stderr,
                  f"no native module, enabled={enabled}: {p.returncode} {p.stdout!r} {p.stderr!r}")
    finally:
        lst.close()
    print("ok: status stream")


if __name__ == "__main__":
    main()
