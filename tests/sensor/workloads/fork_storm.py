"""Threads fork while another thread keeps the GIL busy and the sensor's sender takes the GIL
for its periodic work: a fork must never wait on the sender while holding the GIL."""

import os
import sys
import threading
import time


def spin(stop):
    # Holds the GIL between switch intervals, so the sender waits for it whenever it asks.
    while not stop.is_set():
        sum(range(2000))


def fork_once():
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def forker(n, bad):
    for _ in range(n):
        if fork_once() != 7:
            bad.append(1)


def main():
    n_threads, per_thread = 4, int(os.environ.get("STORM_FORKS", "150"))
    stop = threading.Event()
    spinner = threading.Thread(target=spin, args=(stop,))
    spinner.start()
    bad = []
    t0 = time.monotonic()
    threads = [threading.Thread(target=forker, args=(per_thread, bad)) for _ in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    spinner.join()
    print(f"forks {n_threads * per_thread} bad {len(bad)} in {time.monotonic() - t0:.1f}s", flush=True)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
