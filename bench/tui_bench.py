"""Driver of bench/tui.sh: runs the real hud-tui under a private tmux server against a hud-server already
fed, with HUD_TUI_TIMING, and prints p50/p95/max of its milestones (tui/timing.c):

- launch -> first full screen: a monotonic timestamp taken just before exec (this script's clock, the same
  CLOCK_MONOTONIC as hud-tui's) to the end of the doupdate that first shows the view's data;
- start -> first full screen: the same from hud-tui's main();
- refresh redraw: a refresh's response decoded on the fetch thread (fetch-done) -> the screen showing it
  updated (the next draw with new data), and that draw's own duration;
- hud-tui's own part: launch -> first full screen less the first request (the server's time);
- RSS: VmHWM and VmRSS of hud-tui after the runs' refreshes.
"""

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time


def pct(values, q):
    """Nearest-rank quantile of VALUES."""
    v = sorted(values)
    if not v:
        return float("nan")
    i = max(0, min(len(v) - 1, int(q * len(v) + 0.999999) - 1))
    return v[i]


def fmt(values, unit="ms"):
    if not values:
        return "n/a"
    return f"p50 {pct(values, 0.5):.1f} {unit}, p95 {pct(values, 0.95):.1f} {unit}, max {max(values):.1f} {unit} (n={len(values)})"


class Tmux:
    def __init__(self, tmp):
        self.sock = f"hudtuibench-{os.getpid()}"
        self.conf = os.path.join(tmp, "tmux.conf")
        with open(self.conf, "w") as f:
            f.write("set -g remain-on-exit on\nset -g status off\n")

    def run(self, *args, check=True):
        return subprocess.run(["tmux", "-L", self.sock, *args], check=check, capture_output=True, text=True).stdout

    def kill_server(self):
        self.run("kill-server", check=False)
        # tmux leaves its socket file behind.
        sock = os.path.join(os.environ.get("TMUX_TMPDIR", "/tmp"), f"tmux-{os.getuid()}", self.sock)
        if os.path.exists(sock):
            os.unlink(sock)


def read_marks(path):
    marks = []
    if not os.path.exists(path):
        return marks
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2:
                marks.append((int(parts[0]), parts[1], parts[2:]))
    return marks


def rss_kb(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmHWM", "VmRSS"):
                    out[k] = int(v.split()[0])
    except OSError:
        pass
    return out


def one_run(tm, a, tmp, name, w, h, limit, run_s):
    timing = os.path.join(tmp, f"{name}.timing")
    if os.path.exists(timing):
        os.unlink(timing)
    tui = [a.tui, "--url", a.url, "--key", a.key, "--service", "shop", "--interval", "0.5"]
    if limit:
        tui += ["--limit", str(limit)]
    # The launch mark is written by the pane's own process right before it becomes hud-tui (exec).
    launcher = (
        "import os, sys, time\n"
        "with open(sys.argv[1], 'a') as f: f.write('%d launch\\n' % (time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000))\n"
        "os.execv(sys.argv[2], sys.argv[2:])\n"
    )
    cmd = ["env", "TERM=xterm-256color", "LANG=C.UTF-8", "LC_ALL=C.UTF-8", f"HUD_TUI_TIMING={timing}",
           sys.executable, "-c", launcher, timing] + tui
    tm.run("new-session", "-d", "-s", name, "-x", str(w), "-y", str(h), shlex.join(cmd))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(m[1] == "first-screen" for m in read_marks(timing)):
        time.sleep(0.05)
    time.sleep(run_s)  # refreshes every 0.5 s
    pid = int(tm.run("display-message", "-p", "-t", name, "#{pane_pid}").strip() or 0)
    mem = rss_kb(pid) if pid else {}
    screen = tm.run("capture-pane", "-p", "-t", name)
    tm.run("send-keys", "-t", name, "q")
    time.sleep(0.2)
    tm.run("kill-session", "-t", name, check=False)
    marks = read_marks(timing)
    return marks, mem, screen


def analyse(marks):
    t = {}
    for ts, ev, _ in marks:
        t.setdefault(ev, ts)
    res = {"launch": None, "start": None, "fetch": None, "redraw": [], "draw": []}
    if "first-screen" in t:
        if "launch" in t:
            res["launch"] = (t["first-screen"] - t["launch"]) / 1e3
        if "start" in t:
            res["start"] = (t["first-screen"] - t["start"]) / 1e3
    # The first fetch's own time (request, server, decode) explains most of the first screen.
    starts = [m for m in marks if m[1] == "fetch-start"]
    dones = [m for m in marks if m[1] == "fetch-done"]
    if starts and dones:
        res["fetch"] = (dones[0][0] - starts[0][0]) / 1e3
    pending = None
    for ts, ev, det in marks:
        if ev == "fetch-done" and det and det[-1] == "rc=0":
            pending = ts
        elif ev in ("drawn", "first-screen") and det and det[0] == "data":
            if pending is not None and ev == "drawn":
                res["redraw"].append((ts - pending) / 1e3)
                res["draw"].append(int(det[1]) / 1e3)
            pending = None
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tui", required=True)
    ap.add_argument("--url", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--tmp", default=None)
    ap.add_argument("--run-seconds", type=float, default=3.0)
    a = ap.parse_args()
    tmp = a.tmp or tempfile.mkdtemp()
    tm = Tmux(tmp)
    ok = True
    try:
        for limit in (200, 1000):
            for w, h in ((80, 24), (200, 60)):
                launch, start, fetch, own, redraw, draw, hwm, rss = [], [], [], [], [], [], [], []
                for r in range(a.rounds):
                    marks, mem, screen = one_run(tm, a, tmp, f"b{limit}x{w}r{r}", w, h, limit, a.run_seconds)
                    res = analyse(marks)
                    if res["start"] is None or f"row 1 of {limit}" not in screen:
                        ok = False
                        print(f"tui: run {r} ({w}x{h}, --limit {limit}) did not show {limit} rows:\n{screen}")
                        continue
                    launch.append(res["launch"])
                    start.append(res["start"])
                    if res["fetch"] is not None:
                        fetch.append(res["fetch"])
                        own.append(res["launch"] - res["fetch"])
                    redraw += res["redraw"]
                    draw += res["draw"]
                    hwm.append(mem.get("VmHWM", 0) / 1024)
                    rss.append(mem.get("VmRSS", 0) / 1024)
                print(f"tui: {w}x{h}, --limit {limit} ({a.rounds} runs, --interval 0.5):")
                print(f"  launch (exec) -> first full screen: {fmt(launch)}   [goal <= 200 ms]")
                print(f"  main() -> first full screen:        {fmt(start)}")
                print(f"    of which the first request:       {fmt(fetch)} (hud-server's answer, decoded)")
                print(f"  launch -> first screen less the request: {fmt(own)} (hud-tui's own part)")
                print(f"  refresh: decoded -> screen updated: {fmt(redraw)}   [goal <= 16 ms]")
                print(f"    of which the draw itself:         {fmt(draw)}")
                print(f"  memory: VmHWM {fmt(hwm, 'MB')}; VmRSS {fmt(rss, 'MB')}")
    finally:
        tm.kill_server()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
