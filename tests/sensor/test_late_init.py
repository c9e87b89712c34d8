"""init() called after the application's modules were imported: decorator wrappers and closures
built before it (held by another module's globals, a class, a list, a __wrapped__ chain) are
counted exactly, with their callers; no declared function that runs after init() stays at 0.
(Calls made before init(), such as the decorators' own, are not counted: the sensor was not there.)"""

import os
import shutil
import subprocess
import sys
import tempfile
import time

from sensor_support import Listener, by_name, check, declarations, sensor_env

LIB = '''
import functools


def traced(f):
    @functools.wraps(f)
    def wrapper(*a, **k):
        return f(*a, **k)
    return wrapper


def make_adder(n):
    def add(x):
        return x + n
    return add


REG = []


def register(f):
    def reg_wrapper(x):
        return f(x)
    REG.append(reg_wrapper)
    return f
'''

APP = '''
from latelib import traced, make_adder, register


@traced
def api(x):
    return x


class Svc:
    @traced
    def m(self, x):
        return x


add5 = make_adder(5)
HANDLERS = [make_adder(1)]


@register
def hook(x):
    return x
'''

MAIN = '''
import os
import lateapp, latelib
import hud_sensor
assert hud_sensor.init(quiet=True)
N = 7
for i in range(N):
    lateapp.api(i)
    lateapp.Svc().m(i)
    lateapp.add5(i)
    lateapp.HANDLERS[0](i)
    latelib.REG[0](i)
print("done")
'''


def main():
    tmp = tempfile.mkdtemp(prefix="hud-late-init-")
    lst = Listener()
    try:
        for name, text in (("latelib.py", LIB), ("lateapp.py", APP), ("main.py", MAIN)):
            with open(os.path.join(tmp, name), "w") as fh:
                fh.write(text)
        env = sensor_env(lst, HUD_INCLUDE_MODULES="late*")
        env["PYTHONPATH"] = tmp + os.pathsep + env["PYTHONPATH"]
        pr = subprocess.Popen([sys.executable, os.path.join(tmp, "main.py")], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
        out, err = pr.communicate(timeout=60)
        check(pr.returncode == 0 and "done" in out, f"exit {pr.returncode}\n{out}\n{err}")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not lst.batches:
            time.sleep(0.02)
    finally:
        lst.close()
        shutil.rmtree(tmp, ignore_errors=True)
    t = by_name(lst.batches, pr.pid)
    n = 7
    want = {"traced.<locals>.wrapper": 2 * n, "api": n, "Svc.m": n, "make_adder.<locals>.add": 2 * n,
            "register.<locals>.reg_wrapper": n, "hook": n}
    got = {k: t.get(k, {}).get("count", 0) for k in want}
    check(got == want, f"counts {got} != {want}")
    callers = {c for (c, _line) in t["api"]["callers"]}
    check(callers == {"traced.<locals>.wrapper"}, f"api callers {t['api']['callers']}")
    callers = {c for (c, _line) in t["hook"]["callers"]}
    check(callers == {"register.<locals>.reg_wrapper"}, f"hook callers {t['hook']['callers']}")
    # Each of them is declared once (with its own identity), and none of them stays at 0.
    declared = [d["name"] for d in declarations(lst.batches).values()]
    check(all(declared.count(k) == 1 for k in want), f"declarations {sorted(declared)}")
    print("late init: ok")


if __name__ == "__main__":
    main()
