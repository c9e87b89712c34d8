"""Flask app for the framework test (served by gunicorn)."""
from flask import Flask, jsonify, request

app = Flask(__name__)


def lookup(oid):
    return {"id": oid, "total": price(oid)}


def price(oid):
    return oid * 10


@app.route("/orders/<int:oid>")
def get_order(oid):
    return jsonify(lookup(oid))


@app.route("/orders", methods=["POST"])
def create_order():
    return jsonify({"created": True, "n": len(request.get_data())}), 201


@app.route("/fail")
def fail():
    raise RuntimeError("boom")
