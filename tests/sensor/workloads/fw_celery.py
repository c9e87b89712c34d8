"""Celery tasks for the framework test (eager mode: the task runs through Celery's tracer in-process)."""
import os

from celery import Celery

app = Celery("fw_celery")
app.conf.task_always_eager = True


def double(x):
    return 2 * x


@app.task(name="fw.add")
def add(a, b):
    return double(a) + b


@app.task(name="fw.fail")
def fail():
    raise ValueError("task failed")


def main():
    for i in range(4):
        add.delay(i, 1).get()
    r = fail.apply()
    print("fail state", r.state, flush=True)


if __name__ == "__main__":
    main()
