"""Small workload: N calls of work(), reports what the sensor did to it."""
import os
import sys
import time


def work(i):
    return i * 2


def main():
    if os.environ.get("SMALL_INIT"):
        import hud_sensor
        hud_sensor.init()
    n = int(os.environ.get("SMALL_N", "1000"))
    for i in range(n):
        work(i)
    calls = n
    until = time.monotonic() + float(os.environ.get("SMALL_SECONDS", "0"))
    while time.monotonic() < until:
        for i in range(100):
            work(i)
        calls += 100
        time.sleep(0.005)
    print("calls", calls, flush=True)
    print("instrumented", "_hud_e" in work.__code__.co_names, flush=True)
    print("meta_path", ",".join(getattr(f, "__module__", "?") + "." + type(f).__name__ for f in sys.meta_path), flush=True)
    time.sleep(float(os.environ.get("SMALL_SLEEP", "0")))
    print("end-of-main", time.time(), flush=True)


if __name__ == "__main__":
    main()
