"""The rewrite cache (hud_sensor/_cache.py): a second start takes every module from the cache
(counted in stats()["cache"]; the main script, instrumented by init(), is a module too) with
figures identical to the first; an edited source is rewritten again, and every module is when the
rewrite itself changed, and so is a module under
another optimisation level; a damaged cache file is ignored and replaced; an unwritable cache
directory changes nothing but the speed; workers starting together on an empty cache all run
correctly and leave one valid entry per module; HUD_SENSOR_CACHE=off writes nothing."""

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from sensor_support import SENSOR_SRC, Listener, by_name, check, run, sensor_env

LIB = '''
def square(x):
    return x * x


class Box:
    def __init__(self, v):
        self.v = v

    def get(self):
        def inner():
            return self.v
        return inner()


def total(n):
    return sum(square(i) + Box(i).get() for i in range(n))
'''

MAIN = r'''
import json, os, sys, time
go = os.environ.get("CACHE_GO")
if go:
    while not os.path.exists(go):
        time.sleep(0.001)
import hud_sensor
if not hud_sensor.init(quiet=True):  # not assert: the -O run strips asserts
    raise SystemExit("sensor not started")
import cachelib
print("total", cachelib.total(int(os.environ.get("CACHE_N", "10"))))
s = hud_sensor.stats()
print("STATS " + json.dumps({"cache": s["cache"], "errors": s["errors"], "modules": s["modules"]}))
'''


def start(lst, d, cache, **extra):
    env = sensor_env(lst, HUD_INCLUDE_MODULES="cachelib", HUD_SENSOR_CACHE=cache, **extra)
    env["PYTHONPATH"] = d + os.pathsep + env["PYTHONPATH"]
    return env


def stats_of(p):
    check(p.returncode == 0, f"exit {p.returncode}\n{p.stdout}\n{p.stderr}")
    line = [ln for ln in p.stdout.splitlines() if ln.startswith("STATS ")]
    check(line, f"no stats: {p.stdout}")
    s = json.loads(line[0][6:])
    check(not s["errors"], f"instrumentation errors: {s['errors']}")
    check(s["modules"].get("cachelib") == 5, f"cachelib not instrumented: {s['modules']}")
    c = s["cache"]
    if c is not None:
        c["n"] = len(s["modules"])  # every module instrumented went through the cache
        # init() rewrites the main script's functions once more 1 s later (they did not exist
        # yet): a process that lives that long (a loaded machine) looks its entry up twice. That
        # second lookup (a hit, or a miss when nothing could be written) is not counted here.
        extra = c["hits"] + c["misses"] + c["corrupt"] - c["n"]
        check(extra in (0, 1), f"{extra} lookups more than modules: {c}")
        c["misses" if c["write_errors"] else "hits"] -= extra
    return c


def counts(lst, pid):
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any(b["pid"] == pid for b in lst.batches):
        time.sleep(0.02)
    t = by_name(lst.batches, pid)
    return {k: v["count"] for k, v in t.items()}


