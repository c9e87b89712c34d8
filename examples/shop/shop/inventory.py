import time


class OutOfStock(Exception):
    pass


_STOCK = {"apple": 1000000, "pear": 1000000, "plum": 0}


def reserve(sku, qty):
    time.sleep(0.001)  # a remote stock service, roughly
    if _STOCK.get(sku, 0) < qty:
        raise OutOfStock(sku)
    _STOCK[sku] -= qty
