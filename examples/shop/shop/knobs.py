"""Planted changes, read once from the environment, so that one code base can play several releases
(tests/detect_replay). The demo's v2 is a real code change instead (scripts/demo.sh patches a copy).

SHOP_EXTRA_MS=<ms>     SHOP_EXTRA_FN (apply_discounts, the default; reserve; order_status) waits this much
                       more per call
SHOP_N_PLUS_ONE=1      order_status reads each line of the order with its own query (1 -> 1 + 3 queries)
SHOP_NEW_ERROR_RATE=<f>  apply_discounts raises CouponServiceError (a type no release had) in this
                       share of its calls; nothing catches it, so the request answers 500

Unset, they cost one comparison per call. The waits are sleeps: time spent outside Python, like a
remote call, so it shows as the function's own (self) time."""
import os
import random

EXTRA_S = float(os.environ.get("SHOP_EXTRA_MS", "0") or 0) / 1000.0
EXTRA_FN = os.environ.get("SHOP_EXTRA_FN", "apply_discounts") if EXTRA_S > 0 else ""
N_PLUS_ONE = os.environ.get("SHOP_N_PLUS_ONE", "") not in ("", "0")
NEW_ERROR_RATE = float(os.environ.get("SHOP_NEW_ERROR_RATE", "0") or 0)
RNG = random.Random(os.getpid())

# The checks themselves are written inline in the functions they slow down: a helper function here
# would be instrumented too and would take the blame.
