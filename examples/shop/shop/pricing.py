import time

from shop import knobs


class CouponServiceError(Exception):
    pass


def unit_price(sku):
    return 100 + (sum(map(ord, sku)) % 50)


def apply_discounts(total, coupon):
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
