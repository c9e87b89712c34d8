"""Django's async path: async views served through ASGI by uvicorn (Debian's python3-django and
python3-uvicorn) under the sensor, sending to the real hud-server of this build. The server's
query API must answer with exact figures: each endpoint's flow (route template, calls, status
codes, errors), the async view and the coroutines it awaits (calls, errors, the flow they ran
in) and the caller edges at the await's line."""

import os
import signal
import shutil
import subprocess
import sys
import tempfile

from sensor_support import WORKLOADS, check, free_port, line_of, request, sensor_env, stop_server, wait_listening
from test_server import get, server_binary, start

APP = os.path.join(WORKLOADS, "fw_django_async.py")
SERVICE = "django-async"


def serve(env, port):
    p = subprocess.Popen([sys.executable, "-m", "hud_sensor", "run", "-m", "uvicorn", "fw_django_async:application",
                          "--host", "127.0.0.1", "--port", str(port), "--lifespan", "off"],
                         env=env, cwd=WORKLOADS, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return wait_listening(p, port, "uvicorn")


def main():
    binary = server_binary()
    tmp = tempfile.mkdtemp(prefix="hud-django-async-")
    db = os.path.join(tmp, "hud.db")
    srv = app = None
    try:
        keys = {}
        for role in ("ingest", "read"):
            out = subprocess.run([binary, "keys", "create", "--env", "test", "--role", role, "--db", db],
                                 capture_output=True, text=True, timeout=30)
            keys[role] = out.stdout.strip().splitlines()[0] if out.stdout.strip() else ""
            check(keys[role].startswith("hud_"), f"keys create: {out.stdout} {out.stderr}")
        srv, sport = start(binary, db)
        env = sensor_env(None)
        env.update({"HUD_ENABLE": "1", "HUD_URL": f"http://127.0.0.1:{sport}", "HUD_KEY": keys["ingest"],
                    "HUD_SERVICE": SERVICE, "HUD_FLUSH_INTERVAL": "0.5", "HUD_LOG_FILE": os.path.join(tmp, "sensor.log")})
        port = free_port()
        app = serve(env, port)
        for y in (2001, 2002, 2003, 2004, 2005):
            check(request(port, "GET", f"/articles/{y}/") == 200, f"GET /articles/{y}/")
        for _ in range(2):
            check(request(port, "GET", "/broken/") == 500, "GET /broken/")
        check(request(port, "GET", "/nope/") == 404, "GET /nope/")
        app.send_signal(signal.SIGTERM)  # uvicorn shuts down; the sensor's at-exit flush sends the rest
        out, _ = app.communicate(timeout=30)
        app = None
        with open(os.path.join(tmp, "sensor.log")) as fh:
            log = fh.read()
        check("failed" not in log and "sent batch" in log, f"the server refused batches:\n{log}\n{out}")
        rk = keys["read"]
        fl = {(f.get("method"), f.get("route")): f for f in get(sport, rk, "/v1/flows", {"service": SERVICE})["flows"]}
        art, brk, nope = fl.get(("GET", "/articles/<int:year>/")), fl.get(("GET", "/broken/")), fl.get(("GET", "<unmatched>"))
        check(art and art["calls"] == 5 and art["errors"] == 0, f"articles flow {art} (flows {sorted(fl, key=str)})")
        check(brk and brk["calls"] == 2 and brk["errors"] == 2, f"broken flow {brk}")
        check(nope and nope["calls"] == 1, f"unmatched flow {nope}")
        codes = lambda f: {int(k): v for k, v in (f.get("status_codes") or {}).items()} \
            if isinstance(f.get("status_codes"), dict) else {int(x["status"]): x["count"] for x in f["status_codes"]}
        check(codes(art) == {200: 5} and codes(brk) == {500: 2} and codes(nope) == {404: 1},
              f"status codes {codes(art)} {codes(brk)} {codes(nope)}")
        in_flow = lambda f: {x.get("name"): x["calls"] for x in f["functions"]}
        check(in_flow(art) == {"article": 5, "fetch_article": 5, "score": 5, "load_comments": 5},
              f"functions in the articles flow: {in_flow(art)}")
        check(in_flow(brk) == {"broken": 2, "fetch_article": 2}, f"functions in the broken flow: {in_flow(brk)}")
        top = {f["name"]: f for f in get(sport, rk, "/v1/functions/top", {"service": SERVICE, "limit": 100})["items"]
               if f.get("module_path") == "fw_django_async.py"}
        want = {"article": (5, 0), "fetch_article": (7, 0), "score": (5, 0), "load_comments": (5, 0), "broken": (2, 2)}
        got = {n: (top[n]["calls"], top[n]["errors"]) for n in top}
        check(got == want, f"functions on the server {got} != {want}")
        detail = get(sport, rk, f"/v1/functions/{top['fetch_article']['function_id']}", {"service": SERVICE})
        callers = sorted((c.get("name"), c["line"], c["calls"]) for c in detail["callers"])
        want_c = sorted([("article", line_of(APP, "@site-article-fetch"), 5),
                         ("broken", line_of(APP, "@site-broken-fetch"), 2)])
        check(callers == want_c, f"fetch_article callers {callers} != {want_c}")
        bd = get(sport, rk, f"/v1/functions/{top['broken']['function_id']}", {"service": SERVICE})
        check(bd["errors_by_type"] == {"KeyError": 2}, f"broken errors {bd['errors_by_type']}")
        # The sum of awaited time is there: a coroutine's duration covers its awaits (load_comments sleeps 1 ms).
        lc = top["load_comments"]
        check(lc.get("mean_duration", 0) >= 1e6, f"load_comments mean duration {lc.get('mean_duration')} < 1 ms")
        print("ok: django async", got, "flows", {k[1]: v["calls"] for k, v in fl.items()})
    finally:
        if app is not None:
            app.kill()
            app.communicate()
        if srv is not None:
            stop_server(srv)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
