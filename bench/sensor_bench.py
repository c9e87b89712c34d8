"""Driver of bench/sensor.sh. Each workload runs in fresh processes, the modes interleaved
(uninstrumented, sensor, cProfile) and repeated; the best time of each mode counts. The sensor
posts to a local listener that keeps the batches' own overhead figures (memory, sample rate)."""

import argparse
import gzip
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# fib and json: one process, the same source compiled plain and instrumented, runs interleaved
# (plain, sensor, cProfile) many times; the best time of each counts. Interleaving in one process
# keeps the ratio honest on a shared, noisy machine.
AB = r'''
import cProfile, os, sys, time
import hud_sensor
from hud_sensor import _instrument
WORK = {work!r}
ARG = {arg!r}
assert hud_sensor.init(quiet=True)
plain = {{}}
exec(compile(WORK, "work.py", "exec"), plain)
inst = dict(_instrument.HOOK_NAMES)
code, _ = _instrument.instrument_source(WORK.encode(), os.path.abspath("work.py"), "work.py")
exec(code, inst)
def once(ns, prof=None):
    if prof: prof.enable()
    t = time.perf_counter(); ns["entry"](ARG); d = time.perf_counter() - t
    if prof: prof.disable()
    return d
best = {{"base": 1e9, "hud": 1e9, "cprofile": 1e9}}
for _ in range({reps}):
    best["base"] = min(best["base"], once(plain))
    best["hud"] = min(best["hud"], once(inst))
    best["cprofile"] = min(best["cprofile"], once(plain, cProfile.Profile()))
print("RESULT", best["base"], best["hud"], best["cprofile"])
'''

FIB = '''
def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)
entry = fib
'''

JSONW = '''
import json
def make_order(i):
    return {"id": i, "customer": {"name": "c%d" % i, "tier": i % 3},
            "items": [{"sku": "S%d" % j, "qty": j, "price": 1.5 * j} for j in range(20)]}
def encode(order):
    return json.dumps(order)
def decode(text):
    return json.loads(text)
def roundtrip(i):
    return decode(encode(make_order(i)))
def work(n):
    total = 0
    for i in range(n):
        total += len(roundtrip(i)["items"])
    return total
entry = work
'''

FLASK = r'''
from flask import Flask, jsonify
app = Flask(__name__)
def load(oid):
    return {"id": oid, "lines": [price(oid, k) for k in range(5)]}
def price(oid, k):
    return oid * 10 + k
@app.route("/orders/<int:oid>")
def order(oid):
    return jsonify(load(oid))
'''


# Flask in-process through the test client: no sockets, so the per-request cost of the sensor
# (flow wrapper + instrumented user functions) is measured without wrk's network noise.
FLASK_TC = r'''
import os, sys, time
sys.path.insert(0, {appdir!r})
if os.environ.get("HUD_ENABLE"):
    import hud_sensor
    hud_sensor.init(quiet=True)
import flaskapp
c = flaskapp.app.test_client()
best = 1e9
for _ in range(15):
    t = time.perf_counter()
    for _ in range(300):
        c.get("/orders/7")
    best = min(best, time.perf_counter() - t)
print("RESULT", best / 300)
'''


class Sink:
    def __init__(self):
        self.memory = []
        self.sample_rate = []
        self.cpu_fraction = []
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    if self.headers.get("Content-Encoding") == "gzip":
                        body = gzip.decompress(body)
                    b = json.loads(body)
                    o = b.get("overhead", {})
                    outer.memory.append(o.get("memory_bytes", 0))
                    outer.sample_rate.append(o.get("sample_rate", 0))
                    outer.cpu_fraction.append(o.get("cpu_fraction", 0))
                except Exception:
                    pass
                data = b'{"batch_id":"x","duplicate":false,"records":0}'
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d" % self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()


def interpreters(build_dir):
    out = []
    with open(os.path.join(build_dir, "sensor", "python", "interpreters.txt")) as fh:
        for line in fh:
            tag, exe, d = line.split()
            out.append((tag, exe, d))
    return out


def env_for(moddir, sink, enable):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUD_")}
    env["PYTHONPATH"] = os.pathsep.join([os.path.join(ROOT, "sensor", "python"), moddir])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["XDG_CONFIG_HOME"] = "/nonexistent-hud-config"
    if enable:
        env.update({"HUD_ENABLE": "1", "HUD_URL": sink.url, "HUD_KEY": "bench", "HUD_SERVICE": "bench",
                    "HUD_FLUSH_INTERVAL": "1"})
        # HUD_BENCH_CPU_BUDGET: the sensor's HUD_CPU_BUDGET (a tiny one: no timed calls after the
        # first second), to measure what timing costs against what its budget allows.
        if os.environ.get("HUD_BENCH_CPU_BUDGET"):
            env["HUD_CPU_BUDGET"] = os.environ["HUD_BENCH_CPU_BUDGET"]
    return env


