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
`--first-booking`: what a cold start defers to the first request: a parent's first booking
(through the app, against the embedded AWS) after the cold start, against the next ones,
in fresh processes (the booking's own AWS calls are in both, the loading in the first).
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


FIRST_BOOKING = """
import json, os, time
start, cpu = time.perf_counter(), time.process_time()
import app
from chalicelib import dependencies
dependencies.storage(); dependencies.bookings(); dependencies.family_pages()
marks = [(time.perf_counter() - start, time.process_time() - cpu)]
from chalice.test import Client  # the test gateway's own imports: not the function's, not timed
client = Client(app.app)
request = json.loads(os.environ["BENCH_REQUEST"])
profile = None
if os.environ.get("BENCH_PROFILE"):  # --profile: where the first booking's time goes, on stderr
    import cProfile
    profile = cProfile.Profile()
for action in ("reserve", "cancel", "reserve", "cancel"):
    start, cpu = time.perf_counter(), time.process_time()
    if profile and len(marks) == 1:
        profile.enable()
    response = client.http.post("/api/bookings", headers=request["headers"], body=request["body"] % action)
    if profile and len(marks) == 1:
        profile.disable()
    assert response.status_code == 200, (response.status_code, response.body[:300])
    marks.append((time.perf_counter() - start, time.process_time() - cpu))
print(json.dumps(marks))
if profile:
    import pstats, sys
    pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(int(os.environ["BENCH_PROFILE"]))
"""
FIRST_BOOKING_RUNS = int(os.environ.get("BENCH_RUNS", "7"))
SITE_URL = "http://127.0.0.1:8000"


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
        if "--first-booking" in sys.argv:
            first_booking()
        else:
            measure()
    finally:
        shutil.rmtree(BYTECODE, ignore_errors=True)


def first_booking() -> None:
    """One family in the embedded AWS, logged in here; each fresh process makes four
    bookings of a December day (reserve, cancel, reserve, cancel) through the app."""
    import json

    sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]
    os.environ.update({"PORTAIL_NOW": "2026-11-27T12:00:00+01:00", "PORTAIL_SECRET": "cold-start",
                       "PORTAIL_SITE_URL": SITE_URL})
    os.environ.pop("PORTAIL_COMMUNE_FILE", None)  # the commune's own content/commune.toml
    from portail.embedded_aws import EmbeddedAWS
    from portail.local_keys import export_to_environment, generate_signing_keys

    with EmbeddedAWS() as aws:
        aws.configure_environment()
        aws.create_resources()
        export_to_environment(generate_signing_keys())
        import app
        from chalice.test import Client

        from portail import aws as portail_aws
        from portail.sample import add_family

        password = "une phrase de passe assez longue"
        add_family(portail_aws.storage(), "100", "alice", password, last_name="ALPHA", child="ANNA",
                   email="alice@example.org")
        headers = {"Content-Type": "application/json", "Origin": SITE_URL}
        with Client(app.app) as client:
            login = client.http.post("/api/login", headers=headers,
                                     body=json.dumps({"login": "alice", "password": password}))
        assert login.status_code == 200, login.body
        cookies = login.headers["Set-Cookie"]
        cookies = [cookies] if isinstance(cookies, str) else cookies
        headers["Cookie"] = "; ".join(c.split(";")[0] for c in cookies if c.startswith(("__Host-session=", "__Host-csrf=")))
        body = '{"child_id": "1", "items": [{"date": "2026-12-07", "service": "RESTAURATION", "action": "%s"}]}'
        env = {**environment(), **{k: v for k, v in os.environ.items() if k.startswith(("AWS_", "PORTAIL_"))},
               "BENCH_REQUEST": json.dumps({"headers": headers, "body": body})}
        if "--profile" in sys.argv:
            env["BENCH_PROFILE"] = "60"
        runs = []
        for _ in range(FIRST_BOOKING_RUNS + 1):  # the first one compiles the bytecode
            done = subprocess.run([sys.executable, "-c", FIRST_BOOKING], cwd=ROOT / "functions", env=env,
                                  capture_output=True, text=True)
            if done.returncode:
                raise SystemExit(done.stderr[-3000:])
            runs.append(json.loads(done.stdout))
    if "--profile" in sys.argv:
        print(done.stderr)
    runs = runs[1:]
    for index, what in ((0, "wall"), (1, "CPU")):
        cold = statistics.median(run[0][index] for run in runs) * 1000
        first = statistics.median(run[1][index] for run in runs) * 1000
        later = statistics.median(statistics.median(m[index] for m in run[2:]) for run in runs) * 1000
        print(f"{what}: cold start {cold:.0f} ms, first booking {first:.0f} ms, next bookings {later:.0f} ms: "
              f"the first booking's extra {first - later:.0f} ms ({FIRST_BOOKING_RUNS} fresh processes)")


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
    # The least disturbed run of each (a loaded machine only ever adds time).
    b_min, f_min = (min(cpu for _, cpu in runs) for runs in (bare, function))
    print(f"fastest CPU: boto3 client {b_min * 1000:.0f} ms, function {f_min * 1000:.0f} ms: ratio {f_min / b_min:.2f}")
    print(f"CPU ratio function / boto3 client: {f_cpu / b_cpu:.2f}")
    print(f"ratio function / boto3 client: {f / b:.2f} (target {TARGET})")


if __name__ == "__main__":
    main()
