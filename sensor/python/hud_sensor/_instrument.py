"""Import-time instrumentation: an AST rewrite of the application's modules.

Every function body becomes

    _hud_e(IDX)                     # count the call (exact), maybe start timing it
    try:
        <original body>
    except BaseException:
        _hud_r(IDX)                 # the exception escaping the function
        raise
    finally:
        if _hud_T[IDX]:             # False, unless a call of this function is being timed: then an
            _hud_x(IDX)             # object whose truth test ends a timed frame's timing (and says
                                    # false, so this call is only a fallback)

The function gets no local of its own: the timing slot is kept in the native module by frame, so
locals(), co_varnames, co_nlocals and the signature are those of the original function.

Line numbers, co_firstlineno, docstrings, decorators and tracebacks stay as they were: the
inserted nodes carry the location of the body's first statement, and a bare `raise` inside an
except block re-raises without adding a traceback entry. Try blocks cost nothing on the normal
path (zero-cost exceptions since 3.11). See docs/architecture.md ("Python sensor: mechanism").

Modules imported after start-up go through a meta-path finder whose loader compiles the rewritten
tree (and never writes .pyc files, so an uninstrumented run never picks up instrumented
bytecode; the sensor keeps its own cache of rewritten code, _cache.py). Modules already imported
are rewritten the same way and their live function objects get the new code objects
(`func.__code__ = ...`), which keeps function identity, decorators and references intact.
"""

import ast
import fnmatch
import importlib.abc
import importlib.machinery
import os
import sys
import sysconfig
import time
import types

import _hud_sensor as _native

HOOK_NAMES = {"_hud_e": _native.e, "_hud_r": _native.r, "_hud_x": _native.x, "_hud_T": _native.timed}


# ---------------------------------------------------------------------------------------------
# Which modules are the application's


def _norm_dirs(paths):
    out = []
    for p in paths:
        if p:
            p = os.path.realpath(p)
            if p not in out:
                out.append(p)
    return out


