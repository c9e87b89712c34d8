import time

from shop import knobs

# The demo's "deploy": version 2 of the shop ships a slower discount rule.
SLOW_DISCOUNTS = knobs.RELEASE == "2"


class CouponServiceError(Exception):
    pass


def unit_price(sku):
    return 100 + (sum(map(ord, sku)) % 50)


def apply_discounts(total, coupon):
    if SLOW_DISCOUNTS:
        time.sleep(0.004)  # the regression: a per-request lookup that v2 added
    if knobs.EXTRA_FN == "apply_discounts":
        time.sleep(knobs.EXTRA_S)
    if knobs.NEW_ERROR_RATE and knobs.RNG.random() < knobs.NEW_ERROR_RATE:
        raise CouponServiceError("coupon service timed out")
    if coupon == "HALF":
        return total / 2
    return total


def quote(items, coupon=None):
    total = sum(unit_price(sku) * qty for sku, qty in items)
    return apply_discounts(total, coupon)
