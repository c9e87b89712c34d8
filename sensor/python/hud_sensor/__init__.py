"""hud runtime sensor for CPython: every function of the application measured, no code changes.

    import hud_sensor
    hud_sensor.init(key="...", service="orders")

or, without touching the code: `HUD_ENABLE=1 python -m hud_sensor run app.py [args]`
(also `-m module`), or, once installed with pip (which adds hud_sensor_autostart.pth), just
`HUD_ENABLE=1 python app.py`. Nothing happens unless HUD_ENABLE is set to a true value: then a status line
says so and nothing is patched.

Configuration (init() arguments win over the environment, which wins over the shared config file
$XDG_CONFIG_HOME/hud/config): HUD_KEY, HUD_SERVICE, HUD_URL, HUD_ENV, HUD_VERSION,
HUD_INCLUDE_MODULES / HUD_EXCLUDE_MODULES (comma-separated globs of module names), HUD_TAGS (JSON
object), HUD_LOG_FILE, HUD_FLUSH_INTERVAL (seconds, default 10), HUD_CPU_BUDGET (fraction,
default 0.01), HUD_BACKLOG (batches kept while the backend is unreachable, default 30),
HUD_SENSOR_CACHE (directory of rewritten modules, or off; docs/config.md).

Status lines ("hud: sensor enabled ...", "hud: HUD_ENABLE is not set ...") go to stdout by default;
HUD_STATUS=stderr (or init(status="stderr")) sends them to stderr, HUD_STATUS=off drops them, for
programs whose stdout is data (`python -m hud_sensor run tool.py | jq`).

HUD_KEY is an API key with the `ingest` role, made for the sensor alone:
`hud-server keys create --env prod --role ingest --label orders`. It can send batches and nothing else;
editors and hud-tui use a separate key with the `read` role.
"""

import atexit
import os
import socket
import sys

__all__ = ["init", "enabled", "flush", "stats", "shutdown"]
__version__ = "0.1.0"

_TRUE = {"1", "true", "yes", "on"}
_STREAMS = ("stdout", "stderr", "off")
_state = None
_stream = "stdout"


def _status_stream(arg):
    """Where status lines go: init(status=...), else HUD_STATUS, else stdout."""
    v = arg if arg is not None else os.environ.get("HUD_STATUS", "")
    v = str(v).strip().lower() or "stdout"
    if v not in _STREAMS:
        sys.stderr.write(f"hud: status stream {v!r} is not stdout, stderr or off: using stdout\n")
        sys.stderr.flush()
        return "stdout"
    return v


def _status(msg):
    if _stream == "off":
        return
    out = sys.stderr if _stream == "stderr" else sys.stdout
    try:
        print(f"hud: {msg}", file=out, flush=True)
    except (OSError, ValueError, AttributeError):
        pass  # a closed or missing stream must not stop the program


def enabled():
    return os.environ.get("HUD_ENABLE", "").strip().lower() in _TRUE


class _State:
    pass


def _globs(v):
    if not v:
        return []
    if isinstance(v, str):
        v = v.split(",")
    return [g.strip() for g in v if g and g.strip()]


