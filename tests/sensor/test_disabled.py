"""HUD_ENABLE unset (or false): one status line on stdout, nothing patched, nothing sent —
through `python -m hud_sensor run` and through hud_sensor.init() alike."""

import os
import time

from sensor_support import WORKLOADS, Listener, check, run, sensor_env

APP = os.path.join(WORKLOADS, "small_app.py")


def main():
    lst = Listener()
    try:
        for enable in (None, "0", "false"):
            for how in ("run", "init"):
                env = sensor_env(lst)
                env.pop("HUD_ENABLE")
                if enable is not None:
                    env["HUD_ENABLE"] = enable
                env["HUD_FLUSH_INTERVAL"] = "0.1"
                if how == "run":
                    p = run(["-m", "hud_sensor", "run", APP], env, timeout=30)
                else:
                    env["SMALL_INIT"] = "1"
                    p = run([APP], env, timeout=30)
                check(p.returncode == 0, f"{how}: exit {p.returncode}: {p.stderr}")
                lines = p.stdout.splitlines()
                hud = [ln for ln in lines if ln.startswith("hud:")]
                check(len(hud) == 1 and "HUD_ENABLE is not set" in hud[0], f"{how}/{enable}: status lines {hud}")
                check("instrumented False" in lines, f"{how}/{enable}: functions were rewritten: {lines}")
                mp = [ln for ln in lines if ln.startswith("meta_path")][0]
                check("hud_sensor" not in mp, f"{how}/{enable}: import hook installed: {mp}")
                check(p.stderr == "", f"{how}/{enable}: stderr {p.stderr!r}")
        time.sleep(0.3)
        check(not lst.requests, f"disabled sensor sent {len(lst.requests)} requests")
        # Control: the same runs with HUD_ENABLE=1 do instrument and send (the test can fail).
        env = sensor_env(lst, HUD_FLUSH_INTERVAL=0.1)
        p = run(["-m", "hud_sensor", "run", APP], env, timeout=30)
        check("instrumented True" in p.stdout.splitlines(), f"enabled run not instrumented: {p.stdout}")
        time.sleep(0.3)
        check(lst.batches, "enabled run sent nothing")
        # init() at the top of a plain script: its functions are rewritten in place shortly after.
        env = sensor_env(lst, HUD_FLUSH_INTERVAL=0.2, SMALL_INIT=1, SMALL_SECONDS=2.0)
        p = run([APP], env, timeout=30)
        check("instrumented True" in p.stdout.splitlines(), f"init() in __main__: not rewritten: {p.stdout}")
    finally:
        lst.close()
    print("ok: disabled")


if __name__ == "__main__":
    main()