_LIB_DIRS = _norm_dirs(
    [sysconfig.get_paths().get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")]
    + [os.path.dirname(os.__file__)]
)
_OWN_DIR = os.path.realpath(os.path.dirname(__file__))


def _under(path, dirs):
    return any(path == d or path.startswith(d + os.sep) for d in dirs)


_REAL_DIRS = {}


def _realpath(path):
    """os.path.realpath, resolving each directory once (every import asks)."""
    if os.path.islink(path):
        return os.path.realpath(path)
    d, base = os.path.split(os.path.abspath(path))
    real = _REAL_DIRS.get(d)
    if real is None:
        real = _REAL_DIRS[d] = os.path.realpath(d)
    return os.path.join(real, base)


class Selection:
    """HUD_INCLUDE_MODULES: comma-separated globs of module names that are instrumented even
    when they live in the standard library or site-packages; HUD_EXCLUDE_MODULES: never."""

    def __init__(self, include=(), exclude=()):
        self.include = [g.strip() for g in include if g.strip()]
        self.exclude = [g.strip() for g in exclude if g.strip()]

    def wanted(self, name, path):
        if not path or not path.endswith(".py"):
            return False
        if name == "hud_sensor" or name.startswith("hud_sensor.") or name.startswith("_hud_sensor"):
            return False
        if any(fnmatch.fnmatchcase(name, g) for g in self.exclude):
            return False
        if any(fnmatch.fnmatchcase(name, g) for g in self.include):
            return True
        real = _realpath(path)
        if _under(real, [_OWN_DIR]):
            return False
        if "site-packages" in real.split(os.sep) or "dist-packages" in real.split(os.sep):
            return False
        return not _under(real, _LIB_DIRS)


def module_path_of(name, path):
    """Path of the module file relative to the sys.path entry it was imported from."""
    parts = name.split(".") if name and name != "__main__" else []
    base = os.path.basename(path)
    if parts:
        if base == "__init__.py":
            rel = "/".join(parts) + "/__init__.py"
        else:
            rel = "/".join(parts[:-1] + [base])
        if path.replace(os.sep, "/").endswith("/" + rel) or path == rel:
            return rel
    return base


# ---------------------------------------------------------------------------------------------
# The rewrite


def _collect(stmts, prefix, out):
    """Appends (node, qualname) of the functions in STMTS, in source order, with CPython's
    __qualname__ rules. Only statement lists are walked: a def or class can only be a statement
    (lambdas and comprehensions hold none), and skipping expressions keeps this cheap."""
    for s in stmts:
        t = type(s)
        if t is ast.FunctionDef or t is ast.AsyncFunctionDef:
            qual = prefix + s.name
            out.append((s, qual))
            _collect(s.body, qual + ".<locals>.", out)
        elif t is ast.ClassDef:
            _collect(s.body, prefix + s.name + ".", out)
        elif isinstance(s, _COMPOUND):
            for f in s._fields:
                v = getattr(s, f)
                if type(v) is list and v:
                    if isinstance(v[0], ast.stmt):
                        _collect(v, prefix, out)
                    elif isinstance(v[0], _CLAUSES):
                        for h in v:
                            _collect(h.body, prefix, out)


_COMPOUND = tuple(getattr(ast, n) for n in ("If", "For", "AsyncFor", "While", "With", "AsyncWith", "Try",
                                            "TryStar", "Match") if hasattr(ast, n))
_CLAUSES = tuple(getattr(ast, n) for n in ("excepthandler", "match_case") if hasattr(ast, n))
_GEN_FLAGS = 0x20 | 0x200  # CO_GENERATOR | CO_ASYNC_GENERATOR (inspect costs an import)


def _first_line(node):
    if node.decorator_list:
        return min(d.lineno for d in node.decorator_list)
    return node.lineno


def _wrap_body(node, idx):
    body = node.body
    doc = []
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        doc, body = body[:1], body[1:]
        if not body:
            body = [ast.copy_location(ast.Pass(), doc[0])]
    anchor = body[0]
    # Every inserted node sits at the body's first statement.
    at = {"lineno": anchor.lineno, "col_offset": anchor.col_offset,
          "end_lineno": anchor.lineno, "end_col_offset": anchor.col_offset}
    load = ast.Load()

    def call(fn, arg):
        return ast.Call(ast.Name(fn, load, **at), [arg], [], **at)

    enter = ast.Expr(call("_hud_e", ast.Constant(idx, **at)), **at)
    handler = ast.ExceptHandler(type=ast.Name("BaseException", load, **at), name=None,
                                body=[ast.Expr(call("_hud_r", ast.Constant(idx, **at)), **at), ast.Raise(**at)],
                                **at)
    flag = ast.Subscript(ast.Name("_hud_T", load, **at), ast.Constant(idx, **at), load, **at)
    final = ast.If(test=flag, body=[ast.Expr(call("_hud_x", ast.Constant(idx, **at)), **at)], orelse=[], **at)
    tr = ast.Try(body=body, handlers=[handler], orelse=[], finalbody=[final], **at)
    tr.end_lineno = node.end_lineno
    node.body = doc + [enter, tr]


# Function indices are compiled in as placeholders BASE + k, with BASE far above any integer constant
# of the module, then set to the indices declare() gave. Where each function's index constant sits
# (a tree of co_consts positions) is recorded once, so later starts can set or just bind them
# without searching the code. A cached entry keeps the indices of the run that wrote it: a program
# that imports its modules in the same order gets the same indices and only binds.
_BASE0 = 7_340_035_209_134  # no round number: folded constants such as 1 << 40 stay clear of it
_CodeType = types.CodeType
_bind = _native.bind


def _rewrite(source, path):
    """(decls, base, tree, code): SOURCE parsed, its functions wrapped with placeholder indices,
    compiled; TREE says where the placeholders are (see _tree)."""
    tree = ast.parse(source, filename=path)
    funcs = []
    _collect(tree.body, "", funcs)
    base = _BASE0
    if str(base)[:6].encode() in source:  # the module spells out numbers near it: look closer
        used = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and type(n.value) is int}
        while any(base <= v < base + len(funcs) for v in used):
            base += 1 << 32
    for k, (n, _) in enumerate(funcs):
        _wrap_body(n, base + k)
    code = compile(tree, path, "exec", dont_inherit=True)
    # Each placeholder must be found exactly once, in its own function's code (constant folding
    # could in theory produce one elsewhere).
    seen = {}
    where = _tree(code, base, base + len(funcs), seen) or (-1, {})
    if sorted(seen) != list(range(base, base + len(funcs))):
        raise ValueError("hud: function index placeholders collide with the module's constants")
    decls = [(qual, _first_line(n), n.end_lineno or n.lineno, isinstance(n, ast.AsyncFunctionDef),
              bool(seen[base + k].co_flags & _GEN_FLAGS)) for k, (n, qual) in enumerate(funcs)]
    return decls, base, where, code


