"""A parent's booking through the local server (`portail serve --demo`): the median time of
POST /api/bookings for one day of a demo family, its DynamoDB round trips, and against a
bare Chalice route doing one PutItem on the same server; the ratio to the 130 ms target last.

The demo is seeded as `make run` seeds it (50 families, their autumn's days, invoices,
payments, messages) at the demo clock, and every family's pages exported; famille01 then
reserves and cancels one December day in turn (each request writes, and its month page
is rendered again), one request at a time on one connection, as a parent's browser does.

`--profile`: the server's threads are sampled by py-spy (`pip install py-spy`) during
the bookings; the top functions (own time) are printed.
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

from bench.round_trips import RoundTrips  # noqa: E402

NOW = "2014-11-28T12:00:00+01:00"  # the demo's clock (the guide's screenshots)
REQUESTS = 60
TARGET_MS = 130  # the peer's median (a Django portal on the same machine): docs/family-pages.md
LOGIN = "famille01"


def post(connection, path, body, cookie=None):
    headers = {"Content-Type": "application/json", "Origin": f"http://{connection.host}:{connection.port}"}
    if cookie:
        headers["Cookie"] = cookie
    connection.request("POST", path, body=json.dumps(body), headers=headers)
    response = connection.getresponse()
    return response, response.read()


def timed(port: int, path: str, bodies, cookie=None) -> list[float]:
    """Each request's time in ms, one after the other on one connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times = []
    for body in bodies:
        start = time.perf_counter()
        response, data = post(connection, path, body, cookie)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status == 200, (response.status, data[:300])
    return times


def free_december_day(storage, family: str) -> tuple[str, str, str]:
    """(child, service, day) of famille01: a December open day of its first child's last
    service, not booked yet."""
    from chalicelib.calendar_rules import CommuneCalendar
    from chalicelib.config import get_commune

    commune = get_commune()
    calendar = CommuneCalendar(commune)
    state = storage.family_state(family)
    child = next(c for c in state.children if c.get("services"))
    service = child["services"][-1]
    taken = {d["sk"] for d in state.days}
    day = date(2014, 12, 8)
    from chalicelib.storage import day_sk

    while not calendar.is_open(day, commune.service(service)) or day_sk(child["child_id"], day, service) in taken:
        day += timedelta(days=1)
    return child["child_id"], service, day.isoformat()


def profile_top(pid: int, seconds: float, out: Path) -> subprocess.Popen:
    return subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid), "--duration",
                             str(int(seconds)), "--rate", "250", "--format", "raw", "--output", str(out), "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def summarise_profile(raw: Path, top: int = 25) -> None:
    """py-spy's collapsed stacks: own samples and cumulative samples per function."""
    own: dict[str, int] = {}
    total_by: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        n = int(count)
        # Idle threads (the servers' select loops) are not the booking's cost.
        if any(("select" in f or "poll" in f or "_wait_for_tstate_lock" in f or "wait (threading" in f)
               for f in frames[-2:]):
            continue
        total += n
        own[frames[-1]] = own.get(frames[-1], 0) + n
        for frame in set(frames):
            total_by[frame] = total_by.get(frame, 0) + n
    print(f"profile: {total} busy samples")
    print("  own time:")
    for frame, n in sorted(own.items(), key=lambda kv: -kv[1])[:top]:
        print(f"    {100 * n / total:5.1f} %  {frame}")
    print("  cumulative:")
    for frame, n in sorted(total_by.items(), key=lambda kv: -kv[1])[:top * 2]:
        print(f"    {100 * n / total:5.1f} %  {frame}")


