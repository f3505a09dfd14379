"""Bookings: DynamoDB round trips of a one-month submission (20 days × 2 services,
counted with botocore's event hooks), and requests per second of POST /api/bookings
through the local server against a bare Chalice route doing one PutItem (ratio last).
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

from bench.round_trips import RoundTrips  # noqa: E402
from portail.embedded_aws import EmbeddedAWS  # noqa: E402
from portail.local_keys import export_to_environment, generate_signing_keys  # noqa: E402

NOW = "2014-11-24T12:00:00+01:00"  # Monday: Monday 1 December is still open
PASSWORD = "une phrase de passe tres longue"
REQUESTS = 60


def school_days(count: int) -> list[date]:
    from chalicelib.calendar_rules import CommuneCalendar
    from chalicelib.config import get_commune

    commune = get_commune()
    calendar = CommuneCalendar(commune)
    service = commune.service("GARDERIE_MIDI")
    days, day = [], date(2014, 12, 1)
    while len(days) < count:
        if calendar.is_open(day, service):
            days.append(day)
        day += timedelta(days=1)
    return days


def post(connection, path, body, cookie=None):
    headers = {"Content-Type": "application/json", "Origin": f"http://{connection.host}:{connection.port}"}
    if cookie:
        headers["Cookie"] = cookie
    connection.request("POST", path, body=json.dumps(body), headers=headers)
    response = connection.getresponse()
    data = response.read()
    return response, data


def requests_per_second(port: int, path: str, bodies, cookie=None) -> float:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    start = time.perf_counter()
    for body in bodies:
        response, data = post(connection, path, body, cookie)
        assert response.status == 200, (response.status, data[:200])
    return len(bodies) / (time.perf_counter() - start)


def main() -> None:
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    os.environ["PORTAIL_NOW"] = NOW
    with EmbeddedAWS() as aws, tempfile.TemporaryDirectory() as static:
        aws.configure_environment()
        aws.create_resources()
        export_to_environment(generate_signing_keys())
        os.environ["PORTAIL_SECRET"] = "bench"
        import app as function
        from chalice import Chalice

        from portail.devserver import DevServer, serve_in_thread
        from portail.sample import add_family

        storage = function.storage()
        add_family(storage, "100", "alice", PASSWORD, last_name="ALPHA", child="ANNA", email="alice@example.org",
                   services=("GARDERIE_MATIN", "GARDERIE_MIDI", "RESTAURATION"))
        server, _ = serve_in_thread(DevServer(Path(static)))
        os.environ["PORTAIL_SITE_URL"] = f"http://127.0.0.1:{server.port}"
        function.reset_dependencies()
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        response, _ = post(connection, "/api/login", {"login": "alice", "password": PASSWORD})
        # The session and its CSRF cookie: a write without the latter is refused (invalid_form).
        cookie = "; ".join(next(v for k, v in response.getheaders() if k.lower() == "set-cookie"
                                and v.startswith(name)).split(";")[0]
                           for name in ("__Host-session=", "__Host-csrf="))
        storage = function.storage()
        trips = RoundTrips(storage.client)

        days = school_days(20)
        items = [{"date": d.isoformat(), "service": s, "action": "reserve"}
                 for d in days for s in ("GARDERIE_MATIN", "GARDERIE_MIDI")]
        trips.reset()
        response, data = post(connection, "/api/bookings", {"child_id": "1", "items": items}, cookie)
        assert response.status == 200, data
        statuses = {r["status"] for r in json.loads(data)["results"]}
        month_trips = dict(trips.by_operation)

        # Throughput: one reservation then its cancellation, over and over (each call writes).
        day = days[-1].isoformat()
        bodies = [{"child_id": "1", "items": [{"date": day, "service": "RESTAURATION",
                                               "action": "reserve" if n % 2 == 0 else "cancel"}]}
                  for n in range(REQUESTS)]
        booking_rps = requests_per_second(server.port, "/api/bookings", bodies, cookie)
        server.shutdown()

        bare = Chalice(app_name="bare")

        @bare.route("/api/bare", methods=["POST"])
        def put_one():
            storage.put({"pk": "BARE", "sk": str(time.perf_counter_ns()), "value": 1})
            return {"ok": True}

        server, _ = serve_in_thread(DevServer(Path(static), chalice_app=bare))
        bare_rps = requests_per_second(server.port, "/api/bare", [{}] * REQUESTS)
        server.shutdown()

    print(f"one month: {len(items)} items (20 days × GARDERIE MATIN and GARDERIE MIDI, capacity), outcomes {statuses}")
    print(f"  DynamoDB round trips: {sum(month_trips.values())} {month_trips}")
    print(f"POST /api/bookings through the local server: {booking_rps:.1f} requests/s "
          "(session, family Query, transaction, request record, the month page re-rendered)")
    print(f"bare Chalice route doing one PutItem, same server: {bare_rps:.1f} requests/s")
    print(f"ratio bookings / bare PutItem route: {booking_rps / bare_rps:.2f}")


if __name__ == "__main__":
    main()
