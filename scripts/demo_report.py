"""Helper of scripts/demo.sh: drives the example shop with HTTP requests and prints what the
query API answers. Standard library only."""
import argparse
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


def load(url, requests):
    statuses = {}
    for i in range(requests):
        calls = [
            ("POST", f"/orders?skus=apple,pear" + ("&coupon=HALF" if i % 3 == 0 else "")),
            ("GET", f"/orders/{i}"),
        ]
        if i % 10 == 0:
            calls.append(("POST", "/orders?skus=apple,plum"))  # plum is out of stock: 409
        for method, path in calls:
            req = urllib.request.Request(url + path, method=method, data=b"" if method == "POST" else None)
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    code = r.status
            except urllib.error.HTTPError as e:
                code = e.code
            statuses[code] = statuses.get(code, 0) + 1
    print("requests sent, by status:", dict(sorted(statuses.items())))


def get(base, key, path, **params):
    q = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
    # no-cache: the report follows the traffic just sent (the server folds batches every 5 s).
    req = urllib.request.Request(f"{base}{path}?{q}", headers={"Authorization": f"Bearer {key}",
                                                               "Cache-Control": "no-cache"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        sys.exit(f"demo: {path} answered {e.code}: {e.read().decode(errors='replace')}")


def ms(ns):
    return f"{ns / 1e6:8.2f} ms"


def report(base, key, service):
    for s in get(base, key, "/v1/services")["services"]:
        for env in s["environments"]:
            versions = ", ".join(v["version"] for v in env["versions"])
            print(f"service {s['name']}  env {env['name']}  versions (newest first): {versions}")

    for sort, title in (("calls", "hottest functions"), ("p95", "slowest functions (p95)"),
                        ("slowdown", "slowed down since the previous version")):
        print(f"\n-- {title}")
        print(f"{'function':42} {'calls':>7} {'err%':>6} {'p50':>11} {'p95':>11} {'vs prev':>8}")
        for f in get(base, key, "/v1/functions/top", service=service, sort=sort, limit=6)["items"]:
            name = f"{f.get('module_path', '?')}:{f.get('name', f['function_id'])}"
            print(f"{name[:42]:42} {f['calls']:7} {100 * f['error_rate']:5.1f}% {ms(f['p50'])} "
                  f"{ms(f['p95'])} {f['slowdown']:+7.0f}%")

    print("\n-- flows")
    for fl in get(base, key, "/v1/flows", service=service)["flows"]:
        name = f"{fl.get('method', '')} {fl.get('route', fl.get('task_name', ''))}".strip()
        codes = ", ".join(f"{k}: {v}" for k, v in sorted(fl.get("status_codes", {}).items()))
        top = ", ".join(fn.get("name", "?") for fn in fl["functions"][:3])
        print(f"{name:22} calls {fl['calls']:5}  p95 {ms(fl['p95'])}  [{codes}]  time in: {top}")

    print("\n-- issues (regression detection, root cause)")
    issues = wait_issues(base, key, service)
    if not issues:
        print("none")
    for it in issues:
        print_issue(it)
        print()


def wait_issues(base, key, service, timeout=60.0):
    """The issues of the newest version. Detection may run in the server after the data arrives (then
    GET /v1/issues reads what it stored): poll, bounded, until the newest version has been looked at."""
    newest = None
    for s in get(base, key, "/v1/services")["services"]:
        if s["name"] == service:
            versions = [v["version"] for env in s["environments"] for v in env["versions"]]
            newest = versions[0] if versions else None
    deadline = time.monotonic() + timeout
    while True:
        issues = get(base, key, "/v1/issues", service=service)["issues"]
        if any((it.get("current") or {}).get("version") == newest for it in issues) or time.monotonic() > deadline:
            return issues
        time.sleep(0.5)


def p_text(p, text=None):
    """p for people: never 0 (a p that underflowed is below what a double says)."""
    if text:
        return text
    if p is None:
        return "?"
    return "< 1e-16" if p < 1e-16 else f"{p:.2g}"


def pct_text(pct, capped=False):
    return "> 100×" if capped or pct >= 10000 else f"{pct:+.0f}%"


def level_text(confidence):
    return f"{round(confidence * 100, 4):g}%"  # 0.999 -> 99.9%


def name_of(it):
    steps = it.get("call_path") or []
    if steps:
        return steps[-1].get("name") or steps[-1].get("function_id")
    rcs = it.get("root_causes") or []
    if rcs:
        rc = rcs[0]
        return f"{rc.get('module_path', '?')}:{rc.get('name', rc.get('function_id'))}"
    return it.get("subject_name", it.get("subject_id"))


def print_issue(it):
    """One issue: the new shape (headline, affected flows, call path) when present, else the old one."""
    b, c = it.get("baseline") or {}, it.get("current") or {}
    sides = f"{b.get('version', '?')} → {c.get('version', '?')}"
    change = ("new" if it["metric"] == "error_rate" and not b.get("error_rate") else
              pct_text(it["effect_pct"], it.get("effect_pct_capped")))  # an increase from 0 is new, not +0%
    headline = it.get("headline") or f"{it.get('subject_name', it.get('subject_id'))} {it['metric']} {change} ({sides})"
    print(f"[{it.get('status', 'open')}] {headline}")
    facts = [it["kind"], f"{it.get('comparison', '?')} {sides}"]
    if it.get("module_path"):
        facts.append(f"in {it['module_path']}")
    changed = it.get("code_changed")
    if changed is not None:
        facts.append("code changed" if changed in (1, True) else "same code")
    if it.get("self_includes_uninstrumented"):
        facts.append("its self time includes calls hud does not see")
    if it.get("times_reopened"):
        facts.append(f"reopened {it['times_reopened']}x")
    print("   " + " · ".join(facts))
    for fl in it.get("affected_flows") or []:
        err = ""
        if fl.get("current_error_rate", 0) > fl.get("baseline_error_rate", 0):
            was = fl.get("baseline_error_rate", 0)
            err = (f", errors {100 * was:.2f}% -> " if was else ", errors new: ") + \
                f"{100 * fl['current_error_rate']:.2f}% of requests"
        print(f"   {fl.get('name', fl.get('flow_id'))}: {fl.get('effect', 0) / 1e6:+.2f} ms per request "
              f"({pct_text(fl.get('effect_pct', 0))} of {fl.get('baseline_mean', 0) / 1e6:.2f} ms){err}, "
              f"{fl.get('count', '?')} requests")
    steps = it.get("call_path") or []
    if steps:
        print("   path: " + " → ".join(st.get("name") or st.get("function_id", "?") for st in steps))
    stat = ""
    if it.get("statistic_name"):
        stat = f"{it['statistic_name']} {it.get('statistic', 0):.1f}" + (f" (df {it['df']:.0f})" if it.get("df") else "") + ", "
    q = f", q {p_text(it['q_value'])}" if it.get("q_value") is not None else ""
    units = {"self_duration": (1e6, " ms per call"), "mean_duration": (1e6, " ms per request"),
             "calls_per_invocation": (1, " calls per request"), "error_rate": (0.01, " pt")}
    scale, unit = units.get(it["metric"], (1, ""))
    ci = (f", {level_text(it['confidence'])} CI of the effect [{it['ci_low'] / scale:+.2f}, "
          f"{it['ci_high'] / scale:+.2f}]{unit}" if "ci_low" in it and "confidence" in it else "")
    drift = f", drift allowed {it['drift_pct']:.0f}%" if it.get("drift_pct") else ""
    if not it.get("headline"):  # the old shape: the subject's two means (or rates)
        print(f"   {it['metric']} {b.get('mean_duration', 0) / 1e6:.3f} -> {c.get('mean_duration', 0) / 1e6:.3f} ms"
              if it["metric"] != "error_rate" else
              f"   error rate {100 * b.get('error_rate', 0):.2f}% -> {100 * c.get('error_rate', 0):.2f}%"
              + ("" if b.get("error_rate") else " (new)"))
    print(f"   {stat}p {p_text(it.get('p_value'), it.get('p_text'))}{q}{ci}{drift}")
    if not steps:
        for rc in it.get("root_causes") or []:
            share = rc.get("share")
            print(f"   root cause: {rc.get('module_path', '?')}:{rc.get('name', rc['function_id'])} "
                  f"({rc['metric']}" + (f", explains {100 * min(share, 1):.0f}%" if share is not None else "") + ")"
                  + (f" - {rc['evidence']}" if rc.get("evidence") else ""))


def editor(base, key, service):
    """What an editor shows: functions found in the source by hud-index (stdin), figures by id."""
    funcs = [json.loads(line) for line in sys.stdin if line.strip()]
    body = json.dumps({"service": service,
                       "module_paths": sorted({f["module_path"] for f in funcs})}).encode()
    req = urllib.request.Request(f"{base}/v1/functions/by-module", data=body, method="POST",
                                 headers={"Authorization": f"Bearer {key}", "Cache-Control": "no-cache",
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        items = {i["function_id"]: i for i in json.load(r)["items"]}
    matched = 0
    for f in funcs:
        i = items.get(f["function_id"])
        where = f"{f['module_path']}:{f['start_line']}"
        if i is None:
            print(f"{where:22} {f['qualname']:28} (no production data)")
            continue
        matched += 1
        same = "same code" if i.get("source_code_hash") == f["source_code_hash"] else "code changed"
        print(f"{where:22} {f['qualname']:28} {i['calls']:6} calls  p95 {ms(i['p95'])}  "
              f"err {100 * i['error_rate']:4.1f}%  [{same}]")
    print(f"{matched} of {len(funcs)} functions in the source matched production data by function_id")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    lp = sub.add_parser("load")
    lp.add_argument("--url", required=True)
    lp.add_argument("--requests", type=int, default=400)
    rp = sub.add_parser("report")
    rp.add_argument("--url", required=True)
    rp.add_argument("--key", required=True, help="API key with the read role")
    rp.add_argument("--service", required=True)
    ep = sub.add_parser("editor")
    ep.add_argument("--url", required=True)
    ep.add_argument("--key", required=True, help="API key with the read role")
    ep.add_argument("--service", required=True)
    a = p.parse_args()
    if a.cmd == "load":
        load(a.url, a.requests)
    elif a.cmd == "editor":
        editor(a.url, a.key, a.service)
    else:
        report(a.url, a.key, a.service)


if __name__ == "__main__":
    main()
