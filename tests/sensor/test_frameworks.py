"""Real frameworks under the sensor, driven by real HTTP requests: Flask and Django under gunicorn
(two prefork workers: each reports its own state), FastAPI under uvicorn, Celery tasks. Endpoints
arrive with route templates, methods, exact counts and status codes, and the application's
functions are linked to the flow that ran them."""

import os
import signal
import subprocess
import sys
import time
import uuid

from sensor_support import (WORKLOADS, Listener, by_name, check, declarations, flows, free_port, request, run,
                             sensor_env, wait_listening)

FLOW_NS = uuid.UUID("269bd917-969d-5169-949d-a972372cc36d")


def endpoint_id(method, route):
    return str(uuid.uuid5(FLOW_NS, f"endpoint:{method} {route}"))


def serve(args, env, port):
    p = subprocess.Popen([sys.executable, "-m", "hud_sensor", "run", "-m"] + args, env=env, cwd=WORKLOADS,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return wait_listening(p, port)


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        out, _ = p.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
    return out


def wait_for(lst, pred, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pred(flows(lst.batches)):
            return
        time.sleep(0.1)


def expect_flows(name, got, want):
    for key, (count, status) in want.items():
        check(key in got, f"{name}: flow {key} missing; got {sorted(got, key=str)}")
        g = got[key]
        check(g["count"] == count, f"{name}: {key} count {g['count']} != {count}")
        check(g["status"] == status, f"{name}: {key} status {g['status']} != {status}")
        check(g["flow_id"] == endpoint_id(*key), f"{name}: {key} flow_id")
        errors = sum(c for s, c in status.items() if s >= 500)
        check(g["errors"] == errors, f"{name}: {key} errors {g['errors']} != {errors}")


def flask_gunicorn():
    lst = Listener()
    port = free_port()
    env = sensor_env(lst, HUD_FLUSH_INTERVAL=0.3)
    p = serve(["gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "fw_flask:app"], env, port)
    try:
        for i in range(6):
            check(request(port, "GET", f"/orders/{i}") == 200, "GET /orders")
        for _ in range(3):
            check(request(port, "POST", "/orders", b"{}") == 201, "POST /orders")
        for _ in range(2):
            check(request(port, "GET", "/fail") == 500, "GET /fail")
        check(request(port, "GET", "/nope") == 404, "GET /nope")
        want = {("GET", "/orders/<int:oid>"): (6, {200: 6}), ("POST", "/orders"): (3, {201: 3}),
                ("GET", "/fail"): (2, {500: 2}), ("GET", "<unmatched>"): (1, {404: 1})}
        wait_for(lst, lambda f: all(k in f and f[k]["count"] >= v[0] for k, v in want.items()))
    finally:
        out = stop(p)
        lst.close()
    got = flows(lst.batches)
    expect_flows("flask", got, want)
    pids = {b["pid"] for b in lst.batches}
    check(p.pid not in pids or len(pids) >= 2, f"flask: batches only from the master? {pids}")
    t = by_name(lst.batches)
    fid = endpoint_id("GET", "/orders/<int:oid>")
    check(t["lookup"]["count"] == 6 and t["lookup"]["flows"].get(fid) == 6, f"lookup flows {t['lookup']}")
    check(t["price"]["flows"].get(fid) == 6, f"price flows {t['price']}")
    check(t["fail"]["exceptions"] == {"RuntimeError": 2}, f"fail exceptions {t['fail']['exceptions']}")
    links = {}
    for b in lst.batches:
        for ff in b.get("flow_functions", []):
            k = (ff["flow_id"], ff["function_id"])
            links[k] = links.get(k, 0) + ff["count"]
    lookup_id = [d["function_id"] for d in declarations(lst.batches).values() if d["name"] == "lookup"][0]
    check(links.get((fid, lookup_id)) == 6, f"flow_functions link lookup x GET /orders: {links.get((fid, lookup_id))}")
    return sorted(pids)


def fastapi_uvicorn():
    lst = Listener()
    port = free_port()
    env = sensor_env(lst, HUD_FLUSH_INTERVAL=0.3)
    p = serve(["uvicorn", "--port", str(port), "--log-level", "warning", "fw_fastapi:app"], env, port)
    try:
        for i in range(5):
            check(request(port, "GET", f"/items/{i}") == 200, "GET /items")
        for i in range(3):
            check(request(port, "GET", f"/square/{i}") == 200, "GET /square")
        check(request(port, "GET", "/missing") == 404, "GET /missing")
        check(request(port, "GET", "/crash") == 500, "GET /crash")
        want = {("GET", "/items/{item_id}"): (5, {200: 5}), ("GET", "/square/{x}"): (3, {200: 3}),
                ("GET", "/missing"): (1, {404: 1}), ("GET", "/crash"): (1, {500: 1})}
        wait_for(lst, lambda f: all(k in f and f[k]["count"] >= v[0] for k, v in want.items()))
    finally:
        stop(p)
        lst.close()
    expect_flows("fastapi", flows(lst.batches), want)
    t = by_name(lst.batches)
    check(t["fetch_item"]["flows"].get(endpoint_id("GET", "/items/{item_id}")) == 5, f"fetch_item {t['fetch_item']}")
    check(t["compute"]["flows"].get(endpoint_id("GET", "/square/{x}")) == 3,
          f"compute (sync endpoint in the thread pool) {t['compute']}")


def django_gunicorn():
    lst = Listener()
    port = free_port()
    env = sensor_env(lst, HUD_FLUSH_INTERVAL=0.3)
    p = serve(["gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", "fw_django:application"], env, port)
    try:
        for y in (2001, 2002, 2003, 2004):
            check(request(port, "GET", f"/articles/{y}/") == 200, "GET /articles")
        check(request(port, "GET", "/broken/") == 500, "GET /broken")
        want = {("GET", "/articles/<int:year>/"): (4, {200: 4}), ("GET", "/broken/"): (1, {500: 1})}
        wait_for(lst, lambda f: all(k in f and f[k]["count"] >= v[0] for k, v in want.items()))
    finally:
        stop(p)
        lst.close()
    expect_flows("django", flows(lst.batches), want)
    t = by_name(lst.batches)
    check(t["summarize"]["flows"].get(endpoint_id("GET", "/articles/<int:year>/")) == 4, f"summarize {t['summarize']}")
    check(t["broken"]["exceptions"] == {"KeyError": 1}, f"broken {t['broken']}")


def celery_tasks():
    lst = Listener()
    try:
        env = sensor_env(lst, HUD_FLUSH_INTERVAL=60)
        p = run(["-m", "hud_sensor", "run", os.path.join(WORKLOADS, "fw_celery.py")], env, timeout=60)
        check(p.returncode == 0, p.stdout + p.stderr)
        time.sleep(0.2)
    finally:
        lst.close()
    got = flows(lst.batches)
    add, fail = got.get((None, "fw.add")), got.get((None, "fw.fail"))
    check(add and add["count"] == 4 and add["errors"] == 0, f"celery fw.add {add}")
    check(fail and fail["count"] == 1 and fail["errors"] == 1, f"celery fw.fail {fail}")
    qid = str(uuid.uuid5(FLOW_NS, "queue:fw.add"))
    check(add["flow_id"] == qid, "queue flow id")
    t = by_name(lst.batches)
    check(t["double"]["flows"].get(qid) == 4, f"double {t['double']}")


def main():
    pids = flask_gunicorn()
    fastapi_uvicorn()
    django_gunicorn()
    celery_tasks()
    print("ok: frameworks (flask worker pids %s)" % pids)


if __name__ == "__main__":
    main()
