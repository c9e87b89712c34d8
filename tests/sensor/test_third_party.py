"""Third-party code nobody here wrote, checked against an exact reference in the same process:
pygments, jinja2 (sync and async rendering), SQLAlchemy 1.4 (ORM on in-memory SQLite),
yaml + dateutil (error paths included) and three parsers (pyflakes, sqlparse, pyparsing) run under the sensor with the whole library instrumented
(HUD_INCLUDE_MODULES) while workloads/exact_tracer.py records the same run through sys.settrace.
For every function: the count, every caller edge (caller function and call-site line) and the
exceptions escaping it by type must be equal; the program's output must equal a plain run's."""

import json
import os
import tempfile
import time

from sensor_support import WORKLOADS, Listener, check, declarations, run, sensor_env

DRIVER = os.path.join(WORKLOADS, "third_party.py")
LIBS = {"pygments": "pygments,pygments.*", "jinja2": "jinja2,jinja2.*,markupsafe,markupsafe.*",
        "sqlalchemy": "sqlalchemy,sqlalchemy.*", "yaml_dateutil": "yaml,yaml.*,dateutil,dateutil.*",
        "parsers": "pyflakes,pyflakes.*,sqlparse,sqlparse.*,pyparsing,pyparsing.*"}


def sensor_view(batches):
    decl = declarations(batches)
    ident = {fid: (d["module_path"], d["name"]) for fid, d in decl.items()}
    calls, edges, excs = {}, {}, {}
    for b in batches:
        for inv in b.get("invocations", []):
            f = ident[inv["function_id"]]
            calls[f] = calls.get(f, 0) + inv["count"]
            cs = inv.get("caller_function_id") or []
            c = (ident[cs[0][0]] + (cs[0][2],)) if cs and cs[0][0] else (None, None, 0)
            edges[f + c] = edges.get(f + c, 0) + inv["count"]
            for t, n in (inv.get("exceptions") or {}).items():
                excs[f + (t,)] = excs.get(f + (t,), 0) + n
    drop = lambda d: {k: v for k, v in d.items() if v}
    return drop(calls), drop(edges), drop(excs)


def tracer_view(path):
    with open(path) as fh:
        t = json.load(fh)
    calls = {(m, q): n for m, q, n in t["calls"]}
    edges = {(m, q, cm, cq, ln): n for m, q, cm, cq, ln, n in t["edges"]}
    excs = {(m, q, ty): n for m, q, ty, n in t["exceptions"]}
    return calls, edges, excs


def diff(what, lib, got, want):
    bad = sorted(set(got) | set(want), key=repr)
    bad = [(k, got.get(k), want.get(k)) for k in bad if got.get(k) != want.get(k)]
    check(not bad, f"{lib}: {len(bad)} {what} differ (sensor vs settrace), first: " +
          "; ".join(f"{k}: {g} vs {w}" for k, g, w in bad[:8]))


def main():
    tmp = tempfile.mkdtemp(prefix="hud-third-party-")
    report = []
    for lib, include in LIBS.items():
        out = os.path.join(tmp, lib + ".json")
        plain = run([DRIVER, lib, out], sensor_env(), timeout=120)
        check(plain.returncode == 0, f"{lib}: plain run failed: {plain.stderr[-3000:]}")
        lst = Listener()
        try:
            env = sensor_env(lst, HUD_INCLUDE_MODULES=include, HUD_EXCLUDE_MODULES="exact_tracer",
                             HUD_FLUSH_INTERVAL=60)
            p = run(["-m", "hud_sensor", "run", DRIVER, lib, out], env, timeout=180)
            check(p.returncode == 0, f"{lib}: sensor run failed: {p.stderr[-3000:]}")
            deadline = time.monotonic() + 10
            while not lst.batches and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.2)
            batches = list(lst.batches)
        finally:
            lst.close()
        res = lambda s: [ln for ln in s.splitlines() if ln.startswith("result")]
        check(res(p.stdout) == res(plain.stdout), f"{lib}: output differs: {res(p.stdout)} vs {res(plain.stdout)}")
        calls, edges, excs = sensor_view(batches)
        # The driver's main() started the reference tracer, so the tracer never saw it begin.
        drv = os.path.basename(DRIVER)
        calls = {k: v for k, v in calls.items() if k != (drv, "main")}
        edges = {k: v for k, v in edges.items() if k[:2] != (drv, "main")}
        tcalls, tedges, texcs = tracer_view(out)
        lib_fns = [k for k in tcalls if k[0] != drv]
        check(len(lib_fns) > 50, f"{lib}: only {len(lib_fns)} library functions ran")
        diff("function counts", lib, calls, tcalls)
        diff("caller edges", lib, edges, tedges)
        diff("exception counts", lib, excs, texcs)
        report.append(f"{lib}: {len(lib_fns)} functions, {sum(tcalls.values())} calls, {len(tedges)} edges, "
                      f"{sum(texcs.values())} exceptions equal")
    for r in report:
        print(r)
    print("ok: third-party workloads match settrace")


if __name__ == "__main__":
    main()
