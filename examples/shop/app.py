"""The demo shop: run it under the sensor with `python -m hud_sensor run app.py --port N`."""
import argparse
import logging
import signal
import sys

from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from shop import orders
from shop.inventory import OutOfStock

app = Flask(__name__)


@app.post("/orders")
def create_order():
    skus = request.args.get("skus", "apple").split(",")
    try:
        return jsonify(orders.place_order(skus, request.args.get("coupon")))
    except OutOfStock as exc:
        return jsonify({"error": "out of stock", "sku": str(exc)}), 409


@app.get("/orders/<int:order_id>")
def get_order(order_id):
    return jsonify(orders.order_status(order_id))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", args.port, app, threaded=True)
    # SIGTERM ends the process normally, so the sensor flushes its last batch at exit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"shop listening on 127.0.0.1:{args.port}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
