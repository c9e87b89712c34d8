"""Ground truth: a workload with known counts, exceptions, caller edges (threads, asyncio,
generators, methods, a fork) runs under the sensor; the batches received by a real HTTP listener
carry exactly those figures, sleep durations are within 5%, identities follow the protocol, the
child of a fork reports only its own calls, and the at-exit flush delivers everything."""

import os
import sys
import time

from sensor_support import (WORKLOADS, Listener, by_name, check, declarations, function_id, line_of, run,
                            sensor_env, source_hash)

W = os.path.join(WORKLOADS, "ground_truth.py")


def site(marker):
    return line_of(W, marker)


def main():
    lst = Listener()
    try:
        # A long flush interval: everything must come from the at-exit flush.
        env = sensor_env(lst, HUD_FLUSH_INTERVAL=60, GT_FORK=1, HUD_VERSION="gt-1")
        p = run(["-m", "hud_sensor", "run", W], env, timeout=60)
        check(p.returncode == 0, f"workload failed: {p.returncode}\n{p.stdout}\n{p.stderr}")
        end_main = float([ln for ln in p.stdout.splitlines() if ln.startswith("end-of-main")][0].split()[1])
        exit_delay = time.time() - end_main
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and len({b["pid"] for b in lst.batches}) < 2:
            time.sleep(0.05)
    finally:
        lst.close()
    batches = lst.batches
    check(batches, "no batch received")
    pids = sorted({b["pid"] for b in batches})
    check(len(pids) == 2, f"expected batches from parent and forked child, got pids {pids}")
    status_lines = [ln for ln in p.stdout.splitlines() if ln.startswith("hud:")]
    check(any("sensor enabled" in ln for ln in status_lines), f"no status line: {p.stdout}")
    check(exit_delay < 4.0, f"process took {exit_delay:.2f}s to exit after main (flush must be within 2 s)")

    child_pid = [b["pid"] for b in batches if any(
        d["name"] == "forked_work" for d in b.get("declarations", []))]
    parent = [b for b in batches if b.get("service_version") == "gt-1"]
    check(len(parent) == len(batches), "HUD_VERSION not used as service_version")
    for b in batches:
        check(b["service"] == "sensor-test", f"service {b['service']}")
        check(b["runtime"].startswith("cpython "), b["runtime"])

    # The child's pid is the one that is not the process we started.
    child = [x for x in pids if x != p.pid] if hasattr(p, "pid") else []
    totals_all = by_name(batches)
    per_pid = {pid: by_name(batches, pid) for pid in pids}
    child_pid = next(pid for pid, t in per_pid.items() if "forked_work" in t)
    parent_pid = next(pid for pid in pids if pid != child_pid)
    par, chi = per_pid[parent_pid], per_pid[child_pid]
    check("forked_work" not in par, "parent reported the child's calls")
    check(chi["forked_work"]["count"] == 5, f"child forked_work {chi['forked_work']}")
    check("leaf" not in chi and "worker" not in chi, f"child re-sent parent's calls: {sorted(chi)}")

    t = par
    n_mid = 4 * 50
    exp = {
        "worker": 4, "mid": n_mid, "top": 30, "handler": 30, "boom": 30, "sleeper": 10,
        "gen": 1, "aleaf": 40, "amain": 1, "aslow": 1, "Shape.area": 1, "Shape.unit": 1, "Shape.make": 1,
        "Shape.outer": 1, "Shape.outer.<locals>.inner": 3, "main": 1, "quit_clean": 2, "quit_failing": 1,
        "leaf": n_mid * 10 + 7 + 1, "loop": 1, "tick": 102000,
    }
    for name, n in exp.items():
        check(name in t, f"{name} missing; got {sorted(t)}")
        check(t[name]["count"] == n, f"{name}: count {t[name]['count']} != {n}")

    # Caller edges with call-site lines.
    def edge(name, caller, marker):
        got = t[name]["callers"].get((caller, site(marker)), 0)
        return got

    check(edge("leaf", "mid", "@site-mid-leaf") == n_mid * 10, f"leaf<-mid {t['leaf']['callers']}")
    check(edge("leaf", "gen", "@site-gen-leaf") == 7, f"leaf<-gen {t['leaf']['callers']}")
    check(edge("leaf", "Shape.area", "@site-area-leaf") == 1, f"leaf<-area {t['leaf']['callers']}")
    check(edge("mid", "worker", "@site-worker-mid") == n_mid, f"mid<-worker {t['mid']['callers']}")
    check(edge("boom", "handler", "@site-handler-boom") == 30, f"boom<-handler {t['boom']['callers']}")
    check(edge("handler", "top", "@site-top-handler") == 30, f"handler<-top {t['handler']['callers']}")
    check(edge("top", "main", "@site-main-top") == 30, f"top<-main {t['top']['callers']}")
    check(edge("aleaf", "amain", "@site-amain-aleaf") == 20, f"aleaf<-amain {t['aleaf']['callers']}")
    check(t["worker"]["callers"] == {(None, 0): 4}, f"thread entry has no caller: {t['worker']['callers']}")

    # Exceptions escaping functions, by type.
    check(t["boom"]["exceptions"] == {"ValueError": 10, "KeyError": 10}, f"boom exc {t['boom']['exceptions']}")
    check(t["handler"]["exceptions"] == {"KeyError": 10}, f"handler exc {t['handler']['exceptions']}")
    check(t["top"]["exceptions"] == {}, f"top exc {t['top']['exceptions']}")
    # A normal exit (sys.exit(), sys.exit(0)) is not a failure; a non-zero exit status is.
    check(t["quit_clean"]["exceptions"] == {}, f"quit_clean exc {t['quit_clean']['exceptions']}")
    check(t["quit_failing"]["exceptions"] == {"SystemExit": 1}, f"quit_failing exc {t['quit_failing']['exceptions']}")

    # Exception flows: origin -> propagated -> caught.
    decl = declarations(batches)
    nm = {fid: d["name"] for fid, d in decl.items()}
    xf = {}
    for b in batches:
        if b["pid"] != parent_pid:
            continue
        for x in b.get("exception_flows", []):
            key = (x["exception_type"], nm.get(x["origin_function_id"]),
                   tuple(nm.get(f) for f in x.get("propagated_through", [])),
                   nm.get(x.get("caught_in_function_id") or "", None))
            xf[key] = xf.get(key, 0) + x["count"]
            if x["exception_type"] == "ValueError":
                check(x.get("origin_line") == site("@raise-value"), f"origin line {x.get('origin_line')}")
    check(xf.get(("ValueError", "boom", (), "handler")) == 10, f"ValueError flow: {xf}")
    check(xf.get(("KeyError", "boom", ("handler",), "top")) == 10, f"KeyError flow: {xf}")

    # Durations: every call of a fresh function is timed until its quota is reached. Each sleeping
    # function also timed itself (perf_counter_ns around its body): the sensor agrees within 5%, and
    # the nominal sleep is a floor (on a loaded machine sleeps overshoot; the sensor must see that).
    own = {ln.split()[1]: int(ln.split()[2]) for ln in p.stdout.splitlines() if ln.startswith("measured ")}

    def agree(name, nominal_ms, sampled):
        v = t[name]
        check(v["sampled"] == sampled, f"{name}: sampled {v['sampled']} != {sampled}")
        check(abs(v["sum"] - own[name]) <= 0.05 * own[name],
              f"{name}: sensor {v['sum'] / 1e6:.3f} ms vs measured {own[name] / 1e6:.3f} ms (5%)")
        check(v["sum"] >= nominal_ms * 1e6 * sampled * 0.999 if name != "sleepy_parent" else v["sum"] >= 60e6,
              f"{name}: {v['sum'] / 1e6:.3f} ms below the nominal sleep")

    agree("sleeper", 35, 10)
    agree("aslow", 30, 1)
    agree("sleepy_parent", 60, 1)
    sp = t["sleepy_parent"]
    check(sp["self"] < 0.05 * sp["sum"], f"self time {sp['self']} must exclude the callees' 60 ms ({sp['sum']})")
    # loop()'s self time is its own spin, without its 2,000 calls of tick(), which it timed at a
    # stride: a few hundred timed calls, not one per call. A timed tick() stands for up to 32 calls,
    # so time the process waited for a CPU meanwhile (a loaded machine) can move the figure by up
    # to 32 times as much: that much is allowed beyond the 5%.
    lp = t["loop"]
    loop_timed, waited = map(int, [ln for ln in p.stdout.splitlines() if ln.startswith("loop-timed ")][0].split()[1:])
    check(abs(lp["self"] - own["loop"]) <= 0.05 * own["loop"] + 32 * waited,
          f"loop self {lp['self'] / 1e6:.2f} ms vs its own spin {own['loop'] / 1e6:.2f} ms (5%; waited for a CPU "
          f"{waited / 1e6:.2f} ms)")
    check(loop_timed < 1000, f"timed calls under one long sampled call: {loop_timed} for its 2,000 calls")
    print(f"loop self {lp['self'] / 1e6:.2f} ms against its own spin {own['loop'] / 1e6:.2f} ms, {loop_timed} timed calls, "
          f"waited for a CPU {waited / 1e6:.2f} ms")
    m = t["top"]
    check(0 < m["self"] <= m["sum"], f"self time of top {m['self']} vs total {m['sum']}")
    for name, v in t.items():
        check(v["sampled"] <= v["count"], f"{name}: sampled > count")

    # Declarations follow the identity rules (computed here independently).
    by_q = {d["name"]: d for d in decl.values()}
    for q in ("leaf", "Shape.make", "Shape.outer.<locals>.inner", "aleaf", "gen"):
        d = by_q[q]
        check(d["function_id"] == function_id("ground_truth.py", q), f"{q}: function_id")
        check(d["module_path"] == "ground_truth.py", d["module_path"])
        check(d["file"] == W, d["file"])
        check(d["source_code_hash"] == source_hash(W, d["start_line"], d["end_line"]), f"{q}: source hash")
    check(by_q["Shape.make"]["start_line"] == line_of(W, "@classmethod"), "decorated: first decorator line")
    check(by_q["aleaf"]["is_async"] is True and by_q["leaf"]["is_async"] is False, "is_async")
    check(by_q["gen"].get("is_generator") is True, "is_generator")
    print("ok: ground truth", {k: t[k]["count"] for k in ("leaf", "mid", "boom", "aleaf")},
          f"exit {exit_delay:.2f}s, batches {len(batches)}")


if __name__ == "__main__":
    main()
