"""python -m hud_sensor run SCRIPT [args...]  |  python -m hud_sensor run -m MODULE [args...]

Runs a program with the sensor started first, so that the program's own main script is
instrumented too. With HUD_ENABLE unset the program runs untouched (one status line)."""

import os
import runpy
import sys
import types

import hud_sensor

USAGE = __doc__


def _run_script(path, args):
    path = os.path.abspath(path)
    sys.argv = [path] + args
    sys.path[0] = os.path.dirname(path)
    if not hud_sensor.init(_main_code_instrumented=True, _script=path):
        runpy.run_path(path, run_name="__main__")
        return
    # Imported only once the sensor runs: it needs the native module, which may be missing.
    from hud_sensor import _instrument
    code = _instrument.instrument_main_file(path, hud_sensor._state.registry)
    main = types.ModuleType("__main__")
    main.__file__ = path
    main.__builtins__ = __builtins__
    main.__dict__.update(_instrument.HOOK_NAMES)
    sys.modules["__main__"] = main
    exec(code, main.__dict__)


def _run_module(name, args):
    sys.argv = [name] + args
    sys.path[0] = os.getcwd()
    hooks = None
    if hud_sensor.init(_main_code_instrumented=True, _script=name):
        from hud_sensor import _instrument
        hooks = dict(_instrument.HOOK_NAMES)
    runpy.run_module(name, run_name="__main__", alter_sys=True, init_globals=hooks)


def main(argv):
    if len(argv) < 2 or argv[0] != "run":
        sys.stderr.write(USAGE)
        return 2
    if argv[1] == "-m":
        if len(argv) < 3:
            sys.stderr.write(USAGE)
            return 2
        _run_module(argv[2], argv[3:])
    else:
        _run_script(argv[1], argv[2:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
