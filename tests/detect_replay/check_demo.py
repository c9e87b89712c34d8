"""scripts/demo.sh end to end on this build (no terminal, so hud-tui prints its views once): the report
shows one issue for the demo's planted change, blamed on apply_discounts, with the numbers people read."""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

SRC = os.environ["HUD_SOURCE_DIR"]
BUILD = os.environ["HUD_BUILD_DIR"]


def main():
    tmp = tempfile.mkdtemp(prefix="hud-demo-")
    try:
        env = dict(os.environ, BUILD_DIR=BUILD, DEMO_DIR=os.path.join(tmp, "demo"), DEMO_REQUESTS="300")
        # Its own process group: whatever happens here, the demo's server and shop are stopped with it.
        p = subprocess.Popen(["bash", os.path.join(SRC, "scripts", "demo.sh")], env=env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            out, err = p.communicate(timeout=240)
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)  # demo.sh's trap stops its server and shop
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
        if p.returncode != 0:
            sys.exit(f"demo.sh exited {p.returncode}:\n{out[-4000:]}\n{err[-4000:]}")
        report = out.split("-- issues (regression detection, root cause)")[1].split("== the editor's view")[0]
        print(report)
        issues = [ln for ln in report.splitlines() if re.match(r"\[(open|acknowledged|muted|resolved)\] ", ln)]
        checks = [
            (len(issues) == 1, f"one issue for the planted change, got {len(issues)}"),
            (bool(issues) and "apply_discounts" in issues[0], "the issue names apply_discounts"),
            ("POST /orders:" in report and "ms per request" in report, "the affected flow in ms per request"),
            ("code changed" in report, "the root cause's code changed between v1 and v2"),
            ("99.9% CI" in report and "99% CI" not in report, "the interval's real level (99.9%)"),
            (re.search(r"\bp (< 1e-16|[0-9.]+e-\d+)", report) is not None and "p 0" not in report and "p=0" not in report,
             "p for people, never 0"),
        ]
        failed = [msg for ok, msg in checks if not ok]
        if failed:
            sys.exit("demo report: " + "; ".join(failed))
        print("ok: demo")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks
    main()
