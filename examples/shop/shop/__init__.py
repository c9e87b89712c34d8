"""A small web shop used by the demo: a Flask app with a few layers of plain functions."""
