"""`make run` on a fresh clone: seconds to the first page, then again with the venv made.

Clones the committed HEAD into a temporary folder, runs `make run` there (venv, pip
install, embedded AWS, demo seed, site build) and polls until `/` answers 200 and
`/api/me` answers. Prints both times and, last, the ratio fresh / warm. `--warm`: `make run` in this
checkout (its venv made), twice; the ratio to the 8 s target last. `--until-warm`: `make run`
in this checkout once, to the demo's warm-up line (« Pages des familles de démonstration
exportées »): the seconds and the CPU seconds (user + system, every process of the run) at
the first page and at that line; the ratio of the first page to the 8 s target last.
pip's download cache is the machine's own: a machine that never installed these
packages also downloads them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 900


def free_port() -> int:
    # Two consecutive free ports: the browser's and the embedded AWS's (port + 1).
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 1))
                return port
            except OSError:
                continue


def status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def time_to_first_page(clone: Path) -> float:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PORTAIL_", "VIRTUAL_ENV"))}
    start = time.perf_counter()
    process = subprocess.Popen(["make", "run", f"PORT={port}"], cwd=clone, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        while time.perf_counter() - start < TIMEOUT:
            if process.poll() is not None:
                raise SystemExit(f"make run stopped with status {process.returncode}")
            if status(f"http://127.0.0.1:{port}/") == 200 and status(f"http://127.0.0.1:{port}/api/me") == 401:
                return time.perf_counter() - start
            time.sleep(0.2)
        raise SystemExit("no first page within the time limit")
    finally:
        _stop(process)


def _stop(process) -> None:
    """Ctrl-C to `make run`'s process group, as an operator stops it; killed if it hangs."""
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


WARM_TARGET = 8.0  # seconds: `make run` again, the venv made
WARM_LINE = "Pages des familles de démonstration exportées"


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of `pid` and its descendants still running, from /proc:
    the demo's portal runs on under `make`, so its children's rusage is not reaped yet."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime (all threads)
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(child) for child in (task / "children").read_text().split()]
        except (OSError, IndexError, ValueError):
            continue  # ended meanwhile
    return total


def until_warm() -> tuple[float, float, float, float]:
    """`make run` once: (seconds, CPU seconds) at the first page, then at the warm-up's line."""
    import threading

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PORTAIL_", "VIRTUAL_ENV"))}
    env["PYTHONUNBUFFERED"] = "1"
    start = time.perf_counter()
    process = subprocess.Popen(["make", "run", f"PORT={port}"], cwd=ROOT, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    warm = threading.Event()

    def read() -> None:
        for line in process.stdout:
            if WARM_LINE in line:
                warm.set()
        warm.set()  # output closed: the run stopped

    threading.Thread(target=read, daemon=True).start()
    first = None
    try:
        while time.perf_counter() - start < TIMEOUT:
            if process.poll() is not None:
                raise SystemExit(f"make run stopped with status {process.returncode}")
            if first is None and status(f"http://127.0.0.1:{port}/") == 200 \
                    and status(f"http://127.0.0.1:{port}/api/me") == 401:
                first = (time.perf_counter() - start, tree_cpu(process.pid))
            if first is not None and warm.wait(0.05):
                if process.poll() is not None:
                    raise SystemExit(f"make run stopped with status {process.returncode}")
                return (*first, time.perf_counter() - start, tree_cpu(process.pid))
            time.sleep(0.05 if first is None else 0)
        raise SystemExit("no warm-up line within the time limit")
    finally:
        _stop(process)


def main() -> None:
    import sys

    if "--until-warm" in sys.argv:
        first, first_cpu, warm, warm_cpu = until_warm()
        print(f"make run in this checkout: first page at {first:.1f} s ({first_cpu:.1f} s of CPU)")
        print(f"demo warm-up over at {warm:.1f} s ({warm_cpu:.1f} s of CPU)")
        print(f"ratio first page / {WARM_TARGET:g} s: {first / WARM_TARGET:.2f}")
        return
    if "--warm" in sys.argv:
        # This checkout as it is (its venv made): `make run` to the first page, twice.
        times = [time_to_first_page(ROOT) for _ in range(2)]
        print(f"make run in this checkout, venv already made: {times[0]:.1f} s, then {times[1]:.1f} s")
        print(f"ratio warm / {WARM_TARGET:g} s: {min(times) / WARM_TARGET:.2f}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "portail"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        fresh = time_to_first_page(clone)
        warm = time_to_first_page(clone)
    print(f"make run on a fresh clone to the first page: {fresh:.1f} s (venv and install included)")
    print(f"make run again, venv already made:          {warm:.1f} s")
    print(f"ratio fresh / warm: {fresh / warm:.1f}")


if __name__ == "__main__":
    main()