def _tree(code, base, top, seen):
    """(position of this code's own index in co_consts or -1, {position of a code constant: its
    tree}) for code objects that hold an index or contain ones that do; None for the others."""
    own, kids = -1, {}
    for i, c in enumerate(code.co_consts):
        t = type(c)
        if t is int and base <= c < top:
            own = i
            if c in seen:
                seen[-1] = code  # a duplicate: fails the caller's check
            seen[c] = code
        elif t is _CodeType:
            sub = _tree(c, base, top, seen)
            if sub is not None:
                kids[i] = sub
    return (own, kids) if own >= 0 or kids else None


def _relocate(code, node, delta):
    """CODE with every index constant of NODE moved by DELTA; each function's code gets bound."""
    own, kids = node
    consts = list(code.co_consts)
    if own >= 0:
        consts[own] += delta
    for i, sub in kids.items():
        consts[i] = _relocate(consts[i], sub, delta)
    code = code.replace(co_consts=tuple(consts))
    if own >= 0:
        _bind(consts[own], code)
    return code


def _bind_tree(code, node):
    own, kids = node
    if own >= 0:
        _bind(code.co_consts[own], code)
    consts = code.co_consts
    for i, sub in kids.items():
        _bind_tree(consts[i], sub)


# CPU time spent rewriting (parse, compile, cache, declare, patching live functions): part of the
# sensor's own cost. The native side adds it to the next batch's overhead.cpu_ns / cpu_fraction
# when it offers add_overhead_ns (the process CPU of that period includes it already).
rewrite_ns = [0]
_add_overhead = getattr(_native, "add_overhead_ns", None)


def _charge(t0):
    ns = time.thread_time_ns() - t0
    rewrite_ns[0] += ns
    if _add_overhead is not None and ns > 0:
        _add_overhead(ns)


def instrument_source(source, path, module_path, cache=None):
    """Declares and rewrites SOURCE (bytes) of file PATH, through CACHE (a _cache.Cache) when
    given. Returns (code, declared count)."""
    t0 = time.thread_time_ns()
    try:
        return _instrument_source(source, path, module_path, cache)
    finally:
        _charge(t0)


def _instrument_source(source, path, module_path, cache):
    entry = cache.load(path, source) if cache is not None else None
    fresh = entry is None
    if fresh:
        entry = _rewrite(source, path)
    decls, base, where, code = entry
    first = _native.declare(path, module_path, source, decls) if decls else 0
    if first != base or fresh:
        code = _relocate(code, where, first - base)
        if fresh and cache is not None:
            cache.store(path, source, (decls, first, where, code))
    else:
        _bind_tree(code, where)
    return code, len(decls)


def _iter_code(code):
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            yield c
            yield from _iter_code(c)


# ---------------------------------------------------------------------------------------------
# Import hook


class _Loader(importlib.machinery.SourceFileLoader):
    def __init__(self, fullname, path, module_path, registry):
        super().__init__(fullname, path)
        self._module_path = module_path
        self._registry = registry

    def exec_module(self, module):
        module.__dict__.update(HOOK_NAMES)
        super().exec_module(module)

    def get_code(self, fullname):
        source = self.get_data(self.path)
        try:
            code, n = instrument_source(source, self.path, self._module_path, self._registry.cache)
        except SyntaxError:
            raise
        except Exception as e:  # never break an import because of the sensor
            self._registry.note_error(fullname, e)
            return super().source_to_code(source, self.path)
        self._registry.note_module(fullname, n)
        return code


