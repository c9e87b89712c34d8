# The share of the price paid with each coupon code; no coupon, or an unknown one, pays it all.
COUPONS = {"HALF": 0.5}


def unit_price(sku):
    return 100 + (sum(map(ord, sku)) % 50)


def apply_discounts(total, coupon):
    return total * COUPONS.get(coupon, 1.0)


def quote(items, coupon=None):
    total = sum(unit_price(sku) * qty for sku, qty in items)
    return apply_discounts(total, coupon)