def timed(exe, moddir, sink, work, arg, reps, tmp):
    script = os.path.join(tmp, "ab.py")
    with open(script, "w") as fh:
        fh.write(AB.format(work=work, arg=arg, reps=reps))
    p = subprocess.run([exe, script], env=env_for(moddir, sink, True), capture_output=True, text=True,
                       timeout=900, cwd=tmp)
    m = re.search(r"RESULT ([0-9.e-]+) ([0-9.e-]+) ([0-9.e-]+)", p.stdout)
    if not m:
        raise SystemExit(f"bench failed: {p.stdout}\n{p.stderr}")
    return {"base": float(m.group(1)), "hud": float(m.group(2)), "cprofile": float(m.group(3))}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def flask_rps(exe, moddir, sink, appdir, mode, seconds):
    port = free_port()
    args = ["-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", "--chdir", appdir, "flaskapp:app"]
    if mode == "hud":
        args = ["-m", "hud_sensor", "run"] + args
    elif mode == "cprofile":
        args = ["-m", "cProfile", "-o", os.devnull] + args
    env = env_for(moddir, sink, mode == "hud")
    env["PYTHONPATH"] += os.pathsep + appdir
    p = subprocess.Popen([exe] + args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        subprocess.run(["wrk", "-t1", "-c4", "-d1s", f"http://127.0.0.1:{port}/orders/7"], capture_output=True)
        out = subprocess.run(["wrk", "-t1", "-c4", f"-d{seconds}s", f"http://127.0.0.1:{port}/orders/7"],
                             capture_output=True, text=True).stdout
        m = re.search(r"Requests/sec:\s+([0-9.]+)", out)
        if not m:
            raise SystemExit(f"wrk failed: {out}")
        return float(m.group(1))
    finally:
        os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--wrk-seconds", type=int, default=3)
    a = ap.parse_args()
    interps = interpreters(a.build_dir)
    if not interps:
        raise SystemExit("no sensor build found")
    sink = Sink()
    tmp = tempfile.mkdtemp(prefix="hud-sensor-bench-")
    try:
        with open(os.path.join(tmp, "flaskapp.py"), "w") as fh:
            fh.write(FLASK)
        tag, exe, moddir = interps[0]
        print(f"sensor bench: {exe} ({tag}); modes interleaved, best run of each")
        for label, work, arg, goal in (("fib(25)", FIB, 25, 1.6), ("json workload", JSONW, 3000, 1.03)):
            b = timed(exe, moddir, sink, work, arg, a.reps * 7, tmp)
            r = b["hud"] / b["base"]
            print(f"  {label:14s} base {b['base'] * 1e3:8.2f} ms | sensor {b['hud'] * 1e3:8.2f} ms = {r:5.3f}x "
                  f"(goal <= {goal}x) | cProfile {b['cprofile'] * 1e3:8.2f} ms = {b['cprofile'] / b['base']:5.2f}x")
        deb = [i for i in interps if i[1].startswith("/usr/bin/")]
        if deb and shutil.which("wrk"):
            _, dexe, dmod = deb[0]
            ok = subprocess.run([dexe, "-c", "import flask, gunicorn"], capture_output=True).returncode == 0
            if ok:
                script = os.path.join(tmp, "flask_tc.py")
                with open(script, "w") as fh:
                    fh.write(FLASK_TC.format(appdir=tmp))
                per = {"base": 1e9, "hud": 1e9}
                for _ in range(a.reps + 2):
                    for mode in per:
                        out = subprocess.run([dexe, script], env=env_for(dmod, sink, mode == "hud"),
                                             capture_output=True, text=True, timeout=300, cwd=tmp).stdout
                        m = re.search(r"RESULT ([0-9.e-]+)", out)
                        if not m:
                            raise SystemExit(f"flask test client run failed: {out}")
                        per[mode] = min(per[mode], float(m.group(1)))
                print(f"  flask (in-process test client) base {per['base'] * 1e6:7.1f} us/request | sensor "
                      f"{per['hud'] * 1e6:7.1f} us/request = {(per['hud'] / per['base'] - 1) * 100:+.2f}% time")
                rps = {"base": [], "hud": [], "cprofile": []}
                for _ in range(a.reps + 2):
                    for mode in rps:
                        rps[mode].append(flask_rps(dexe, dmod, sink, tmp, mode, a.wrk_seconds))
                best = {m: max(v) for m, v in rps.items()}
                loss = (1 - best["hud"] / best["base"]) * 100
                print(f"  flask (wrk)    base {best['base']:8.0f} req/s | sensor {best['hud']:8.0f} req/s = "
                      f"{loss:+.2f}% loss (goal <= 1%) | cProfile {best['cprofile']:8.0f} req/s = "
                      f"{(1 - best['cprofile'] / best['base']) * 100:+.1f}% loss  [best of {len(rps['base'])} "
                      f"interleaved {a.wrk_seconds}s runs; all: base {['%.0f' % x for x in rps['base']]} "
                      f"sensor {['%.0f' % x for x in rps['hud']]}]")
            else:
                print("  flask (wrk)    skipped: flask/gunicorn missing for", dexe)
        else:
            print("  flask (wrk)    skipped: needs Debian's python3 and wrk")
        if sink.memory:
            print(f"  sensor memory  max {max(sink.memory) / 1024:.0f} KiB (native heap reported in batches); "
                  f"sample rate min {min(sink.sample_rate):.4f}; "
                  f"self-estimated CPU share max {max(sink.cpu_fraction) * 100:.2f}%")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