class Finder(importlib.abc.MetaPathFinder):
    def __init__(self, selection, registry):
        self.selection = selection
        self.registry = registry

    def find_spec(self, fullname, path, target=None):
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or type(spec.loader) is not importlib.machinery.SourceFileLoader:
            return spec  # PathFinder, next in sys.meta_path, would give the same answer
        origin = spec.origin
        if not self.selection.wanted(fullname, origin):
            return spec
        spec.loader = _Loader(fullname, origin, module_path_of(fullname, origin), self.registry)
        return spec

    def invalidate_caches(self):
        pass

    def install(self):
        """Goes right before PathFinder: finders ahead of it (built-in, frozen, any a program
        added) keep their turn, and PathFinder's answer is taken from here without a second search."""
        for i, f in enumerate(sys.meta_path):
            if f is importlib.machinery.PathFinder:
                sys.meta_path.insert(i, self)
                return
        sys.meta_path.append(self)


class Registry:
    def __init__(self, cache=None):
        self.cache = cache
        self.modules = {}
        self.errors = {}

    def note_module(self, name, n):
        self.modules[name] = n

    def note_error(self, name, e):
        self.errors[name] = repr(e)


# ---------------------------------------------------------------------------------------------
# Modules that were imported before the sensor started


def _new_codes(module, registry, name):
    """{(qualname, firstlineno): rewritten code} of MODULE's file, or None when it has none."""
    path = getattr(module, "__file__", None)
    if not path or not path.endswith(".py") or not os.path.exists(path):
        return None
    with open(path, "rb") as fh:
        source = fh.read()
    code, _ = instrument_source(source, path, module_path_of(name, path), registry.cache)
    new_codes = {}
    for c in _iter_code(code):
        new_codes.setdefault((c.co_qualname, c.co_firstlineno), c)
    return path, new_codes


def instrument_loaded_all(modules, registry):
    """Rewrites already imported MODULES ([(name, module)]) in place. Every live function whose
    code came from one of their files gets the rewritten code: not only those named in the module
    (globals, class dicts), but also closures and decorator wrappers built before the sensor
    started, wherever they are held (another module's globals, a registry list, a cell, a
    __wrapped__ chain): the garbage collector lists every function object. Returns the number of
    functions patched."""
    by_file, names = {}, {}
    for name, mod in modules:
        try:
            got = _new_codes(mod, registry, name)
        except Exception as err:  # keep going: one odd module must not stop the others
            registry.note_error(name, err)
            continue
        if got is None:
            continue
        path, codes = got
        mod.__dict__.update(HOOK_NAMES)
        by_file[path] = codes
        names[path] = name
    if not by_file:
        return 0
    import gc
    t0 = time.thread_time_ns()
    patched = dict.fromkeys(by_file, 0)
    fn_type = types.FunctionType
    for f in gc.get_objects():
        if type(f) is not fn_type:
            continue
        old = f.__code__
        codes = by_file.get(old.co_filename)
        if codes is None or "_hud_e" in old.co_names:
            continue
        new = codes.get((old.co_qualname, old.co_firstlineno))
        # The file may have changed since it was imported: a function whose signature, locals or
        # closure do not match the rewrite keeps its code.
        if new is None or new.co_freevars != old.co_freevars or new.co_argcount != old.co_argcount \
                or new.co_kwonlyargcount != old.co_kwonlyargcount or new.co_varnames != old.co_varnames:
            continue
        g = f.__globals__
        if g.get("_hud_e") is not HOOK_NAMES["_hud_e"]:
            g.update(HOOK_NAMES)
        f.__code__ = new
        patched[old.co_filename] += 1
    _charge(t0)
    for path, n in patched.items():
        registry.note_module(names[path], n)
    return sum(patched.values())


def instrument_loaded(module, registry, name=None):
    """Rewrites one already imported module in place (see instrument_loaded_all)."""
    return instrument_loaded_all([(name or module.__name__, module)], registry)


def instrument_main_file(path, registry):
    """Code of the main script, rewritten (for `python -m hud_sensor run script.py`)."""
    with open(path, "rb") as fh:
        source = fh.read()
    code, n = instrument_source(source, path, os.path.basename(path), registry.cache)
    registry.note_module("__main__", n)
    return code
