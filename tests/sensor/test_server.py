"""The sensor against the real hud-server (from the build tree) on loopback with a real SQLite file:
every batch of the ground-truth workload is accepted by the server's validation, and the query
API answers with the workload's exact figures."""

import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

from sensor_support import WORKLOADS, check, run, sensor_env, stop_server

W = os.path.join(WORKLOADS, "ground_truth.py")


def server_binary():
    b = os.path.join(os.environ.get("HUD_BUILD_DIR", ""), "server", "hud-server")
    check(os.path.exists(b), f"hud-server not built at {b}")
    return b


def start(binary, db):
    p = subprocess.Popen([binary, "--db", db, "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = p.stdout.readline()
        if "listening on " in line:
            port = int(line.split("listening on ")[1].split()[0].rsplit(":", 1)[1])
            return p, port
        if not line and p.poll() is not None:
            break
    p.kill()
    raise AssertionError("hud-server did not start")


def get(port, key, path, params):
    url = f"http://127.0.0.1:{port}{path}?{urllib.parse.urlencode(params)}"
    # no-cache: read every batch acknowledged so far (the server folds them into its tables every 5 s).
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}", "Cache-Control": "no-cache"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def main():
    binary = server_binary()
    tmp = tempfile.mkdtemp(prefix="hud-sensor-srv-")
    db = os.path.join(tmp, "hud.db")
    srv = None
    try:
        # The sensor gets an ingest key, the queries below a read key (as in production).
        keys = {}
        for role in ("ingest", "read"):
            out = subprocess.run([binary, "keys", "create", "--env", "test", "--role", role, "--db", db],
                                 capture_output=True, text=True, timeout=30)
            keys[role] = out.stdout.strip().splitlines()[0] if out.stdout.strip() else ""
            check(keys[role].startswith("hud_"), f"keys create: {out.stdout} {out.stderr}")
        key, read_key = keys["ingest"], keys["read"]
        srv, port = start(binary, db)
        env = sensor_env(None)
        env.update({"HUD_ENABLE": "1", "HUD_URL": f"http://127.0.0.1:{port}", "HUD_KEY": key,
                    "HUD_SERVICE": "gt-server", "HUD_FLUSH_INTERVAL": "0.5", "HUD_VERSION": "v1",
                    "HUD_LOG_FILE": os.path.join(tmp, "sensor.log")})
        p = run(["-m", "hud_sensor", "run", W], env, timeout=60)
        check(p.returncode == 0, f"workload: {p.stdout} {p.stderr}")
        with open(os.path.join(tmp, "sensor.log")) as fh:
            log = fh.read()
        check("failed" not in log and "sent batch" in log, f"the server refused batches:\n{log}")
        top = get(port, read_key, "/v1/functions/top", {"service": "gt-server", "sort": "calls", "limit": 100})
        items = {f["name"]: f for f in top["items"]}
        want = {"leaf": 2008, "mid": 200, "boom": 30, "handler": 30, "top": 30, "aleaf": 40, "sleeper": 10}
        for name, n in want.items():
            check(name in items, f"{name} missing from top: {sorted(items)}")
            check(items[name]["calls"] == n, f"{name}: server has {items[name]['calls']} calls, expected {n}")
        check(items["boom"]["errors"] == 20 and items["handler"]["errors"] == 10 and items["top"]["errors"] == 0,
              f"errors: boom {items['boom']['errors']} handler {items['handler']['errors']}")
        # The workload times its own sleeps; a loaded machine oversleeps, so compare with that.
        own = {ln.split()[1]: int(ln.split()[2]) for ln in p.stdout.splitlines() if ln.startswith("measured ")}
        mean_ms = items["sleeper"]["mean_duration"] / 1e6
        own_ms = own["sleeper"] / 10 / 1e6
        check(abs(mean_ms - own_ms) <= 0.05 * own_ms, f"sleeper mean {mean_ms:.2f} ms, measured {own_ms:.2f} ms")
        # Exception paths at the protocol's limit and per raising line are accepted and stored.
        xw = os.path.join(WORKLOADS, "exact_paths.py")
        for case in ("deep_path", "origin_line"):
            env["HUD_SERVICE"] = "xp-server"
            p = run(["-m", "hud_sensor", "run", xw, case], env, timeout=60)
            check(p.returncode == 0, f"{case}: {p.stdout} {p.stderr}")
        with open(os.path.join(tmp, "sensor.log")) as fh:
            log = fh.read()
        check("failed" not in log, f"the server refused batches:\n{log}")
        xf = get(port, read_key, "/v1/exception-flows", {"service": "xp-server", "limit": 100})["flows"]
        got = sorted((x["exception_type"], x["origin"].get("name"), len(x["propagated_through"]),
                      (x.get("caught_in") or {}).get("name"), x["count"]) for x in xf)
        # The query adds up the raising lines (20 + 80); the records stay apart in the store.
        want_x = [("KeyError", "deep", 29, "catcher", 3), ("KeyError", "deep", 256, "catcher", 2),
                  ("ValueError", "parse", 0, "parse_all", 100)]
        check(got == want_x, f"exception paths on the server {got} != {want_x}")
        print("ok: server", {k: items[k]["calls"] for k in want}, "exception paths", got)
    finally:
        if srv is not None:
            stop_server(srv)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
