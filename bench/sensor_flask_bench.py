"""Driver of bench/sensor_flask.sh: the sensor's cost per request of a Flask app, with 95% intervals.

Two gunicorn servers (one sync worker each) run the same app side by side on loopback, one plain
and one under `python -m hud_sensor run`. Each round sends the same number of requests to each, in
random order, and reads the CPU time the worker process used meanwhile (every thread's, so the
sensor's sender thread is charged too: /proc/PID/task/*/schedstat, nanoseconds). Pairing in time
cancels the machine's drift (other jobs, frequency); both workers of a pair are pinned to the same
CPU, and fresh pairs are started several times (alternating which starts first), because a single
pair carries its processes' own luck (a plain-vs-plain run showed 5% between two unpinned workers).
The figure is the ratio of the summed CPU times with a bootstrap 95% interval resampling pairs and
rounds within them (and a t interval on the per-pair log ratios as a cross-check); `--aa` runs the
same with two plain servers to check the method. Throughput of a CPU-bound server is the inverse of CPU per
request, so a ratio of 1.01 is a 1% throughput cost.

Second figure, independent of the machine's load: instructions per request (valgrind's callgrind,
read from the running process with callgrind_control between rounds, so start-up is never in it)
of the same app under werkzeug's single-process server (gunicorn's worker is a forked child, which
callgrind_control cannot reach). Plain and instrumented processes alternate; bootstrap interval over
processes and rounds. The sender sends one batch, at exit, so this is the cost in the request path
(the CPU figure includes the sender). Under valgrind time runs ~50x slower, so the per-second
sampling quota times more of the calls than at full speed: the instruction ratio errs on the high side.

With HUD_BENCH_CPU_BUDGET set (e.g. 1e-9: no timed calls after the sensor's first second) the
instrumented servers run under that HUD_CPU_BUDGET: the difference to a default run is what
timing costs, against the 1% its default budget allows.

`--inproc K`: a third figure, instructions per request with the WSGI app called in-process (no server;
cachegrind, 1200 - 200 requests so that start-up cancels), K processes per mode."""

import argparse
import http.client
import math
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sensor_bench import FLASK, Sink, env_for, free_port, interpreters  # noqa: E402


