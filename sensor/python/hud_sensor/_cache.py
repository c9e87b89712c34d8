"""On-disk cache of rewritten modules, the way CPython caches bytecode in __pycache__.

An entry holds what the rewrite produced for one source file: the function declarations, the
function indices' base and positions, and the compiled code object (marshal). It is valid for exactly
one (source file path, source content, interpreter, sensor, optimisation level): the key digest
covers the SHA-1 of the source, importlib's MAGIC_NUMBER and cache tag, the sensor's version and
the SHA-1 of the rewrite's own code, and sys.flags.optimize. Any change gives a different digest,
so a stale entry is never used and is overwritten by the next start.

File layout: b"HUDC" | MAGIC_NUMBER (4) | key digest (20) | body SHA-1 (20) | marshal body. A
truncated or damaged file fails the body check and is ignored. Writes go to a temporary file in
the same directory, then os.replace(): concurrent workers each write a complete file and readers
see either the old or the new one. A directory that cannot be created or written (read-only file
system) turns writing off for the process, silently; reading still works.

Location: HUD_SENSOR_CACHE (or init(cache_dir=...)): a directory, or off/0/false/no to disable;
default $XDG_CACHE_HOME/hud/sensor (when absolute), else ~/.cache/hud/sensor."""

import hashlib
import importlib.util
import marshal
import os
import sys
import types

_PREFIX = b"HUDC"
_FORMAT = b"1"
_OFF = {"off", "0", "false", "no", "none"}


def default_dir():
    x = os.environ.get("XDG_CACHE_HOME", "")
    base = x if os.path.isabs(x) else os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "hud", "sensor")


def _rewrite_digest():
    """SHA-1 of the code that produces entries: a changed rewrite invalidates every entry."""
    h = hashlib.sha1()
    here = os.path.dirname(os.path.abspath(__file__))
    for name in ("_instrument.py", "_cache.py"):
        try:
            with open(os.path.join(here, name), "rb") as fh:
                h.update(fh.read())
        except OSError:
            h.update(os.urandom(16))  # unknown code: never share entries
    return h.digest()


class Cache:
    """Counters (stats()["cache"]): hits, misses (no file or another key), corrupt (damaged
    file ignored), writes, write_errors (writing then turned off)."""

    def __init__(self, directory):
        self.dir = directory
        self.writable = True
        self.counts = {"hits": 0, "misses": 0, "corrupt": 0, "writes": 0, "write_errors": 0}
        from . import __version__
        self._base = hashlib.sha1(b"\0".join([
            _FORMAT, __version__.encode(), _rewrite_digest(), importlib.util.MAGIC_NUMBER,
            str(sys.implementation.cache_tag).encode(), str(sys.flags.optimize).encode()])).digest()

    def _file(self, path):
        name = hashlib.sha1(path.encode("utf-8", "surrogatepass")).hexdigest()[:24]
        base = os.path.basename(path)[:64]
        opt = f".opt-{sys.flags.optimize}" if sys.flags.optimize else ""  # as CPython: levels side by side
        return os.path.join(self.dir, f"{base}.{name}.{sys.implementation.cache_tag}{opt}.hudc")

    def _key(self, path, source):
        h = hashlib.sha1(self._base)
        h.update(path.encode("utf-8", "surrogatepass") + b"\0")
        h.update(hashlib.sha1(source).digest())
        return h.digest()

    def _header(self, key):
        return _PREFIX + importlib.util.MAGIC_NUMBER + key

    def load(self, path, source):
        """(decls, base, where, code) of PATH's rewrite for SOURCE, or None (see _instrument)."""
        key = self._key(path, source)
        try:
            with open(self._file(path), "rb") as fh:
                if os.fstat(fh.fileno()).st_uid != os.getuid():
                    self.counts["misses"] += 1  # only our own entries are executed
                    return None
                data = fh.read()
        except OSError:
            self.counts["misses"] += 1
            return None
        head = self._header(key)
        n = len(head)
        if len(data) < n + 20 or data[:4] != _PREFIX:
            self.counts["corrupt"] += 1
            return None
        if data[:n] != head:
            self.counts["misses"] += 1
            return None
        body = data[n + 20:]
        if hashlib.sha1(body).digest() != data[n:n + 20]:
            self.counts["corrupt"] += 1
            return None
        try:
            entry = marshal.loads(body)
            decls, base, where, code = entry
            if not isinstance(decls, list) or type(base) is not int or not isinstance(where, tuple) \
                    or not isinstance(code, types.CodeType):
                raise ValueError("unexpected entry")
        except (ValueError, EOFError, TypeError):
            self.counts["corrupt"] += 1
            return None
        self.counts["hits"] += 1
        return decls, base, where, code

    def store(self, path, source, entry):
        if not self.writable:
            return
        final = self._file(path)
        body = marshal.dumps(entry)
        data = self._header(self._key(path, source)) + hashlib.sha1(body).digest() + body
        tmp = f"{final}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
        try:
            os.makedirs(self.dir, mode=0o700, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, final)
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        except OSError:
            self.writable = False  # read-only or full: stop trying, keep running
            self.counts["write_errors"] += 1
            return
        self.counts["writes"] += 1


def open_cache(setting=None):
    """The cache named by SETTING (init's cache_dir) or HUD_SENSOR_CACHE, or None when off."""
    v = setting if setting is not None else os.environ.get("HUD_SENSOR_CACHE", "")
    v = str(v).strip()
    if v.lower() in _OFF:
        return None
    return Cache(os.path.abspath(os.path.expanduser(v)) if v else default_dir())