def main() -> None:
    import logging

    profile = "--profile" in sys.argv
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    os.environ["PORTAIL_NOW"] = NOW
    os.environ["PORTAIL_DEMO"] = "1"
    from portail.embedded_aws import EmbeddedAWS
    from portail.local_keys import export_to_environment, generate_signing_keys

    with EmbeddedAWS() as aws, tempfile.TemporaryDirectory() as static:
        aws.configure_environment()
        aws.create_resources()
        export_to_environment(generate_signing_keys())
        os.environ["PORTAIL_SECRET"] = "bench"
        import app as function
        from chalicelib.clock import now
        from chalicelib.config import get_commune

        from portail import aws as portail_aws
        from portail.demo import DEMO_PASSWORD, seed_demo
        from portail.devserver import DevServer, serve_in_thread
        from portail.family_export import export_all

        storage, commune = portail_aws.storage(), get_commune()
        seed_demo(storage, commune, now())
        export_all(storage, portail_aws.client("s3"), commune, now())

        server, _ = serve_in_thread(DevServer(Path(static)))
        os.environ["PORTAIL_SITE_URL"] = f"http://127.0.0.1:{server.port}"
        function.reset_dependencies()
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        response, _ = post(connection, "/api/login", {"login": LOGIN, "password": DEMO_PASSWORD})
        assert response.status == 200, response.status
        cookie = "; ".join(next(v for k, v in response.getheaders() if k.lower() == "set-cookie"
                                and v.startswith(name)).split(";")[0]
                           for name in ("__Host-session=", "__Host-csrf="))
        family = storage.login(LOGIN)["family_number"]
        child, service, day = free_december_day(storage, family)
        bodies = [{"child_id": child, "items": [{"date": day, "service": service,
                                                 "action": "reserve" if n % 2 == 0 else "cancel"}]}
                  for n in range(REQUESTS)]
        trips = RoundTrips(function.storage().client)
        trips.reset()
        first = timed(server.port, "/api/bookings", bodies[:2], cookie)  # warms the templates
        one_booking_trips = dict(trips.by_operation)
        sampler = None
        if profile:
            raw = Path(os.environ.get("PROFILE_OUT") or Path(static) / "profile.txt")
            sampler = profile_top(os.getpid(), REQUESTS * 0.6 + 5, raw)
            time.sleep(1.5)
        cpu = time.process_time()
        booking_ms = timed(server.port, "/api/bookings", bodies[2:], cookie)
        # The process's CPU per booking (server, function and embedded AWS are all in it):
        # what the machine's load does not change, unlike the wall-clock median.
        booking_cpu = (time.process_time() - cpu) * 1000 / len(booking_ms)
        if sampler:
            sampler.wait()
        server.shutdown()

        from chalice import Chalice

        bare = Chalice(app_name="bare")
        bare_storage = function.storage()

        @bare.route("/api/bare", methods=["POST"])
        def put_one():
            bare_storage.put({"pk": "BARE", "sk": str(time.perf_counter_ns()), "value": 1})
            return {"ok": True}

        server, _ = serve_in_thread(DevServer(Path(static), chalice_app=bare))
        cpu = time.process_time()
        bare_ms = timed(server.port, "/api/bare", [{}] * REQUESTS)
        bare_cpu = (time.process_time() - cpu) * 1000 / len(bare_ms)
        server.shutdown()
        if profile:
            summarise_profile(raw)

    median = statistics.median(booking_ms)
    bare_median = statistics.median(bare_ms)
    print(f"{LOGIN}, one {service} day ({day}) reserved then cancelled, {len(booking_ms)} requests after {len(first)} "
          f"(demo seeded, 51 families)")
    print(f"  DynamoDB round trips of one booking (two requests: reserve, cancel): {one_booking_trips}")
    print(f"  booking: median {median:.1f} ms, p90 {statistics.quantiles(booking_ms, n=10)[-1]:.1f} ms, "
          f"min {min(booking_ms):.1f} ms; CPU {booking_cpu:.1f} ms a booking")
    print(f"  bare Chalice route doing one PutItem, same server: median {bare_median:.1f} ms, CPU {bare_cpu:.1f} ms "
          f"(booking / bare {median / bare_median:.1f})")
    print(f"  load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"ratio booking median / {TARGET_MS} ms: {median / TARGET_MS:.2f}")


if __name__ == "__main__":
    main()