def task_cpu_ns(pid):
    total = 0
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{t}/schedstat") as fh:
                total += int(fh.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass  # a thread that just ended
    return total


def children(pid):
    out = []
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{t}/children") as fh:
                out += [int(x) for x in fh.read().split()]
        except OSError:
            pass
    return out


class Server:
    def __init__(self, exe, moddir, sink, appdir, hud):
        self.port = free_port()
        args = ["-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{self.port}", "--chdir", appdir, "flaskapp:app"]
        if hud:
            args = ["-m", "hud_sensor", "run"] + args
        env = env_for(moddir, sink, hud)
        env["PYTHONPATH"] += os.pathsep + appdir
        env.pop("HUD_FLUSH_INTERVAL", None)  # the default (10 s), as in production
        self.proc = subprocess.Popen([exe] + args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                self.get()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit("server did not start")
        kids = children(self.proc.pid)
        if len(kids) != 1:
            raise SystemExit(f"expected one gunicorn worker, found {kids}")
        self.worker = kids[0]

    def get(self):
        http_get(self.port)

    def round(self, n):
        c0 = task_cpu_ns(self.worker)
        for _ in range(n):
            self.get()
        return (task_cpu_ns(self.worker) - c0) / n

    def stop(self):
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)


SERVER = r"""
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
if os.environ.get("HUD_ENABLE"):
    import hud_sensor
    assert hud_sensor.init(quiet=True)
import flaskapp
from werkzeug.serving import make_server
make_server("127.0.0.1", int(sys.argv[1]), flaskapp.app).serve_forever()
"""


def callgrind_ir(pid):
    """Instructions the process has executed so far, all threads (callgrind_control -e Ir)."""
    r = subprocess.run(["callgrind_control", "-e", "Ir", str(pid)], capture_output=True, text=True, timeout=120)
    vals = [int(m.replace(",", "")) for m in re.findall(r"^\s*Th \d+\s+([\d,]+)", r.stdout, re.M)]
    if not vals:
        raise SystemExit(f"callgrind_control: {r.stdout} {r.stderr}")
    return sum(vals)


def served_instructions(exe, moddir, sink, tmp, mode, rounds, n):
    """Instructions per request of a single-process server (werkzeug's, under callgrind) over ROUNDS
    rounds of N requests, read from the running process: its start-up is never in the figure."""
    port = free_port()
    env = env_for(moddir, sink, mode == "hud")
    env["PYTHONPATH"] += os.pathsep + tmp
    env["PYTHONHASHSEED"] = "0"
    # One batch, at exit: under valgrind the default 10-s batches would fall on ~50x fewer requests
    # than at full speed. The CPU figure above includes the sender.
    env["HUD_FLUSH_INTERVAL"] = "3600"
    script = os.path.join(tmp, "server.py")
    with open(script, "w") as fh:
        fh.write(SERVER)
    p = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/cg.%p", exe, script, str(port)],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    out = []
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                http_get(port, 120)
                break
            except OSError:
                if time.monotonic() > deadline or p.poll() is not None:
                    raise SystemExit("server under callgrind did not start")
                time.sleep(0.2)
        for _ in range(20):  # warm-up
            http_get(port, 120)
        for _ in range(rounds):
            i0 = callgrind_ir(p.pid)
            for _ in range(n):
                http_get(port, 120)
            out.append((callgrind_ir(p.pid) - i0) / n)
    finally:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    return out


def http_get(port, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    c.request("GET", "/orders/7")
    r = c.getresponse()
    body = r.read()
    c.close()
    if r.status != 200 or not body:
        raise SystemExit(f"bad response {r.status}")


def instruction_figure(exe, moddir, sink, tmp, procs, rounds, n):
    per = {"plain": [], "hud": []}
    blocks = []
    for _ in range(procs):
        for mode in per:
            per[mode] += served_instructions(exe, moddir, sink, tmp, mode, rounds, n)
        blocks.append(range(len(per["plain"]) - rounds, len(per["plain"])))
    p, h = per["plain"], per["hud"]
    ratio = sum(h) / sum(p)
    lo, hi = bootstrap_blocks(p, h, blocks)
    print(f"  flask instructions/request (callgrind, werkzeug's single-process server, {procs} processes per mode x "
          f"{rounds} rounds of {n} requests) plain {statistics.fmean(p) / 1e3:.1f}k | sensor "
          f"{statistics.fmean(h) / 1e3:.1f}k (plain {min(p) / 1e3:.1f}k-{max(p) / 1e3:.1f}k, sensor "
          f"{min(h) / 1e3:.1f}k-{max(h) / 1e3:.1f}k)")
    print(f"  sensor/plain instructions per request {ratio:.4f} [{lo:.4f}, {hi:.4f}] 95% CI (bootstrap over processes "
          f"and rounds)")


# In-process: the app's WSGI callable called directly (no server, no sockets): Flask's own work and
# the sensor's, nothing else. Warm-up, then N requests.
INPROC = r"""
import io, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
if os.environ.get("HUD_ENABLE"):
    import hud_sensor
    assert hud_sensor.init(quiet=True)
import flaskapp
app = flaskapp.app
def start_response(status, headers, exc_info=None):
    pass
def environ():
    return {"REQUEST_METHOD": "GET", "PATH_INFO": "/orders/7", "QUERY_STRING": "", "SERVER_NAME": "x",
            "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "x", "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr}
for _ in range(200 + int(sys.argv[1])):
    b"".join(app(environ(), start_response))
"""


def inprocess_instructions(exe, moddir, sink, tmp, procs, n1=200, n2=1200):
    """Instructions per request with the WSGI app called in-process (cachegrind, N2 - N1 requests,
    so start-up cancels), PROCS process pairs per mode."""
    script = os.path.join(tmp, "inproc.py")
    with open(script, "w") as fh:
        fh.write(INPROC)

    def total(mode, n):
        env = env_for(moddir, sink, mode == "hud")
        env["PYTHONHASHSEED"] = "0"
        env["HUD_FLUSH_INTERVAL"] = "3600"  # one batch, at exit (as in the served figure)
        r = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
                            exe, script, str(n)], env=env, capture_output=True, text=True, timeout=900)
        m = re.search(r"I\s+refs:\s+([\d,]+)", r.stderr)
        if r.returncode != 0 or not m:
            raise SystemExit(f"cachegrind run failed: {r.stderr[-2000:]}")
        return int(m.group(1).replace(",", ""))

    per = {"plain": [], "hud": []}
    for _ in range(procs):
        for mode in per:
            per[mode].append((total(mode, n2) - total(mode, n1)) / (n2 - n1))
    p, h = statistics.fmean(per["plain"]), per["hud"]
    print(f"  flask instructions/request in-process (WSGI called directly, cachegrind, {n2} - {n1} requests, "
          f"{procs} process pairs per mode) plain {p / 1e3:.1f}k | sensor adds "
          f"{(min(h) - p) / 1e3:.1f}k-{(max(h) - p) / 1e3:.1f}k ({min(h) / p:.4f}-{max(h) / p:.4f})")


def bootstrap_blocks(a, b, blocks, iters=4000, seed=1):
    """95% percentile interval of sum(b)/sum(a), resampling server pairs, then rounds within each."""
    rng = random.Random(seed)
    rs = []
    for _ in range(iters):
        sa = sb = 0.0
        for _ in blocks:
            blk = blocks[rng.randrange(len(blocks))]
            for _ in blk:
                i = blk[rng.randrange(len(blk))]
                sa += a[i]
                sb += b[i]
        rs.append(sb / sa)
    rs.sort()
    return rs[int(0.025 * iters)], rs[int(0.975 * iters) - 1]


