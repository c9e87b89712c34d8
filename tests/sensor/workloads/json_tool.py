"""A tool whose stdout is data (test_status_stream.py): one JSON object."""

import json


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


if __name__ == "__main__":
    print(json.dumps({"fib": fib(15)}), flush=True)
