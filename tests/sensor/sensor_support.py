"""Helpers of the Python sensor's tests: a real HTTP ingest listener on loopback that decodes the
gzip batches the sensor posts, a runner for instrumented child processes, and views over the
received batches (per-function totals, caller edges, exception flows, flows).

The listener checks what hud-server's ingest checks at the HTTP level (POST /v1/ingest, bearer
key, gzip body, JSON object with the batch fields) and records every request as it arrived."""

import gzip
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KEY = "test-key-123"
SENSOR_SRC = os.path.join(os.environ.get("HUD_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", "..")),
                          "sensor", "python")
HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOADS = os.path.join(HERE, "workloads")


class Listener:
    """POST /v1/ingest on 127.0.0.1:<free port>. `fail_first` requests get 503 first."""

    def __init__(self, fail_first=0, delay=0.0, fail_until=0.0):
        self.fail_until = fail_until  # time.monotonic() before which every request gets 503
        self.failed_ids = []  # batch ids of the requests answered 503
        self.batches = []
        self.requests = []  # (status, headers) of every request
        self.fail_first = fail_first
        self.delay = delay
        self.lock = threading.Lock()
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                status, reply = outer._handle(self.path, dict(self.headers), body)
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _handle(self, path, headers, body):
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            self.requests.append((path, headers))
            if path != "/v1/ingest":
                return 404, {"error": {"code": "not_found", "message": path}}
            if headers.get("Authorization") != f"Bearer {KEY}":
                return 401, {"error": {"code": "unauthorized", "message": "bad key"}}
            if headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            batch = json.loads(body)
            if self.fail_first > 0 or time.monotonic() < self.fail_until:
                self.fail_first -= 1
                self.failed_ids.append(batch.get("batch_id"))
                return 503, {"error": {"code": "unavailable", "message": "try later"}}
            if not isinstance(batch, dict) or "batch_id" not in batch:
                return 400, {"error": {"code": "invalid_field", "message": "not a batch"}}
            if any(b["batch_id"] == batch["batch_id"] for b in self.batches):
                return 200, {"batch_id": batch["batch_id"], "duplicate": True, "records": 0}
            self.batches.append(batch)
            return 200, {"batch_id": batch["batch_id"], "duplicate": False, "records": 1}

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def module_dir():
    """Directory holding the native module built for this interpreter (set by CTest)."""
    d = os.environ.get("HUD_SENSOR_MODULE_DIR")
    if not d:
        raise SystemExit("HUD_SENSOR_MODULE_DIR is not set (run through ctest)")
    return d


_CACHE = []


def cache_dir():
    """A rewrite cache private to this test script (removed at exit): runs of one script share it,
    so the suites exercise both the cold and the warm path, and nothing lands in ~/.cache."""
    if not _CACHE:
        import atexit
        import shutil
        import tempfile
        _CACHE.append(tempfile.mkdtemp(prefix="hud-sensor-cache-"))
        atexit.register(shutil.rmtree, _CACHE[0], True)
    return _CACHE[0]


def sensor_env(listener=None, **extra):
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("HUD_") and k not in ("HUD_SENSOR_MODULE_DIR", "HUD_SOURCE_DIR", "HUD_BUILD_DIR"):
            del env[k]
    env["PYTHONPATH"] = os.pathsep.join([SENSOR_SRC, module_dir(), WORKLOADS])
    env["XDG_CONFIG_HOME"] = "/nonexistent-hud-config"
    env["HUD_SENSOR_CACHE"] = cache_dir()
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if listener is not None:
        env.update({"HUD_ENABLE": "1", "HUD_URL": listener.url, "HUD_KEY": KEY, "HUD_SERVICE": "sensor-test"})
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run(args, env, timeout=120, cwd=None):
    t0 = time.monotonic()
    p = subprocess.run([sys.executable] + args, env=env, capture_output=True, text=True, timeout=timeout, cwd=cwd)
    p.elapsed = time.monotonic() - t0
    return p


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


