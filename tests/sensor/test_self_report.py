"""The sensor's report about itself: over fifty batches of the same work, overhead.memory_bytes
stays flat (what a period held is given back when the period is cleared)."""

import os

from sensor_support import WORKLOADS, Listener, by_name, check, run, sensor_env

W = os.path.join(WORKLOADS, "many_batches.py")


def main():
    lst = Listener()
    try:
        env = sensor_env(lst, HUD_FLUSH_INTERVAL=60)
        p = run(["-m", "hud_sensor", "run", W], env, timeout=60)
        check(p.returncode == 0 and "done" in p.stdout, f"workload failed {p.returncode}\n{p.stdout}\n{p.stderr}")
    finally:
        lst.close()
    b = sorted(lst.batches, key=lambda x: x["sent_at"])
    check(len(b) >= 50, f"{len(b)} batches for 50 flushes")
    check(by_name(b)["f3"]["count"] == 50 * 20, "f3 count")
    mem = [x.get("overhead", {}).get("memory_bytes", 0) for x in b]
    check(all(m > 0 for m in mem), f"memory_bytes missing: {mem}")
    # Batch 10 onwards: the tables have their working size; what follows is the same work.
    growth = max(mem[10:]) - mem[10]
    check(growth <= 8192, f"memory_bytes grew by {growth} bytes over {len(mem) - 10} batches of the same work: "
          f"{mem[10]} -> {mem[-1]}")
    print("ok: self report, memory_bytes", mem[10], "->", mem[-1], f"over {len(mem)} batches")


if __name__ == "__main__":
    main()
