"""The application is unchanged: modules of CPython's own test suite give the same results with
the sensor instrumenting the modules under test (the library module and the test module alike,
including library modules imported before the sensor started, which are rewritten in place) as
without it. The batches prove the instrumentation was there."""

import os
import re
import sys
import time

from sensor_support import Listener, check, declarations, run, sensor_env

SUITES = [
    # (unittest targets, HUD_INCLUDE_MODULES, module_path prefixes that must show calls)
    (["test.test_json"], "json,json.*,test.test_json,test.test_json.*", ["json/", "test/test_json/"]),
    (["test.test_functools"], "functools,test.test_functools", ["functools.py", "test/test_functools.py"]),
    (["test.test_asyncio.test_tasks", "test.test_asyncio.test_futures", "test.test_asyncio.test_locks",
      "test.test_asyncio.test_queues", "test.test_asyncio.test_pep492"],
     "asyncio,asyncio.*,test.test_asyncio.*", ["asyncio/", "test/test_asyncio/"]),
    (["test.test_threading"], "threading,test.test_threading", ["threading.py", "test/test_threading.py"]),
    (["test.test_dataclasses"], "dataclasses,test.test_dataclasses,test.test_dataclasses.*",
     ["dataclasses.py", "test/test_dataclasses"]),
    (["test.test_contextlib"], "contextlib,test.test_contextlib", ["contextlib.py", "test/test_contextlib.py"]),
    (["test.test_generators"], "test.test_generators", ["test/test_generators.py"]),
]

RAN = re.compile(r"^Ran (\d+) tests? in", re.M)
RESULT = re.compile(r"^(OK|FAILED)( \(.*\))?\s*$", re.M)


def summary(p):
    ran = RAN.findall(p.stderr)
    res = RESULT.findall(p.stderr)
    check(ran and res, f"no unittest summary (exit {p.returncode}):\n{p.stderr[-3000:]}")
    return int(ran[-1]), "".join(res[-1]).strip(), p.returncode


def main():
    only = os.environ.get("HUD_SUITES")
    report = []
    for targets, include, prefixes in SUITES:
        if only and not any(t in only for t in targets):
            continue
        base_env = sensor_env(None)
        t0 = time.monotonic()
        base = summary(run(["-m", "unittest"] + targets, base_env, timeout=300))
        t_base = time.monotonic() - t0
        lst = Listener()
        try:
            env = sensor_env(lst, HUD_INCLUDE_MODULES=include, HUD_FLUSH_INTERVAL=60)
            t0 = time.monotonic()
            p = run(["-m", "hud_sensor", "run", "-m", "unittest"] + targets, env, timeout=600)
            t_hud = time.monotonic() - t0
            got = summary(p)
            time.sleep(0.2)
        finally:
            lst.close()
        check(got == base, f"{targets}: results differ with the sensor: {got} vs {base}\n{p.stderr[-4000:]}")
        decl = declarations(lst.batches)
        calls = {}
        for b in lst.batches:
            for inv in b.get("invocations", []):
                mp = decl.get(inv["function_id"], {}).get("module_path", "?")
                calls[mp] = calls.get(mp, 0) + inv["count"]
        for pre in prefixes:
            n = sum(c for mp, c in calls.items() if mp.startswith(pre))
            check(n > 0, f"{targets}: no calls recorded for {pre}* (modules: {sorted(calls)[:20]})")
        total = sum(calls.values())
        report.append(f"{','.join(t.split('.')[-1] for t in targets)}: {base[0]} tests {base[1]}, "
                      f"{total} calls recorded, {t_base:.1f}s -> {t_hud:.1f}s")
    for r in report:
        print(r)
    print("ok: cpython suites")


if __name__ == "__main__":
    main()