T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
        15: 2.131, 20: 2.086, 30: 2.042, 40: 2.021, 60: 2.000, 120: 1.980}


def t_interval_log(a, b):
    logs = [math.log(y / x) for x, y in zip(a, b)]
    m, s, n = statistics.fmean(logs), statistics.stdev(logs), len(logs)
    t = next((v for k, v in sorted(T975.items()) if n - 1 <= k), 1.96)
    h = t * s / math.sqrt(n)
    return math.exp(m), math.exp(m - h), math.exp(m + h)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--requests", type=int, default=50, help="requests per server per round")
    ap.add_argument("--pairs", type=int, default=10, help="server pairs, started one after another")
    ap.add_argument("--aa", action="store_true", help="both servers plain: checks the method itself")
    ap.add_argument("--cg-repeats", type=int, default=2, help="callgrind server processes per mode (0: skip)")
    ap.add_argument("--inproc", type=int, default=0,
                    help="also instructions per request with the WSGI app called in-process: cachegrind process "
                         "pairs per mode (0: skip)")
    a = ap.parse_args()
    if a.pairs < 2 or a.rounds < a.pairs:
        raise SystemExit("--pairs must be at least 2 and --rounds at least --pairs")
    deb = [i for i in interpreters(a.build_dir) if i[1].startswith("/usr/bin/")]
    if not deb:
        print("  flask CPU/request skipped: needs Debian's python3")
        return
    _, exe, moddir = deb[0]
    if subprocess.run([exe, "-c", "import flask, gunicorn"], capture_output=True).returncode != 0:
        print("  flask CPU/request skipped: flask/gunicorn missing for", exe)
        return
    sink = Sink()
    tmp = tempfile.mkdtemp(prefix="hud-flask-bench-")
    servers = {}
    try:
        with open(os.path.join(tmp, "flaskapp.py"), "w") as fh:
            fh.write(FLASK)
        # Fresh server pairs every few rounds: a process's own luck (memory layout, hash seed) is
        # then part of the spread the interval covers, not a bias of the ratio.
        per = {"plain": [], "hud": []}
        blocks = []
        order = random.Random(7)
        per_pair = max(1, a.rounds // a.pairs)
        cpus = sorted(os.sched_getaffinity(0))
        for k in range(a.pairs):
            first = ["plain", "hud"] if k % 2 == 0 else ["hud", "plain"]
            servers = {m: Server(exe, moddir, sink, tmp, m == "hud" and not a.aa) for m in first}
            # Both workers on the same CPU: one core may be busier (other jobs) than another, and a
            # worker left where the scheduler put it would carry that into the ratio.
            for srv in servers.values():
                os.sched_setaffinity(srv.worker, {cpus[k % len(cpus)]})
            for s in servers.values():  # warm-up: imports, caches, the sensor's first batch
                s.round(a.requests)
            start = len(per["plain"])
            for _ in range(per_pair):
                modes = ["plain", "hud"]
                order.shuffle(modes)
                for m in modes:
                    per[m].append(servers[m].round(a.requests))
            blocks.append(range(start, len(per["plain"])))
            for srv in servers.values():
                srv.stop()
            servers = {}
        p, h = per["plain"], per["hud"]
        ratio = sum(h) / sum(p)
        lo, hi = bootstrap_blocks(p, h, blocks)
        gm, tlo, thi = t_interval_log([sum(p[i] for i in b) for b in blocks], [sum(h[i] for i in b) for b in blocks])
        label = "plain(B)/plain(A), an A/A check" if a.aa else "sensor/plain"
        print(f"sensor flask bench: {exe}; gunicorn, 1 sync worker each, loopback; {a.pairs} server pairs x "
              f"{per_pair} interleaved rounds of {a.requests} requests per server")
        print(f"  flask CPU/request  plain {statistics.median(p) / 1e3:7.1f} us | {'plain(B)' if a.aa else 'sensor'} "
              f"{statistics.median(h) / 1e3:7.1f} us (medians over rounds)")
        print(f"  {label} CPU per request {ratio:.4f} [{lo:.4f}, {hi:.4f}] 95% CI (bootstrap over server pairs and "
              f"rounds); per-pair geometric mean {gm:.4f} [{tlo:.4f}, {thi:.4f}] (t, {a.pairs} pairs); goal <= 1.01")
        if a.cg_repeats and shutil.which("valgrind") and shutil.which("callgrind_control"):
            instruction_figure(exe, moddir, sink, tmp, a.cg_repeats, 4, 50)
        else:
            print("  flask instructions/request skipped (needs valgrind)")
        if a.inproc and shutil.which("valgrind"):
            inprocess_instructions(exe, moddir, sink, tmp, a.inproc)
        if sink.cpu_fraction:
            print(f"  sensor's own estimate: cpu_fraction max {max(sink.cpu_fraction) * 100:.2f}% over "
                  f"{len(sink.cpu_fraction)} batches")
    finally:
        for s in servers.values():
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