# ---- views over batches ---------------------------------------------------------------------------

def declarations(batches):
    out = {}
    for b in batches:
        for d in b.get("declarations", []):
            out[d["function_id"]] = d
    return out


def by_name(batches, pid=None):
    """name -> {count, sampled, sum, sumsq, self, exceptions{}, callers{(caller name, line): count}}."""
    decl = declarations(batches)
    names = {fid: d["name"] for fid, d in decl.items()}
    out = {}
    for b in batches:
        if pid is not None and b.get("pid") != pid:
            continue
        for inv in b.get("invocations", []):
            name = names.get(inv["function_id"], inv["function_id"])
            a = out.setdefault(name, {"count": 0, "sampled": 0, "sum": 0, "self": 0, "exceptions": {},
                                      "callers": {}, "flows": {}})
            a["count"] += inv["count"]
            a["sampled"] += inv.get("sampled_count", 0)
            a["sum"] += inv.get("sum_duration", 0)
            a["self"] += inv.get("self_duration", 0)
            for t, c in (inv.get("exceptions") or {}).items():
                a["exceptions"][t] = a["exceptions"].get(t, 0) + c
            cs = inv.get("caller_function_id") or []
            key = (names.get(cs[0][0], cs[0][0]) or None, cs[0][2]) if cs else (None, 0)
            a["callers"][key] = a["callers"].get(key, 0) + inv["count"]
            fl = inv.get("flow_id") or ""
            a["flows"][fl] = a["flows"].get(fl, 0) + inv["count"]
    return out


def flows(batches):
    out = {}
    for b in batches:
        for f in b.get("flows", []):
            key = (f.get("method"), f.get("route")) if f.get("kind") in ("endpoint", 1) else (None, f.get("task_name"))
            a = out.setdefault(key, {"count": 0, "errors": 0, "status": {}, "flow_id": f["flow_id"], "kind": f.get("kind")})
            a["count"] += f["count"]
            a["errors"] += f.get("error_count", 0)
            sc = f.get("status_codes") or {}
            items = sc.items() if isinstance(sc, dict) else [(str(x["status"]), x["count"]) for x in sc]
            for s, c in items:
                a["status"][int(s)] = a["status"].get(int(s), 0) + c
    return out


def line_of(path, marker):
    with open(path) as fh:
        for i, line in enumerate(fh, 1):
            if marker in line:
                return i
    raise AssertionError(f"marker {marker!r} not in {path}")


# ---- identity, computed independently of the C code (docs/protocol.md rules) ----------------------

NS = uuid.UUID("09c84c8d-8691-5743-8311-698989d60e14")


def function_id(module_path, qualname):
    return str(uuid.uuid5(NS, f"{module_path}:{qualname}"))


def source_hash(path, start, end):
    with open(path, "rb") as fh:
        lines = fh.read().split(b"\n")
    h = hashlib.sha1()
    for ln in lines[start - 1:end]:
        h.update(ln.rstrip(b" \t\r\f\v") + b"\n")
    return h.hexdigest()


# ---- servers the tests start (frameworks under the sensor, hud-server) ----

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def request(port, method, path, body=None):
    """The HTTP status of METHOD PATH on 127.0.0.1:PORT (errors too)."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method, data=body)
    try:  # 60 s: a cold start on a loaded 2-core machine (rewrite and import under the sensor)
        with urllib.request.urlopen(req, timeout=60) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as e:
        e.read()
        return e.code


def wait_listening(p, port, what="server", seconds=30):
    """Returns P once 127.0.0.1:PORT accepts connections; fails with P's output if it died or never listened."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return p
        except OSError:
            if p.poll() is not None:
                raise AssertionError(f"{what} died: {p.stdout.read()}")
            time.sleep(0.1)
    p.kill()
    raise AssertionError(f"{what} did not listen: {p.stdout.read()}")


def stop_server(p, seconds=20):
    """SIGTERM, then SIGKILL after SECONDS."""
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
