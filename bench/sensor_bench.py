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

FIB = r'''
import sys, time
def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)
def main():
    best = 1e9
    for _ in range(5):
        t = time.perf_counter(); fib(25); best = min(best, time.perf_counter() - t)
    print("RESULT", best)
main()
'''

JSONW = r'''
import json, time
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
def main():
    best = 1e9
    for _ in range(5):
        t = time.perf_counter(); work(3000); best = min(best, time.perf_counter() - t)
    print("RESULT", best)
main()
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
    return env


def cmd(exe, mode, script):
    if mode == "base":
        return [exe, script]
    if mode == "hud":
        return [exe, "-m", "hud_sensor", "run", script]
    return [exe, "-m", "cProfile", "-o", os.devnull, script]


def timed(exe, moddir, sink, script, reps):
    best = {}
    for _ in range(reps):
        for mode in ("base", "hud", "cprofile"):
            p = subprocess.run(cmd(exe, mode, script), env=env_for(moddir, sink, mode == "hud"),
                               capture_output=True, text=True, timeout=600)
            m = re.search(r"RESULT ([0-9.e-]+)", p.stdout)
            if not m:
                raise SystemExit(f"{mode} {script} failed: {p.stdout}\n{p.stderr}")
            best[mode] = min(best.get(mode, 1e9), float(m.group(1)))
    return best


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
    ap.add_argument("--wrk-seconds", type=int, default=5)
    a = ap.parse_args()
    interps = interpreters(a.build_dir)
    if not interps:
        raise SystemExit("no sensor build found")
    sink = Sink()
    tmp = tempfile.mkdtemp(prefix="hud-sensor-bench-")
    try:
        for name, src in (("fib.py", FIB), ("jsonw.py", JSONW), ("flaskapp.py", FLASK)):
            with open(os.path.join(tmp, name), "w") as fh:
                fh.write(src)
        tag, exe, moddir = interps[0]
        print(f"sensor bench: {exe} ({tag}); best of {a.reps}, modes interleaved")
        for label, script, goal in (("fib(25)", "fib.py", 1.6), ("json workload", "jsonw.py", 1.03)):
            b = timed(exe, moddir, sink, os.path.join(tmp, script), a.reps)
            r = b["hud"] / b["base"]
            print(f"  {label:14s} base {b['base'] * 1e3:8.2f} ms | sensor {b['hud'] * 1e3:8.2f} ms = {r:5.3f}x "
                  f"(goal <= {goal}x) | cProfile {b['cprofile'] * 1e3:8.2f} ms = {b['cprofile'] / b['base']:5.2f}x")
        deb = [i for i in interps if i[1].startswith("/usr/bin/")]
        if deb and shutil.which("wrk"):
            _, dexe, dmod = deb[0]
            ok = subprocess.run([dexe, "-c", "import flask, gunicorn"], capture_output=True).returncode == 0
            if ok:
                rps = {"base": [], "hud": [], "cprofile": []}
                for _ in range(a.reps):
                    for mode in rps:
                        rps[mode].append(flask_rps(dexe, dmod, sink, tmp, mode, a.wrk_seconds))
                med = {m: sorted(v)[len(v) // 2] for m, v in rps.items()}
                loss = (1 - med["hud"] / med["base"]) * 100
                print(f"  flask (wrk)    base {med['base']:8.0f} req/s | sensor {med['hud']:8.0f} req/s = "
                      f"{loss:+.2f}% loss (goal <= 1%) | cProfile {med['cprofile']:8.0f} req/s = "
                      f"{(1 - med['cprofile'] / med['base']) * 100:+.1f}% loss  [median of {a.reps}; "
                      f"runs base {['%.0f' % x for x in rps['base']]} sensor {['%.0f' % x for x in rps['hud']]}]")
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
