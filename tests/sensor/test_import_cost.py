"""The sensor's self-report includes its import-time work: a program that does little but import
many instrumented modules (empty rewrite cache, so each is parsed, rewritten and compiled) reports
the rewrite's CPU in overhead.cpu_ns and a cpu_fraction to match, not the ~0 its few calls cost."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from sensor_support import Listener, check, sensor_env

MODULES = 12
FUNCS = 80


def module_text(m):
    out = []
    for k in range(FUNCS):
        out.append(f"def f{k}(x, y=1):\n    if x > {k}:\n        return [x + y * {k} for _ in range(3)]\n"
                   f"    try:\n        return {{'k': {k}, 'x': x}}\n    except KeyError:\n        return None\n\n")
    out.append(f"class C{m}:\n" + "".join(f"    def m{k}(self):\n        return {k}\n" for k in range(20)))
    return "".join(out)


MAIN = r'''
import json, os, time
import hud_sensor
assert hud_sensor.init(quiet=True)
for m in range(int(os.environ["COST_MODULES"])):
    __import__(f"costmod{m}").f1(5)
print("STATS " + json.dumps({"rewrite_cpu_s": hud_sensor.stats()["rewrite_cpu_s"], "cpu": time.process_time()}))
'''


def main():
    tmp = tempfile.mkdtemp(prefix="hud-import-cost-")
    lst = Listener()
    try:
        for m in range(MODULES):
            with open(os.path.join(tmp, f"costmod{m}.py"), "w") as fh:
                fh.write(module_text(m))
        with open(os.path.join(tmp, "main.py"), "w") as fh:
            fh.write(MAIN)
        env = sensor_env(lst, HUD_SENSOR_CACHE="off", HUD_FLUSH_INTERVAL=60, COST_MODULES=MODULES)
        env["PYTHONPATH"] = tmp + os.pathsep + env["PYTHONPATH"]
        p = subprocess.run([sys.executable, os.path.join(tmp, "main.py")], env=env, capture_output=True,
                           text=True, timeout=60)
        check(p.returncode == 0, f"exit {p.returncode}\n{p.stdout}\n{p.stderr}")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not lst.batches:
            time.sleep(0.02)
    finally:
        lst.close()
        shutil.rmtree(tmp, ignore_errors=True)
    st = json.loads([ln for ln in p.stdout.splitlines() if ln.startswith("STATS ")][0][6:])
    check(lst.batches, "no batch")
    cpu_ns = sum(b.get("overhead", {}).get("cpu_ns", 0) for b in lst.batches)
    frac = max(b.get("overhead", {}).get("cpu_fraction", 0) for b in lst.batches)
    rewrite_ns = st["rewrite_cpu_s"] * 1e9
    check(rewrite_ns > 0.05e9, f"rewrite of {MODULES} modules took only {rewrite_ns / 1e6:.1f} ms?")
    check(cpu_ns >= rewrite_ns, f"overhead.cpu_ns {cpu_ns / 1e6:.1f} ms < rewrite CPU {rewrite_ns / 1e6:.1f} ms")
    # The rewrite is most of what this process did after init(): its share must show.
    check(frac >= 0.3, f"cpu_fraction {frac:.3f} with {rewrite_ns / 1e6:.0f} ms of rewrite in "
                       f"{st['cpu'] * 1e3:.0f} ms of process CPU")
    print(f"import cost: ok (rewrite {rewrite_ns / 1e6:.0f} ms, cpu_fraction {frac:.2f})")


if __name__ == "__main__":
    main()
