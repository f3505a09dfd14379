"""The function's cold start: `import app` with the storage, bookings and pages
dependencies built (what a parent's first booking needs before its first DynamoDB call),
against `import boto3` and one `boto3.client("dynamodb")`, each in a fresh Python, runs
alternated; medians, and the ratio last.

The time is measured inside each process, from its first statement (the interpreter's
own start is the same for both), as wall time and as CPU time (the process's own: on a
loaded machine the wall time also counts the waits for a core). No AWS call is made:
clients are built, never used.
Both start with their bytecode already compiled, as on Lambda: the deployed package
carries the function's (portail/package_bytecode.py; Lambda's directory is read-only, no
__pycache__ can be written there), the runtime's boto3 its own. Here it is compiled by a
first run of each into a temporary PYTHONPYCACHEPREFIX, whatever PYTHONDONTWRITEBYTECODE
says (without it, the function's side compiled its 70 modules on every run).
`--importtime`: the slowest imports of the function's cold start (python -X importtime).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 21
TARGET = 1.3
BYTECODE = tempfile.mkdtemp(prefix="portail-cold-start-")

BARE = """
import time; start = time.perf_counter(); cpu = time.process_time()
import boto3
boto3.client("dynamodb")
print(time.perf_counter() - start, time.process_time() - cpu)
"""

FUNCTION = """
import time; start = time.perf_counter(); cpu = time.process_time()
import app
from chalicelib import dependencies
dependencies.storage(); dependencies.bookings(); dependencies.family_pages()
print(time.perf_counter() - start, time.process_time() - cpu)
"""


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "PORTAIL_")) and k != "PYTHONDONTWRITEBYTECODE"}
    env.update({"AWS_DEFAULT_REGION": "eu-west-3", "AWS_ACCESS_KEY_ID": "cold", "AWS_SECRET_ACCESS_KEY": "cold",
                "PORTAIL_SECRET": "cold-start", "PYTHONPYCACHEPREFIX": BYTECODE})
    return env


def once(code: str, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *flags, "-c", code], cwd=ROOT / "functions", env=environment(),
                          capture_output=True, text=True, check=True)


def slowest_imports(top: int = 20) -> None:
    rows = []
    for line in once(FUNCTION, "-X", "importtime").stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, cumulative, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
        rows.append((int(cumulative), int(own), name))
    print("slowest imports of the function's cold start (cumulative µs, own µs):")
    for cumulative, own, name in sorted(rows, reverse=True)[:top]:
        print(f"  {cumulative:8d} {own:8d}  {name}")


def main() -> None:
    try:
        measure()
    finally:
        shutil.rmtree(BYTECODE, ignore_errors=True)


def measure() -> None:
    once(FUNCTION)  # bytecode and the file cache warm for both
    once(BARE)
    bare, function = [], []
    for _ in range(RUNS):
        bare.append([float(value) for value in once(BARE).stdout.split()])
        function.append([float(value) for value in once(FUNCTION).stdout.split()])
    if "--importtime" in sys.argv:
        slowest_imports()
    b, f = (statistics.median(wall for wall, _ in runs) for runs in (bare, function))
    b_cpu, f_cpu = (statistics.median(cpu for _, cpu in runs) for runs in (bare, function))
    print(f"import boto3 + boto3.client('dynamodb'): median {b * 1000:.0f} ms, CPU {b_cpu * 1000:.0f} ms "
          f"({RUNS} fresh processes)")
    print(f"import app + storage, bookings and pages dependencies: median {f * 1000:.0f} ms, CPU {f_cpu * 1000:.0f} ms")
    print(f"CPU ratio function / boto3 client: {f_cpu / b_cpu:.2f}")
    print(f"ratio function / boto3 client: {f / b:.2f} (target {TARGET})")


if __name__ == "__main__":
    main()
