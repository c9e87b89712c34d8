"""A workload whose calls, exceptions and caller edges are known exactly (see test_ground_truth.py).
Markers in comments name the call sites the test looks up."""

import asyncio
import os
import sys
import threading
import time

THREADS = 4
PER_THREAD = 50
INNER = 10


def leaf(x):
    return x + 1


def mid(n):
    s = 0
    for i in range(n):
        s += leaf(i)  # @site-mid-leaf
    return s


def worker(n):
    for _ in range(n):
        mid(INNER)  # @site-worker-mid


def boom(k):
    if k % 3 == 0:
        raise ValueError(k)  # @raise-value
    if k % 3 == 1:
        raise KeyError(k)
    return k


def handler(k):
    try:
        return boom(k)  # @site-handler-boom
    except ValueError:
        return -1


def top(k):
    try:
        return handler(k)  # @site-top-handler
    except KeyError:
        return -2


MEASURED = {}


def measured(name, ns):
    MEASURED[name] = MEASURED.get(name, 0) + ns


def sleeper(ms):
    t0 = time.perf_counter_ns()
    time.sleep(ms / 1000.0)
    measured("sleeper", time.perf_counter_ns() - t0)


def nap(ms):
    time.sleep(ms / 1000.0)


def sleepy_parent():
    t0 = time.perf_counter_ns()
    nap(30)
    nap(30)
    r = sum(range(100))
    measured("sleepy_parent", time.perf_counter_ns() - t0)
    return r


# A call that runs for long: its first call is sampled (a function's first calls are), and its
# 2,000 calls of tick() are timed for its self time, but only the first 64 and then at a stride
# (src/hot.c, kid()): its self time, its own spin, must still agree, and the process make a few
# hundred timed calls for it, not one per call. (tick() is called 100,000 times first, doing
# nothing, so that its own sampling has slowed down by then; its calls here take ~20 us each, so
# that a context switch in a timed one, whose duration stands for up to 32 calls, stays small
# against the loop's own 150 ms.)
def tick(k, m):
    x = 0
    for j in range(m):
        x = (x + j * k) & 0xFFFF
    return x


def run_queue_wait_ns():
    """How long this thread has waited for a CPU so far (the scheduler's own count)."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            return int(f.read().split()[1])
    except OSError:
        return 0


def loop(n, ms):
    x = 0
    for i in range(n):
        x ^= tick(i, 300)
    t0 = time.perf_counter_ns()
    end = t0 + ms * 1000000
    while time.perf_counter_ns() < end:
        pass
    measured("loop", time.perf_counter_ns() - t0)
    return x


def gen(n):
    for i in range(n):
        yield leaf(i)  # @site-gen-leaf


async def aleaf(i):
    await asyncio.sleep(0)
    return i


async def amain(n):
    for i in range(n):
        await aleaf(i)  # @site-amain-aleaf
    await asyncio.gather(*(aleaf(i) for i in range(n)))


async def aslow():
    t0 = time.perf_counter_ns()
    await asyncio.sleep(0.03)
    measured("aslow", time.perf_counter_ns() - t0)


class Shape:
    def area(self):
        return leaf(1)  # @site-area-leaf

    @staticmethod
    def unit():
        return 1

    @classmethod
    def make(cls):
        return cls()

    def outer(self):
        def inner(v):
            return v * 2

        return [inner(i) for i in range(3)]


def quit_clean(code):
    sys.exit(code)


def quit_failing():
    sys.exit(3)


def forked_work():
    return 42


def main():
    threads = [threading.Thread(target=worker, args=(PER_THREAD,)) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(30):
        top(k)  # @site-main-top
    for ms in (20, 50):
        for _ in range(5):
            sleeper(ms)
    sleepy_parent()
    for i in range(100000):
        tick(i, 0)
    import hud_sensor

    timed0 = hud_sensor.stats()["timed_calls"]
    wait0 = run_queue_wait_ns()
    loop(2000, 150)
    print("loop-timed", hud_sensor.stats()["timed_calls"] - timed0, run_queue_wait_ns() - wait0, flush=True)
    asyncio.run(amain(20))
    asyncio.run(aslow())
    total = sum(gen(7))
    s = Shape.make()
    s.area()
    Shape.unit()
    s.outer()
    for code in (None, 0):
        try:
            quit_clean(code)
        except SystemExit:
            pass
    try:
        quit_failing()
    except SystemExit:
        pass
    if os.environ.get("GT_FORK"):
        pid = os.fork()
        if pid == 0:
            for _ in range(5):
                forked_work()
            sys.stdout.flush()
            # A normal exit, so that the child's own at-exit flush runs.
            sys.exit(0)
        _, status = os.waitpid(pid, 0)
        print("child exit", os.waitstatus_to_exitcode(status))
    print("done", total, flush=True)
    for k, v in sorted(MEASURED.items()):
        print("measured", k, v, flush=True)
    print("end-of-main", time.time(), flush=True)


if __name__ == "__main__":
    main()
