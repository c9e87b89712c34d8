"""Celery against a real Redis broker (test_celery_redis.py).

    celery_redis.py worker       a worker consuming queue `hudq` (solo pool: tasks run in this
                                 process, which the sensor instruments)
    celery_redis.py produce N    sends N fwq.add and 3 fwq.fail tasks, waits for their results

The broker and result backend are $CELERY_BROKER (redis://127.0.0.1:PORT/0)."""

import os
import sys

from celery import Celery

app = Celery("celery_redis", broker=os.environ["CELERY_BROKER"], backend=os.environ["CELERY_BROKER"])
app.conf.update(task_default_queue="hudq", worker_hijack_root_logger=False, broker_connection_retry_on_startup=True,
                worker_prefetch_multiplier=1)


def double(x):
    return 2 * x


@app.task(name="fwq.add")
def add(a, b):
    return double(a) + b


def check_input(k):
    if k >= 0:
        raise ValueError(f"bad input {k}")
    return k


@app.task(name="fwq.fail")
def fail(k):
    return check_input(k)


def produce(n):
    adds = [app.send_task("fwq.add", args=(i, 1), queue="hudq") for i in range(n)]
    fails = [app.send_task("fwq.fail", args=(k,), queue="hudq") for k in range(3)]
    got = [r.get(timeout=30) for r in adds]
    assert got == [2 * i + 1 for i in range(n)], got
    for r in fails:
        try:
            r.get(timeout=30)
        except ValueError:
            continue
        raise AssertionError("fwq.fail did not fail")
    print("produced", n, flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "worker":
        app.worker_main(["worker", "--pool=solo", "--queues=hudq", "--without-heartbeat", "--without-gossip",
                         "--without-mingle", "--loglevel=WARNING", "--hostname=hudtest@%h"])
    else:
        produce(int(sys.argv[2]))
