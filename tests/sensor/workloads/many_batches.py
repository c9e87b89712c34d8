"""Fifty batches of the same work (test_self_report.py): the sensor's memory must stay flat."""

import _hud_sensor

import hud_sensor


def f0(x): return x
def f1(x): return x + 1
def f2(x): return x + 2
def f3(x): return x + 3
def f4(x): return x + 4
def f5(x): return x + 5
def f6(x): return x + 6
def f7(x): return x + 7
def f8(x): return x + 8
def f9(x): return x + 9


def work():
    for i in range(20):
        f0(i), f1(i), f2(i), f3(i), f4(i), f5(i), f6(i), f7(i), f8(i), f9(i)


def main():
    flow = _hud_sensor.flow_queue("many_batches.task")
    for _ in range(50):
        work()
        _hud_sensor.flow_record(flow, 0, 1000, None)
        hud_sensor.flush()


if __name__ == "__main__":
    main()
    print("done", flush=True)
