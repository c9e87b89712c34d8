"""Runs the example shop under the sensor with a planted change, so that one code base can play several
releases (replay.py sensitivity):

  planted_shop.py app.py --port N     (in examples/shop; what `python -m hud_sensor run app.py --port N` does)

SHOP_EXTRA_MS=<ms>     SHOP_EXTRA_FN (apply_discounts, the default; reserve; order_status) waits this much
                       more per call
SHOP_N_PLUS_ONE=1      order_status reads each line of the order with its own query (1 -> 1 + 3 queries)
SHOP_NEW_ERROR_RATE=<f>  apply_discounts raises CouponServiceError (a type no release had) in this
                       share of its calls; nothing catches it, so the request answers 500

The shop's source stays as it is: once the sensor has imported (and instrumented) a shop module, what
that module calls is replaced by a wrapper here: pricing's COUPONS (apply_discounts looks the coupon up),
inventory's time (reserve sleeps), orders' db (order_status queries). The functions the sensor named keep
their identity, and the added time is their own (self) time: code here is not instrumented (this file
runs as the main script, which the sensor leaves to `run`). The waits are sleeps: time spent outside
Python, like a remote call. Unset, the shop runs untouched."""
import importlib.abc
import os
import random
import sys
import time
import types

EXTRA_S = float(os.environ.get("SHOP_EXTRA_MS", "0") or 0) / 1000.0
EXTRA_FN = os.environ.get("SHOP_EXTRA_FN", "apply_discounts") if EXTRA_S > 0 else ""
N_PLUS_ONE = os.environ.get("SHOP_N_PLUS_ONE", "") not in ("", "0")
NEW_ERROR_RATE = float(os.environ.get("SHOP_NEW_ERROR_RATE", "0") or 0)
RNG = random.Random(os.getpid())


class CouponServiceError(Exception):
    """What a coupon service's client library would raise."""


CouponServiceError.__module__ = "coupon_service"


class Coupons(dict):
    """pricing.COUPONS: the lookup of apply_discounts takes longer, or fails."""

    def get(self, key, default=None):
        if EXTRA_FN == "apply_discounts":
            time.sleep(EXTRA_S)
        if NEW_ERROR_RATE and RNG.random() < NEW_ERROR_RATE:
            raise CouponServiceError("coupon service timed out")
        return dict.get(self, key, default)


def patch_pricing(m):
    if EXTRA_FN == "apply_discounts" or NEW_ERROR_RATE:
        m.COUPONS = Coupons(m.COUPONS)


def patch_inventory(m):
    if EXTRA_FN == "reserve":
        m.time = types.SimpleNamespace(sleep=lambda s: time.sleep(s + EXTRA_S))


def patch_orders(m):
    if EXTRA_FN != "order_status" and not N_PLUS_ONE:
        return
    real = m.db

    def query(table, key):
        if EXTRA_FN == "order_status":
            time.sleep(EXTRA_S)
        row = real.query(table, key)
        if N_PLUS_ONE and table == "orders":
            for n in range(3):  # one query per line of the order
                real.query("order_lines", (key, n))
        return row

    m.db = types.SimpleNamespace(query=query)


PATCHES = {"shop.pricing": patch_pricing, "shop.inventory": patch_inventory, "shop.orders": patch_orders}


class _Loader(importlib.abc.Loader):
    """The loader found after this finder (the sensor's, which rewrites the module), then the patch."""

    def __init__(self, inner, patch):
        self.inner, self.patch = inner, patch

    def create_module(self, spec):
        return self.inner.create_module(spec)

    def exec_module(self, module):
        self.inner.exec_module(module)
        self.patch(module)

    def __getattr__(self, name):
        return getattr(self.inner, name)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        patch = PATCHES.get(fullname)
        if patch is None:
            return None
        for finder in sys.meta_path[sys.meta_path.index(self) + 1:]:
            spec = finder.find_spec(fullname, path, target) if hasattr(finder, "find_spec") else None
            if spec is not None:
                spec.loader = _Loader(spec.loader, patch)
                return spec
        return None


def main():
    planted = [f"{k}={os.environ[k]}" for k in ("SHOP_EXTRA_MS", "SHOP_EXTRA_FN", "SHOP_N_PLUS_ONE",
                                                 "SHOP_NEW_ERROR_RATE") if os.environ.get(k)]
    if planted:
        sys.meta_path.insert(0, _Finder())
        print("planted: " + " ".join(planted), flush=True)
    from hud_sensor.__main__ import main as run
    sys.exit(run(["run"] + sys.argv[1:]))


if __name__ == "__main__":
    main()
