"""Instrumented functions look to user code exactly as they were written: locals(), frame
f_locals, co_varnames, co_nlocals, signatures and tracebacks of plain functions, generators,
coroutines, async generators, methods and closures are identical with and without the sensor
(workloads/introspect.py prints them). The instrumented run must also count every call exactly and
leave no timed call running: timing slots are kept per frame in the native module, across
generators resumed by other callers, recursion and exceptions."""

import json
import os
import time

from sensor_support import WORKLOADS, Listener, by_name, check, run, sensor_env

SCRIPT = os.path.join(WORKLOADS, "introspect.py")


def main():
    env = sensor_env()
    p = run([SCRIPT], env, timeout=60)
    check(p.returncode == 0, f"plain run: exit {p.returncode}: {p.stderr}")
    plain = json.loads(p.stdout.splitlines()[-1])
    lst = Listener()
    try:
        env = sensor_env(lst, HUD_FLUSH_INTERVAL=0.2)
        p = run(["-m", "hud_sensor", "run", SCRIPT], env, timeout=60)
        check(p.returncode == 0, f"sensor run: exit {p.returncode}: {p.stderr}")
        inst = json.loads([ln for ln in p.stdout.splitlines() if ln.startswith("{")][-1])
        deadline = time.monotonic() + 10
        while not lst.batches and time.monotonic() < deadline:
            time.sleep(0.05)
        batches = list(lst.batches)
    finally:
        lst.close()
    sensor = inst.pop("sensor")
    plain.pop("sensor")
    check(sorted(sensor["rewritten"]) == sorted(plain["code"]),
          f"not every function was rewritten: {sensor['rewritten']}")
    check(sensor["timed_running"] == 0, f"{sensor['timed_running']} functions still have a timed call running")
    for part in ("locals", "f_locals", "code", "traceback"):
        if part == "code":
            for name in plain["code"]:
                check(inst["code"][name] == plain["code"][name],
                      f"{name}: code differs under the sensor:\n  plain  {plain['code'][name]}\n"
                      f"  sensor {inst['code'][name]}")
        check(inst[part] == plain[part], f"{part} differs under the sensor:\n  plain  {plain[part]}\n  sensor {inst[part]}")
    # The instrumented run counted every call (so the comparison above is of instrumented code).
    got = by_name(batches)
    want = {"plain": 5, "gen": 10, "coro": 3, "agen": 3, "Shape.area": 5, "Shape.__init__": 5, "Shape.unit": 5,
            "outer": 6, "outer.<locals>.inner": 5, "rec": 35, "fails": 5, "catches": 5, "frame_locals": 1}
    for name, n in want.items():
        check(name in got and got[name]["count"] == n, f"{name}: count {got.get(name, {}).get('count')} != {n}")
    check(got["fails"]["exceptions"] == {"ValueError": 5}, f"fails: exceptions {got['fails']['exceptions']}")
    timed = [n for n in want if got[n]["sampled"] > 0]
    check(len(timed) == len(want), f"functions never timed: {sorted(set(want) - set(timed))}")
    print(f"ok: introspection identical for {len(plain['code'])} functions; counts exact; "
          f"{sum(got[n]['sampled'] for n in want)} timed calls all ended")


if __name__ == "__main__":
    main()
