"""Workloads whose counts, edges and exception paths are known exactly (test_exact_paths.py).
argv[1] names the case; markers in comments name the lines the test looks up."""

import sys
import time


# ---- gen_resume: a generator started by one caller, resumed by another, raising ----

def gen(n):
    yield n
    raise ValueError(n)  # @raise-gen


def starter(g):
    return next(g)  # @site-starter-gen


def finisher(g):
    try:
        next(g)  # @site-finisher-gen
    except ValueError:
        return 1
    return 0


class Pause:
    def __await__(self):
        yield


async def coro(n):
    await Pause()
    raise KeyError(n)  # @raise-coro


def cstarter(c):
    c.send(None)  # @site-cstarter-coro


def cfinisher(c):
    try:
        c.send(None)
    except KeyError:
        return 1
    return 0


def case_gen_resume():
    for i in range(10):
        g = gen(i)
        starter(g)
        finisher(g)
    for i in range(7):
        c = coro(i)
        cstarter(c)
        cfinisher(c)


# ---- unfinished: calls still running when the program ends ----

def pending(k):
    yield k
    yield k + 1


KEEP = []


def case_unfinished():
    for k in range(3):
        g = pending(k)
        next(g)
        KEEP.append(g)
    # Several periodic flushes while the calls are still running.
    time.sleep(0.5)


# ---- origin_line: one (type, path, catcher), two raising lines ----

def parse(k):
    if k % 5 == 0:
        raise ValueError("a")  # @raise-a
    raise ValueError("b")  # @raise-b


def parse_all():
    for k in range(100):
        try:
            parse(k)
        except ValueError:
            pass


def case_origin_line():
    parse_all()


# ---- deep_path: 30 and 300 frames between the raise and the catcher ----

def deep(n):
    if n == 0:
        raise KeyError("x")  # @raise-deep
    return deep(n - 1)


def get_single_data(n):
    return deep(n)


def load(n):
    return get_single_data(n)


def catcher(n):
    try:
        load(n)
    except KeyError:
        return 1
    return 0


def case_deep_path():
    for _ in range(3):
        catcher(27)  # deep x 28, get_single_data, load: 30 functions
    for _ in range(2):
        catcher(300)  # 303 functions: over the protocol's 256


if __name__ == "__main__":
    globals()["case_" + sys.argv[1]]()
    print("done", sys.argv[1], flush=True)
