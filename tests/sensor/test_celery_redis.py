"""Celery against a real broker: Debian's redis-server started here as a plain background process
on 127.0.0.1 (a free port, no persistence), a Celery worker under the sensor consuming a queue,
tasks sent by a separate producer. The queue-consumer flows arrive with the task names, the queue,
exact task and error counts, and the tasks' functions are linked to their flow."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid

from sensor_support import WORKLOADS, Listener, by_name, check, flows, sensor_env

FLOW_NS = uuid.UUID("269bd917-969d-5169-949d-a972372cc36d")
W = os.path.join(WORKLOADS, "celery_redis.py")
N = 20


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def redis_ping(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def stop(proc, sig=signal.SIGTERM, timeout=10):
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main():
    server = shutil.which("redis-server") or "/usr/bin/redis-server"
    check(os.path.exists(server), "redis-server not found: scripts/dev.sh deps installs Debian's redis-server")
    port = free_port()
    redis = subprocess.Popen([server, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
                              "--daemonize", "no", "--dir", "/tmp", "--dbfilename", f"hud-test-{port}.rdb"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lst = Listener()
    worker = None
    try:
        deadline = time.monotonic() + 10
        while not redis_ping(port):
            check(redis.poll() is None, f"redis-server exited with {redis.returncode}")
            check(time.monotonic() < deadline, "redis-server did not answer PING within 10 s")
            time.sleep(0.05)
        broker = f"redis://127.0.0.1:{port}/0"
        env = sensor_env(lst, HUD_FLUSH_INTERVAL=60, CELERY_BROKER=broker, HUD_STATUS="stderr")
        worker = subprocess.Popen([sys.executable, "-m", "hud_sensor", "run", W, "worker"], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # The producer is a plain process (no sensor); it returns when every result is back.
        penv = sensor_env(None, CELERY_BROKER=broker)
        prod = subprocess.run([sys.executable, W, "produce", str(N)], env=penv, capture_output=True, text=True,
                              timeout=60)
        check(prod.returncode == 0 and f"produced {N}" in prod.stdout,
              f"producer failed {prod.returncode}: {prod.stdout}\n{prod.stderr}")
        stop(worker)  # warm shutdown: the worker exits normally and the sensor sends its final batch
        out, err = worker.communicate()
        check(worker.returncode == 0, f"worker exit {worker.returncode}\n{out}\n{err[-3000:]}")
        check("hud: sensor enabled" in err, f"worker not instrumented: {err[-2000:]}")
    finally:
        if worker is not None:
            stop(worker, signal.SIGKILL)
        stop(redis)
        lst.close()
    got = flows(lst.batches)
    add, fail = got.get((None, "fwq.add")), got.get((None, "fwq.fail"))
    check(add and add["count"] == N and add["errors"] == 0, f"fwq.add flow {add}")
    check(fail and fail["count"] == 3 and fail["errors"] == 3, f"fwq.fail flow {fail}")
    check(add["kind"] == "queue_consumer", f"kind {add['kind']}")
    qid = str(uuid.uuid5(FLOW_NS, "queue:fwq.add"))
    check(add["flow_id"] == qid, "queue flow id")
    recs = [f for b in lst.batches for f in b.get("flows", []) if f.get("task_name") == "fwq.add"]
    check(recs and all(f.get("queue") == "hudq" for f in recs), f"queue of fwq.add: {[f.get('queue') for f in recs]}")
    fexc = {}
    for b in lst.batches:
        for f in b.get("flows", []):
            if f.get("task_name") == "fwq.fail":
                for t, c in (f.get("exceptions") or {}).items():
                    fexc[t] = fexc.get(t, 0) + c
    check(fexc == {"ValueError": 3}, f"fwq.fail exceptions {fexc}")
    t = by_name(lst.batches)
    check(t["double"]["count"] == N and t["double"]["flows"].get(qid) == N, f"double {t['double']}")
    check(t["add"]["count"] == N, f"add {t['add']}")
    check(t["check_input"]["count"] == 3 and t["check_input"]["exceptions"] == {"ValueError": 3},
          f"check_input {t['check_input']}")
    fid = str(uuid.uuid5(FLOW_NS, "queue:fwq.fail"))
    check(t["fail"]["flows"].get(fid) == 3, f"fail {t['fail']}")
    print(f"ok: celery with redis-server on port {port}: {N} + 3 tasks")


if __name__ == "__main__":
    main()
