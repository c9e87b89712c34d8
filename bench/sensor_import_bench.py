"""Driver of bench/sensor_import.sh: start-up cost of the Python sensor on a large library.

Debian's python3 imports SQLAlchemy (python3-sqlalchemy) with every one of its modules
instrumented (HUD_INCLUDE_MODULES=sqlalchemy*), in fresh processes, the modes interleaved:
  plain  no sensor;
  cold   sensor started, empty rewrite cache (every module parsed, rewritten, compiled, written);
  warm   sensor started, the cache filled by an earlier run.
Each process reports the import's wall and CPU time and its peak RSS; the best of the rounds
counts. `import` ratios compare the import alone; `start+import` adds hud_sensor.init()."""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

CHILD = r'''
import json, os, resource, sys, time
w0, c0 = time.perf_counter(), time.process_time()
if os.environ.get("HUD_ENABLE"):
    import hud_sensor
    assert hud_sensor.init(quiet=True)
w1, c1 = time.perf_counter(), time.process_time()
for m in sys.argv[1].split(","):
    __import__(m)
w2, c2 = time.perf_counter(), time.process_time()
out = {"start_wall": w1 - w0, "start_cpu": c1 - c0, "import_wall": w2 - w1, "import_cpu": c2 - c1,
       "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
if os.environ.get("HUD_ENABLE"):
    out["cache"] = hud_sensor.stats().get("cache")
    out["modules"] = len(hud_sensor.stats().get("modules", {}))
print("RESULT " + json.dumps(out))
'''

MODULES = "sqlalchemy,sqlalchemy.orm,sqlalchemy.ext.declarative,sqlalchemy.ext.associationproxy,sqlalchemy.dialects.sqlite"


def module_dir(build_dir, exe):
    with open(os.path.join(build_dir, "sensor", "python", "interpreters.txt")) as fh:
        for line in fh:
            tag, path, d = line.split()
            if os.path.realpath(path) == os.path.realpath(exe):
                return d
    raise SystemExit(f"no sensor module built for {exe} in {build_dir}")


def run(exe, env, modules):
    p = subprocess.run([exe, "-c", CHILD, modules], env=env, capture_output=True, text=True, timeout=300)
    line = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")]
    if p.returncode != 0 or not line:
        raise SystemExit(f"child failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return json.loads(line[0][7:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--modules", default=MODULES)
    a = ap.parse_args()
    probe = subprocess.run([a.python, "-c", "import sqlalchemy; print(sqlalchemy.__version__)"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        print("sensor import bench: SQLAlchemy not importable by", a.python, "(apt install python3-sqlalchemy)")
        return 0
    mdir = module_dir(a.build_dir, a.python)
    tmp = tempfile.mkdtemp(prefix="hud-import-bench-")
    try:
        base = {k: v for k, v in os.environ.items() if not k.startswith("HUD_")}
        base.update(PYTHONPATH=os.pathsep.join([os.path.join(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))), "sensor", "python"), mdir]), XDG_CONFIG_HOME="/nonexistent-hud-config")
        sensor = dict(base, HUD_ENABLE="1", HUD_URL="http://127.0.0.1:1", HUD_KEY="bench",
                      HUD_INCLUDE_MODULES="sqlalchemy*", HUD_FLUSH_INTERVAL="600")
        warm_dir = os.path.join(tmp, "warm")
        run(a.python, dict(sensor, HUD_SENSOR_CACHE=warm_dir), a.modules)  # fills the warm cache
        run(a.python, base, a.modules)  # and the page cache for the plain run
        res = {"plain": [], "cold": [], "warm": []}
        for r in range(a.rounds):
            res["plain"].append(run(a.python, base, a.modules))
            res["cold"].append(run(a.python, dict(sensor, HUD_SENSOR_CACHE=os.path.join(tmp, f"cold{r}")), a.modules))
            res["warm"].append(run(a.python, dict(sensor, HUD_SENSOR_CACHE=warm_dir), a.modules))
        print(f"SQLAlchemy {probe.stdout.strip()} import under {a.python} ({a.modules}), "
              f"best of {a.rounds} interleaved rounds:")
        best = {}
        for mode, rs in res.items():
            b = best[mode] = {k: min(r[k] for r in rs) for k in ("start_wall", "start_cpu", "import_wall", "import_cpu", "peak_mib")}
            med = statistics.median(r["import_wall"] for r in rs)
            extra = ""
            if "cache" in rs[-1]:
                c = rs[-1]["cache"] or {}
                extra = f"  modules {rs[-1]['modules']}, cache hits {c.get('hits')} misses {c.get('misses')} writes {c.get('writes')}"
            print(f"  {mode:5}  import {b['import_wall'] * 1e3:7.1f} ms wall (median {med * 1e3:7.1f}) "
                  f"{b['import_cpu'] * 1e3:7.1f} ms cpu   start {b['start_wall'] * 1e3:5.1f} ms   "
                  f"peak RSS {b['peak_mib']:5.1f} MiB{extra}")
        p = best["plain"]
        for mode in ("cold", "warm"):
            m = best[mode]
            print(f"  {mode} / plain: import {m['import_wall'] / p['import_wall']:.2f}x wall, "
                  f"{m['import_cpu'] / p['import_cpu']:.2f}x cpu; start+import "
                  f"{(m['start_wall'] + m['import_wall']) / (p['start_wall'] + p['import_wall']):.2f}x wall; "
                  f"peak RSS {m['peak_mib'] / p['peak_mib']:.2f}x")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
