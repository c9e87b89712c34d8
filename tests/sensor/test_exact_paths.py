"""Exact figures on the sensor's awkward paths, one case per run (HUD_CASE, see CMakeLists.txt):

- gen_resume: a generator started by one function and resumed by another that sees it raise is
  counted once per call, on the edge that started it, with its exceptions on that edge (no
  phantom edge from the resuming function);
- unfinished: calls still running when the program ends are in the final batch;
- origin_line: exception paths that differ only by the raising line are kept apart, each with
  its own line and count;
- deep_path: a 30-function path arrives whole; one longer than the protocol's 256 entries is cut
  at 256 and the cut is counted in dropped.exception_flows."""

import os

from sensor_support import WORKLOADS, Listener, by_name, check, declarations, line_of, run, sensor_env

W = os.path.join(WORKLOADS, "exact_paths.py")


def site(marker):
    return line_of(W, marker)


def run_case(case, **env_extra):
    lst = Listener()
    try:
        env = sensor_env(lst, HUD_FLUSH_INTERVAL=env_extra.pop("interval", 60), **env_extra)
        p = run(["-m", "hud_sensor", "run", W, case], env, timeout=60)
        check(p.returncode == 0, f"{case}: workload failed {p.returncode}\n{p.stdout}\n{p.stderr}")
        check(f"done {case}" in p.stdout, f"{case}: workload did not finish: {p.stdout}")
    finally:
        lst.close()
    check(lst.batches, f"{case}: no batch received")
    return lst.batches


def names(batches):
    return {fid: d["name"] for fid, d in declarations(batches).items()}


def edges(batches, fn):
    """(caller name, line) -> {"count", "exceptions"} of function FN over all batches."""
    nm = names(batches)
    out = {}
    for b in batches:
        for inv in b.get("invocations", []):
            if nm.get(inv["function_id"]) != fn:
                continue
            cs = inv.get("caller_function_id") or []
            key = (nm.get(cs[0][0]), cs[0][2]) if cs else (None, 0)
            e = out.setdefault(key, {"count": 0, "exceptions": {}})
            e["count"] += inv["count"]
            for t, c in (inv.get("exceptions") or {}).items():
                e["exceptions"][t] = e["exceptions"].get(t, 0) + c
    return out


def xflows(batches):
    """(type, origin, propagated, catcher, origin_line) -> count."""
    nm = names(batches)
    out = {}
    for b in batches:
        for x in b.get("exception_flows", []):
            key = (x["exception_type"], nm.get(x["origin_function_id"]),
                   tuple(nm.get(f) for f in x.get("propagated_through", [])),
                   nm.get(x.get("caught_in_function_id") or ""), x.get("origin_line", 0))
            out[key] = out.get(key, 0) + x["count"]
    return out


def case_gen_resume():
    b = run_case("gen_resume")
    t = by_name(b)
    check(t["gen"]["count"] == 10, f"gen: {t['gen']['count']} calls for 10")
    e = edges(b, "gen")
    want = {("starter", site("@site-starter-gen")): {"count": 10, "exceptions": {"ValueError": 10}}}
    check(e == want, f"gen edges {e} != {want}")
    x = xflows(b)
    want_x = {("ValueError", "gen", (), "finisher", site("@raise-gen")): 10,
              ("KeyError", "coro", (), "cfinisher", site("@raise-coro")): 7}
    check(x == want_x, f"exception paths {x} != {want_x}")
    check(t["finisher"]["count"] == 10 and t["finisher"]["exceptions"] == {}, f"finisher {t['finisher']}")
    # The same with a coroutine driven by send().
    check(t["coro"]["count"] == 7, f"coro: {t['coro']['count']} calls for 7")
    e = edges(b, "coro")
    want = {("cstarter", site("@site-cstarter-coro")): {"count": 7, "exceptions": {"KeyError": 7}}}
    check(e == want, f"coro edges {e} != {want}")


def case_unfinished():
    b = run_case("unfinished", interval=0.1)
    check(len(b) >= 3, f"expected periodic batches, got {len(b)}")
    t = by_name(b)
    check("pending" in t, f"pending never reported: {sorted(t)}")
    check(t["pending"]["count"] == 3, f"pending: {t['pending']['count']} calls for 3 still running at exit")
    for name, v in t.items():
        check(v["sampled"] <= v["count"], f"{name}: sampled > count")


def case_origin_line():
    b = run_case("origin_line")
    x = xflows(b)
    want = {("ValueError", "parse", (), "parse_all", site("@raise-a")): 20,
            ("ValueError", "parse", (), "parse_all", site("@raise-b")): 80}
    check(x == want, f"exception paths {x} != {want}")


def case_deep_path():
    b = run_case("deep_path")
    x = xflows(b)
    line = site("@raise-deep")
    short = ("KeyError", "deep", ("deep",) * 27 + ("get_single_data", "load"), "catcher", line)
    check(x.get(short) == 3, f"30-function path: {x.get(short)} for 3; got {[(len(k[2]), c) for k, c in x.items()]}")
    cut = ("KeyError", "deep", ("deep",) * 256, "catcher", line)
    check(x.get(cut) == 2, f"303-function path cut at 256: {x.get(cut)} for 2; "
          f"got {[(len(k[2]), k[3], c) for k, c in x.items()]}")
    check(len(x) == 2, f"paths {[(len(k[2]), c) for k, c in x.items()]}")
    dropped = sum((bb.get("dropped") or {}).get("exception_flows", 0) for bb in b)
    check(dropped == 2, f"cut paths counted in dropped.exception_flows: {dropped} for 2")


def main():
    case = os.environ.get("HUD_CASE")
    cases = {k[5:]: v for k, v in globals().items() if k.startswith("case_")}
    for name in ([case] if case else sorted(cases)):
        cases[name]()
        print("ok:", name)


if __name__ == "__main__":
    main()
