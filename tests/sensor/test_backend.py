"""The backend misbehaves; the application does not notice. Retries keep the batch id and lose
nothing; a backlog that overflows drops whole batches and says so; an unreachable, slow or
key-refusing backend never delays the process beyond the 2-second exit budget."""

import os
import time

from sensor_support import WORKLOADS, Listener, by_name, check, run, sensor_env

APP = os.path.join(WORKLOADS, "small_app.py")


def end_delay(p):
    end = float([ln for ln in p.stdout.splitlines() if ln.startswith("end-of-main")][0].split()[1])
    return time.time() - end


def calls(p):
    return int([ln for ln in p.stdout.splitlines() if ln.startswith("calls ")][0].split()[1])


def retry_keeps_everything():
    lst = Listener(fail_first=3)
    try:
        env = sensor_env(lst, HUD_FLUSH_INTERVAL=0.2, SMALL_N=1000, SMALL_SECONDS=1.5)
        p = run(["-m", "hud_sensor", "run", APP], env, timeout=60)
        check(p.returncode == 0, p.stderr)
        time.sleep(0.2)
    finally:
        lst.close()
    got = by_name(lst.batches).get("work", {}).get("count", 0)
    check(got == calls(p), f"retried batches: received {got} calls of work, made {calls(p)}")
    retried = [i for i in lst.failed_ids if any(b["batch_id"] == i for b in lst.batches)]
    check(len(lst.failed_ids) == 3 and retried, f"503'd batches must come back with their id: {lst.failed_ids}")
    ids = [b["batch_id"] for b in lst.batches]
    check(len(ids) == len(set(ids)), "a batch was stored twice")


def backlog_overflow_is_counted():
    # Two refusals hold the sender in backoff (0.5 s then 1 s) while a batch is cut every 50 ms.
    lst = Listener(fail_first=2)
    try:
        env = sensor_env(lst, HUD_FLUSH_INTERVAL=0.05, HUD_BACKLOG=2, SMALL_SECONDS=2.5)
        p = run(["-m", "hud_sensor", "run", APP], env, timeout=60)
        check(p.returncode == 0, p.stderr)
        time.sleep(0.2)
    finally:
        lst.close()
    dropped = sum(b.get("dropped", {}).get("batches", 0) for b in lst.batches)
    dropped_inv = sum(b.get("dropped", {}).get("invocations", 0) for b in lst.batches)
    got = by_name(lst.batches).get("work", {}).get("count", 0)
    check(dropped > 0 and dropped_inv > 0, f"drops not reported: {[b.get('dropped') for b in lst.batches]}")
    check(0 < got < calls(p), f"received {got} of {calls(p)} calls; declarations per batch "
          f"{[len(b.get('declarations', [])) for b in lst.batches]}, 503s {len(lst.failed_ids)}")


def unreachable_slow_or_refused():
    # Nothing listens on port 1; the listener below answers after 20 s; the key is wrong.
    slow = Listener(delay=20)
    cases = [("unreachable", {"HUD_URL": "http://127.0.0.1:1"}),
             ("slow", {"HUD_URL": slow.url}),
             ("refused", {"HUD_URL": slow.url.replace(str(slow.port), str(slow.port)), "HUD_KEY": "wrong"})]
    try:
        for name, extra in cases:
            env = sensor_env(slow, HUD_FLUSH_INTERVAL=0.3, SMALL_SECONDS=1.0)
            env.update(extra)
            t0 = time.monotonic()
            p = run(["-m", "hud_sensor", "run", APP], env, timeout=60)
            check(p.returncode == 0, f"{name}: exit {p.returncode} {p.stderr}")
            d = end_delay(p)
            check(d < 3.0, f"{name}: exit took {d:.2f}s after main (budget 2 s)")
            check("Traceback" not in p.stderr, f"{name}: {p.stderr}")
    finally:
        slow.close()


def main():
    retry_keeps_everything()
    backlog_overflow_is_counted()
    unreachable_slow_or_refused()
    print("ok: backend")


if __name__ == "__main__":
    main()