def init(key=None, service=None, url=None, version=None, include_modules=None, exclude_modules=None,
         tags=None, log_file=None, flush_interval=None, env=None, cpu_budget=None, quiet=False,
         status=None, cache_dir=None, _main_code_instrumented=False, _script=None):
    """Starts the sensor. Returns True when it runs, False when disabled (HUD_ENABLE unset).
    STATUS: where status lines go, "stdout" (default), "stderr" or "off" (else HUD_STATUS).
    CACHE_DIR: directory of rewritten modules, or "off" (else HUD_SENSOR_CACHE; docs/config.md)."""
    global _state, _stream
    if _state is not None:
        return True
    _stream = _status_stream(status)
    say = (lambda m: None) if quiet else _status
    if not enabled():
        _status("HUD_ENABLE is not set: sensor disabled, nothing instrumented")
        return False
    try:
        import _hud_sensor as native
    except ImportError as e:
        _status(f"native module unavailable ({e}): sensor disabled")
        return False
    from . import _cache, _frameworks, _instrument

    e = os.environ
    if tags is None and e.get("HUD_TAGS"):
        import json
        try:
            tags = json.loads(e["HUD_TAGS"])
            if not isinstance(tags, dict):
                raise ValueError("not an object")
        except ValueError as err:
            say(f"HUD_TAGS ignored: {err}")
            tags = None
    cfg = {
        "key": key,
        "url": url,
        "service": service or e.get("HUD_SERVICE") or None,
        "version": version or e.get("HUD_VERSION") or None,
        "environment": env,
        "log_file": log_file or e.get("HUD_LOG_FILE") or None,
        "interval": float(flush_interval or e.get("HUD_FLUSH_INTERVAL") or 10.0),
        "budget": float(cpu_budget or e.get("HUD_CPU_BUDGET") or 0.01),
        "backlog": int(e.get("HUD_BACKLOG") or 30),
        "tags": {str(k): str(v) for k, v in (tags or {}).items()},
        "host": socket.gethostname(),
        "runtime": "cpython %d.%d.%d" % sys.version_info[:3],
    }
    if not cfg["service"]:
        main = _script or getattr(sys.modules.get("__main__"), "__file__", None) or "python"
        cfg["service"] = os.path.splitext(os.path.basename(main))[0]
    try:
        native.start(cfg)
    except (ValueError, RuntimeError, MemoryError) as err:
        _status(f"sensor not started: {err}")
        return False

    st = _State()
    st.native = native
    st.registry = _instrument.Registry(_cache.open_cache(cache_dir))
    st.selection = _instrument.Selection(
        _globs(include_modules) or _globs(e.get("HUD_INCLUDE_MODULES")),
        _globs(exclude_modules) or _globs(e.get("HUD_EXCLUDE_MODULES")))
    st.finder = _instrument.Finder(st.selection, st.registry)
    _state = st

    # Modules imported before us: rewrite them in place.
    loaded = [(name, mod) for name, mod in list(sys.modules.items())
              if mod is not None and not (name == "__main__" and _main_code_instrumented)
              and st.selection.wanted(name, getattr(mod, "__file__", None))]
    patched = _instrument.instrument_loaded_all(loaded, st.registry)
    st.finder.install()
    if not _main_code_instrumented:
        # init() runs at the top of the main script (or at start-up, from the auto-start .pth,
        # before the script is even loaded): its functions do not exist yet. Rewrite them shortly
        # after, from a daemon thread (assigning __code__ is atomic under the GIL).
        import threading
        t = threading.Timer(1.0, _instrument_main_later, args=(st,))
        t.daemon = True
        t.start()
    _frameworks.install(say)
    os.register_at_fork(before=native.before_fork, after_in_parent=native.after_fork_parent,
                        after_in_child=native.after_fork_child)
    atexit.register(shutdown)
    say(f"sensor enabled: service={cfg['service']} pid={os.getpid()} "
        f"({patched} functions of already imported modules instrumented)")
    return True


def _instrument_main_later(st):
    from . import _instrument
    main = sys.modules.get("__main__")
    if main is None or not st.selection.wanted("__main__", getattr(main, "__file__", None)):
        return
    try:
        _instrument.instrument_loaded(main, st.registry, "__main__")
    except Exception as err:
        st.registry.note_error("__main__", err)


def _instrument_cost():
    from . import _instrument
    return _instrument.rewrite_ns[0] / 1e9


def flush(timeout=5.0):
    """Sends what was recorded so far; True when the backend acknowledged it."""
    if _state is None:
        return False
    return _state.native.flush(float(timeout))


def stats():
    if _state is None:
        return {}
    d = _state.native.stats()
    d["modules"] = dict(_state.registry.modules)
    d["errors"] = dict(_state.registry.errors)
    d["rewrite_cpu_s"] = _instrument_cost()
    c = _state.registry.cache
    d["cache"] = dict(c.counts, dir=c.dir) if c is not None else None
    return d


def shutdown(timeout=2.0):
    """Final flush (bounded by TIMEOUT seconds); called at interpreter exit."""
    if _state is None:
        return False
    return _state.native.shutdown(float(timeout))
