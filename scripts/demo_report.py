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
    # hud-server stores issues after the fold that brings the data (a pass per service at most every 5 s):
    # wait for them, bounded.
    issues = []
    for _ in range(60):
        issues = get(base, key, "/v1/issues", service=service)["issues"]
        if issues:
            break
        time.sleep(0.5)
    if not issues:
        print("none")
    for it in issues:
        conf = 100 * it["confidence"]
        print(f"{it.get('headline') or it.get('subject_name', it['subject_id'])}  "
              f"[{it['status']}, {it['comparison']}, p {it.get('p_text') or format(it['p_value'], '.2g')}, "
              f"{conf:.{0 if conf == int(conf) else 1}f}% interval {it['ci_low'] / 1e6:+.2f}..{it['ci_high'] / 1e6:+.2f} ms"
              + (", code changed" if it.get("code_changed") else "") + "]")
        for fl in it.get("affected_flows", []):
            print(f"   {fl.get('name', fl['flow_id'])}: {fl['effect'] / 1e6:+.2f} ms per request "
                  f"({fl['effect_pct']:+.0f}%)")
        path = " -> ".join(st.get("name", st["function_id"]) for st in it.get("call_path", []))
        if path:
            print(f"   call path: {path}")
        for rc in it["root_causes"]:
            print(f"   root cause: {rc.get('module_path', '?')}:{rc.get('name', rc['function_id'])} "
                  f"({rc['metric']}, explains {100 * rc['share']:.0f}%)"
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