def popen(env, main):
    return subprocess.Popen([sys.executable, main], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def main():
    tmp = tempfile.mkdtemp(prefix="hud-cache-test-")
    lst = Listener()
    try:
        src = os.path.join(tmp, "src")
        os.mkdir(src)
        lib = os.path.join(src, "cachelib.py")
        with open(lib, "w") as fh:
            fh.write(LIB)
        mainf = os.path.join(src, "main.py")
        with open(mainf, "w") as fh:
            fh.write(MAIN)
        cache = os.path.join(tmp, "cache")
        want = {"square": 10, "Box.__init__": 10, "Box.get": 10, "Box.get.<locals>.inner": 10, "total": 1}

        def once(cache_dir=cache, **extra):
            env = start(lst, src, cache_dir, **extra)
            p = subprocess.run([sys.executable, mainf], env=env, capture_output=True, text=True, timeout=60)
            return p, stats_of(p)

        # 1. First start writes, second start hits; the figures are the same and exact.
        pids = []
        for round_ in range(2):
            env = start(lst, src, cache)
            pr = popen(env, mainf)
            out, err = pr.communicate(timeout=60)
            p = subprocess.CompletedProcess(pr.args, pr.returncode, out, err)
            c = stats_of(p)
            check("total 330" in out, out)
            if round_ == 0:
                check(c["hits"] == 0 and c["misses"] == c["n"] and c["writes"] == c["n"], f"first start: {c}")
            else:
                check(c["hits"] == c["n"] and c["misses"] == 0 and c["writes"] == 0, f"second start: {c}")
            got = {k: v for k, v in counts(lst, pr.pid).items() if k in want}
            check(got == want, f"start {round_ + 1}: counts {got} != {want}")
            pids.append(pr.pid)
        files = glob.glob(os.path.join(cache, "cachelib.py.*.hudc"))
        check(len(files) == 1, f"cache files {os.listdir(cache)}")
        entry = files[0]

        # 1b. A changed rewrite (here: the sensor's _instrument.py with one more line) never reuses
        # what an earlier rewrite cached: every module is rewritten again, with exact figures.
        pkg = os.path.join(tmp, "pkg")
        shutil.copytree(os.path.join(SENSOR_SRC, "hud_sensor"), os.path.join(pkg, "hud_sensor"))
        with open(os.path.join(pkg, "hud_sensor", "_instrument.py"), "a") as fh:
            fh.write("\n# another rewrite\n")
        cache2 = os.path.join(tmp, "cache-copy")
        shutil.copytree(cache, cache2)
        env = start(lst, src, cache2)
        env["PYTHONPATH"] = pkg + os.pathsep + env["PYTHONPATH"]
        pr = popen(env, mainf)
        out, err = pr.communicate(timeout=60)
        c = stats_of(subprocess.CompletedProcess(pr.args, pr.returncode, out, err))
        check(c["hits"] == 0 and c["misses"] == c["n"], f"a changed rewrite reused cached code: {c}")
        got = {k: v for k, v in counts(lst, pr.pid).items() if k in want}
        check(got == want, f"changed rewrite: counts {got} != {want}")

        # 2. An edit of the same size (mtime and size could not tell) is rewritten again.
        with open(lib) as fh:
            text = fh.read()
        with open(lib, "w") as fh:
            fh.write(text.replace("return x * x", "return x + x"))
        env = start(lst, src, cache)
        pr = popen(env, mainf)
        out, err = pr.communicate(timeout=60)
        c = stats_of(subprocess.CompletedProcess(pr.args, pr.returncode, out, err))
        check("total 135" in out, f"edited source not used: {out}")
        check(c["hits"] == c["n"] - 1 and c["misses"] == 1 and c["writes"] == 1, f"after edit: {c}")
        check(counts(lst, pr.pid).get("square") == 10, "counts after edit")

        # 3. A damaged entry (truncated, then one flipped byte) is ignored and replaced.
        for damage in ("truncate", "flip"):
            with open(entry, "rb") as fh:
                data = fh.read()
            data = data[:len(data) // 2] if damage == "truncate" else \
                data[:-10] + bytes([data[-10] ^ 0x40]) + data[-9:]
            with open(entry, "wb") as fh:
                fh.write(data)
            p, c = once()
            check("total 135" in p.stdout, p.stdout)
            check(c["corrupt"] == 1 and c["hits"] == c["n"] - 1 and c["writes"] == 1, f"{damage}: {c}")
            p, c = once()
            check(c["hits"] == c["n"], f"{damage}: not replaced: {c}")

        # 4. A cache directory that cannot be written: below a regular file (root writes anywhere
        #    else), and a chmod 555 directory when not root. The program runs, instrumented.
        blocker = os.path.join(tmp, "a-file")
        with open(blocker, "w") as fh:
            fh.write("x")
        dirs = [os.path.join(blocker, "cache")]
        if os.geteuid() != 0:
            ro = os.path.join(tmp, "ro")
            os.mkdir(ro, 0o555)
            dirs.append(ro)
        for d in dirs:
            p, c = once(d)
            check("total 135" in p.stdout, p.stdout)
            check(c["writes"] == 0 and c["write_errors"] == 1, f"unwritable {d}: {c}")

        # 5. Another optimisation level (python -O) is another interpreter setting: its own entries.
        env = start(lst, src, cache)
        p = subprocess.run([sys.executable, "-O", mainf], env=env, capture_output=True, text=True, timeout=60)
        c = stats_of(p)
        check(c["hits"] == 0 and c["misses"] == c["n"], f"-O used entries of the default level: {c}")
        p, c = once()
        check(c["hits"] == c["n"], f"default level after -O: {c}")

        # 6. Off: nothing written, nothing read.
        env = start(lst, src, "off")
        p = subprocess.run([sys.executable, mainf], env=env, capture_output=True, text=True, timeout=60)
        check(p.returncode == 0 and '"cache": null' in p.stdout, f"off: {p.stdout}\n{p.stderr}")

        # 7. Four workers released together on an empty cache: all exact, one entry, no temp file.
        race = os.path.join(tmp, "race")
        go = os.path.join(tmp, "go")
        procs = [popen(start(lst, src, race, CACHE_GO=go), mainf) for _ in range(4)]
        time.sleep(0.5)
        open(go, "w").close()
        for pr in procs:
            out, err = pr.communicate(timeout=60)
            c = stats_of(subprocess.CompletedProcess(pr.args, pr.returncode, out, err))
            check("total 135" in out, out)
            check(c["hits"] + c["misses"] == c["n"] and c["corrupt"] == 0, f"racing worker: {c}")
            check(counts(lst, pr.pid).get("square") == 10, f"racing worker {pr.pid} counts")
        names = os.listdir(race)
        check(len(names) == c["n"] and all(n.endswith(".hudc") for n in names), f"race left {names}")
        p, c = once(race)
        check(c["hits"] == c["n"], f"after race: {c}")
    finally:
        lst.close()
        shutil.rmtree(tmp, ignore_errors=True)
    print("cache: ok")


if __name__ == "__main__":
    main()
