"""An exact reference for the sensor, in the same process: sys.settrace sees every call of the
functions the sensor instruments and records what the sensor should report for them: calls per
function (a generator or coroutine once, when its body starts), per caller edge (the nearest
instrumented function up the stack and the line it was at) and exceptions escaping a function by
type. Must not itself be instrumented (HUD_EXCLUDE_MODULES=exact_tracer).

A function counts as instrumented when its file lies under one of the given directories (the
packages the sensor was told to include) or is one of the given files, and it is a def (not a
lambda, comprehension, class or module body)."""

import dis
import json
import os
import sys

_CO_OPTIMIZED = 0x1
_GENLIKE = 0x20 | 0x80 | 0x100 | 0x200  # generator, coroutine, iterable coroutine, async generator
_IGNORED = (GeneratorExit, StopIteration, StopAsyncIteration)
_RERAISE = dis.opmap["RERAISE"]


class Tracer:
    def __init__(self, dirs, files=()):
        self.dirs = tuple(os.path.join(d, "") for d in dirs)
        self.files = set(files)
        self.calls = {}          # (file, qualname) -> count
        self.edges = {}          # (file, qualname, caller file, caller qualname, line) -> count
        self.excs = {}           # (file, qualname, type name) -> count
        self._mine = {}          # code -> bool
        self._first = {}         # code -> offset of its first RESUME
        self._last_exc = {}      # frame -> exception type seen last in it

    def mine(self, code):
        m = self._mine.get(code)
        if m is None:
            f = code.co_filename
            m = self._mine[code] = ((f in self.files or f.startswith(self.dirs)) and bool(code.co_flags & _CO_OPTIMIZED)
                                    and not code.co_name.startswith("<"))
        return m

    def _start_offset(self, code):
        off = self._first.get(code)
        if off is None:
            off = next(i.offset for i in dis.get_instructions(code) if i.opname == "RESUME")
            self._first[code] = off
        return off

    def trace(self, frame, event, arg):
        code = frame.f_code
        if not self.mine(code):
            return None
        frame.f_trace_lines = False
        if code.co_flags & _GENLIKE and frame.f_lasti != self._start_offset(code):
            return self.local  # a resumption: counted when the body started
        key = (code.co_filename, code.co_qualname)
        self.calls[key] = self.calls.get(key, 0) + 1
        f = frame.f_back
        while f is not None and not self.mine(f.f_code):
            f = f.f_back
        edge = key + ((f.f_code.co_filename, f.f_code.co_qualname, f.f_lineno) if f is not None else (None, None, 0))
        self.edges[edge] = self.edges.get(edge, 0) + 1
        return self.local

    def local(self, frame, event, arg):
        if event == "exception":
            self._last_exc[frame] = arg[1]
        elif event == "return":
            exc = self._last_exc.pop(frame, None)
            code = frame.f_code
            if exc is not None and code.co_code[frame.f_lasti] == _RERAISE and not _clean(exc):
                t = type(exc)
                name = t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"
                k = (code.co_filename, code.co_qualname, name)
                self.excs[k] = self.excs.get(k, 0) + 1
        return self.local

    def start(self):
        sys.settrace(self.trace)

    def stop(self):
        sys.settrace(None)

    def dump(self, path, module_paths):
        """Writes the records with each file named by its module path (relative to sys.path)."""
        mp = lambda f: module_paths.get(f, f)
        out = {"calls": [[mp(f), q, n] for (f, q), n in self.calls.items()],
               "edges": [[mp(f), q, mp(cf) if cf else None, cq, ln, n] for (f, q, cf, cq, ln), n in self.edges.items()],
               "exceptions": [[mp(f), q, t, n] for (f, q, t), n in self.excs.items()]}
        with open(path, "w") as fh:
            json.dump(out, fh)


def _clean(exc):
    if isinstance(exc, _IGNORED):
        return True
    return isinstance(exc, SystemExit) and (exc.code is None or exc.code == 0)


def module_paths(prefixes):
    """{file: module path} of the imported modules whose names start with one of PREFIXES, the way
    docs/protocol.md names them: the dotted name as a path, packages as <pkg>/__init__.py."""
    out = {}
    for name, m in list(sys.modules.items()):
        f = getattr(m, "__file__", None)
        if not f or not f.endswith(".py") or not any(name == p or name.startswith(p + ".") for p in prefixes):
            continue
        parts = name.split(".")
        out[f] = "/".join(parts) + ("/__init__.py" if f.endswith("__init__.py") else ".py")
    return out
