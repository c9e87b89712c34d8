"""Fork safety under contention: threads fork hundreds of times while a busy thread holds the GIL
and the sender takes it every 50 ms for a snapshot. Every fork completes and every child exits;
a fork hook that waits on the sender while holding the GIL deadlocks here (seen within a few
hundred forks)."""

import os
import signal
import subprocess
import sys

from sensor_support import WORKLOADS, Listener, check, sensor_env

W = os.path.join(WORKLOADS, "fork_storm.py")


def main():
    lst = Listener()
    try:
        env = sensor_env(lst, HUD_FLUSH_INTERVAL="0.05",
                         PYTHONFAULTHANDLER="1")
        p = subprocess.Popen([sys.executable, "-m", "hud_sensor", "run", W], env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        try:
            out, err = p.communicate(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGABRT)  # faulthandler prints every thread's stack
            out, err = p.communicate()
            check(False, f"the workload hung (a fork deadlocked):\n{out}\n{err[-4000:]}")
    finally:
        lst.close()
    check(p.returncode == 0, f"workload failed ({p.returncode}):\n{out}\n{err[-3000:]}")
    check(lst.batches, "no batch received: the sensor was not running")
    print(out.strip())
    print("ok: fork storm")


if __name__ == "__main__":
    main()
