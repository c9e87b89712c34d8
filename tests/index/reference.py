#!/usr/bin/env python3
"""Conformance of hud-index with CPython itself.

For every .py file of a tree (default: this interpreter's standard library, without
site-packages), compile it and walk the code objects: co_qualname, co_firstlineno and the
CO_COROUTINE / CO_ASYNC_GENERATOR flags are the ground truth for qualname, start line and
async-ness. The end line is the ast end_lineno of the same function, and source_code_hash and
function_id follow docs/protocol.md (the rule the Python sensor uses). Then run hud-index over
the same tree and compare. Exit status 1 when agreement is below --min percent.

Files CPython cannot compile (deliberate syntax errors in test data, Python 2 sources) are
left out of the comparison and counted.
"""
import warnings
import argparse
import ast
import collections
import hashlib
import json
import multiprocessing
import os
import subprocess
import sys
import sysconfig
import time
import types
import uuid

CO_NEWLOCALS = 0x2
CO_COROUTINE = 0x80
CO_ASYNC_GENERATOR = 0x200
COMPREHENSIONS = {"<listcomp>", "<dictcomp>", "<setcomp>", "<genexpr>"}
FUNCTION_ID_NS = uuid.UUID("09c84c8d-8691-5743-8311-698989d60e14")


def source_hash(lines, start, end):
    """docs/protocol.md "source_code_hash": SHA-1 over the bytes of lines start..end, each
    with trailing b' \\t\\r\\f\\v' stripped and b'\\n' appended; no decoding."""
    h = hashlib.sha1()
    for line in lines[start - 1:end]:
        h.update(line.rstrip(b" \t\r\f\v") + b"\n")
    return h.hexdigest()


def ast_ends(tree):
    """(first line, name) -> [end_lineno, ...] in source order, first line as co_firstlineno."""
    ends = collections.defaultdict(list)

    def visit(node):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.decorator_list[0].lineno if node.decorator_list else node.lineno
            ends[(first, node.name)].append((node.lineno, node.col_offset, node.end_lineno))
        elif isinstance(node, ast.Lambda):
            ends[(node.lineno, "<lambda>")].append((node.lineno, node.col_offset, node.end_lineno))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    for v in ends.values():
        v.sort()
    return ends


def reference_file(args):
    warnings.simplefilter("ignore")
    path, module_path = args
    try:
        with open(path, "rb") as f:
            data = f.read()
        tree = compile(data, path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
        code = compile(tree, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, UnicodeError, RecursionError, MemoryError) as e:
        return module_path, None, "%s: %s" % (type(e).__name__, e)
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    ends = ast_ends(tree)
    used = collections.Counter()
    out = []

    def walk(co):
        for c in co.co_consts:
            if not isinstance(c, types.CodeType):
                continue
            if (c.co_flags & CO_NEWLOCALS) and c.co_name not in COMPREHENSIONS:
                key = (c.co_firstlineno, c.co_name)
                cands = ends.get(key, [])
                i = used[key]
                used[key] += 1
                end = cands[i][2] if i < len(cands) else c.co_firstlineno
                out.append((
                    c.co_qualname,
                    c.co_firstlineno,
                    bool(c.co_flags & (CO_COROUTINE | CO_ASYNC_GENERATOR)),
                    str(uuid.uuid5(FUNCTION_ID_NS, module_path + ":" + c.co_qualname)),
                    source_hash(lines, c.co_firstlineno, end),
                ))
            walk(c)

    walk(code)
    return module_path, out, None


def python_files(root):
    for d, dirs, files in os.walk(root):
        dirs[:] = sorted(x for x in dirs
                         if not x.startswith(".") and x not in ("site-packages", "__pycache__",
                                                                "node_modules"))
        for f in sorted(files):
            if f.endswith(".py"):
                p = os.path.join(d, f)
                yield p, os.path.relpath(p, root).replace(os.sep, "/")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hud-index", required=True, help="path of the hud-index program")
    ap.add_argument("--tree", default=sysconfig.get_paths()["stdlib"])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--min", type=float, default=99.9, help="minimum agreement in percent")
    ap.add_argument("--show", type=int, default=40, help="disagreements to print per kind")
    a = ap.parse_args()
    root = os.path.realpath(a.tree)

    t0 = time.monotonic()
    files = list(python_files(root))
    with multiprocessing.Pool(a.jobs) as pool:
        ref = pool.map(reference_file, files, chunksize=8)
    t1 = time.monotonic()
    proc = subprocess.run([a.hud_index, "-j", str(a.jobs), "--root", root, root],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    t2 = time.monotonic()
    hud = collections.defaultdict(list)
    for line in proc.stdout.splitlines():
        o = json.loads(line)
        hud[o["module_path"]].append((o["qualname"], o["start_line"], o["is_async"],
                                      o["function_id"], o["source_code_hash"],
                                      o["end_line"], o["kind"]))
    errors = proc.stderr.decode("utf-8", "replace").strip()

    total = agree = agree_hash = skipped = 0
    missing, extra, badhash = [], [], []
    for module_path, funcs, err in ref:
        if funcs is None:
            skipped += 1
            continue
        want = collections.Counter((q, s, y) for q, s, y, _, _ in funcs)
        got = collections.Counter((q, s, y) for q, s, y, *_ in hud.get(module_path, []))
        both = want & got
        total += sum(want.values()) + sum((got - want).values())
        agree += sum(both.values())
        missing += [(module_path,) + k for k in (want - got).elements()]
        extra += [(module_path,) + k for k in (got - want).elements()]
        want_h = collections.Counter(funcs)
        got_h = collections.Counter((q, s, y, fid, h) for q, s, y, fid, h, *_ in
                                    hud.get(module_path, []))
        agree_hash += sum((want_h & got_h).values())
        ends = {(q, s): e for q, s, _, _, _, e, _ in hud.get(module_path, [])}
        for k in (want_h - got_h).elements():
            if (k[0], k[1], k[2]) in both:
                badhash.append((module_path, k[0], k[1], ends.get((k[0], k[1]))))

    pct = 100.0 * agree / total if total else 0.0
    pct_h = 100.0 * agree_hash / total if total else 0.0
    print("files: %d compared, %d not compilable by CPython (left out)" %
          (len(ref) - skipped, skipped))
    print("functions: %d; qualname+start_line+is_async agree: %d (%.3f%%); "
          "with function_id+source_code_hash: %d (%.3f%%)" % (total, agree, pct, agree_hash, pct_h))
    print("time: reference %.1fs, hud-index %.1fs" % (t1 - t0, t2 - t1))
    for title, rows in (("missing from hud-index", missing), ("extra in hud-index", extra),
                        ("hash/id differs (module, qualname, start, hud end_line)", badhash)):
        if rows:
            print("%s: %d" % (title, len(rows)))
            for r in rows[:a.show]:
                print("  ", *r)
    if errors:
        print("hud-index stderr:\n" + errors[:4000])
    if proc.returncode not in (0, 1):
        print("hud-index exited with %d" % proc.returncode)
        return 1
    ok = pct >= a.min and pct_h >= a.min
    print("PASS" if ok else "FAIL: below %.2f%%" % a.min)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
