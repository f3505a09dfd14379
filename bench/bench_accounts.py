"""Accounts: DynamoDB round trips per login and per authenticated call (counted with
botocore's event hooks), and the argon2 hash's share of a login call.

The function runs in Chalice's test client over the embedded AWS (moto's server on a
loopback port), as `portail serve` runs it. Prints the share last.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

from bench.round_trips import RoundTrips  # noqa: E402
from portail.embedded_aws import EmbeddedAWS  # noqa: E402
from portail.local_keys import export_to_environment, generate_signing_keys  # noqa: E402

RUNS = 15
PASSWORD = "une phrase de passe tres longue"
HEADERS = {"Origin": "http://127.0.0.1:8000", "Content-Type": "application/json"}


def main() -> None:
    with EmbeddedAWS() as aws:
        aws.configure_environment()
        aws.create_resources()
        export_to_environment(generate_signing_keys())
        os.environ["PORTAIL_SECRET"] = "bench"
        import app as function
        from chalice.test import Client
        from chalicelib import clock, passwords

        from portail.sample import add_family

        storage = function.storage()
        add_family(storage, "100", "alice", PASSWORD, last_name="ALPHA", child="ANNA", email="alice@example.org")
        stored_hash = storage.login("alice")["password_hash"]
        trips = RoundTrips(storage.client)
        body = json.dumps({"login": "alice", "password": PASSWORD})
        with Client(function.app, project_dir=str(ROOT / "functions")) as client:
            login_times, cookie = [], None
            for _ in range(RUNS):
                trips.reset()
                start = time.perf_counter()
                response = client.http.post("/api/login", headers=HEADERS, body=body)
                login_times.append(time.perf_counter() - start)
                assert response.status_code == 200, response.body
                cookies = response.headers["Set-Cookie"]
                cookie = "; ".join(next(c for c in cookies if c.startswith(name)).split(";")[0]
                                   for name in ("__Host-session=", "__Host-csrf="))
            login_trips = dict(trips.by_operation)

            trips.reset()
            client.http.post("/api/login", headers=HEADERS, body=json.dumps({"login": "alice", "password": "faux"}))
            failed_trips = dict(trips.by_operation)

            trips.reset()
            assert client.http.get("/api/me", headers={"Cookie": cookie}).status_code == 200
            me_trips = dict(trips.by_operation)

            # A call a minute later moves the session on (one write) and re-signs the page cookies.
            os.environ[clock.FROZEN_ENV] = (clock.now() + timedelta(minutes=2)).isoformat()
            trips.reset()
            assert client.http.get("/api/me", headers={"Cookie": cookie}).status_code == 200
            me_touch_trips = dict(trips.by_operation)
            del os.environ[clock.FROZEN_ENV]

            trips.reset()
            assert client.http.post("/api/logout", headers={**HEADERS, "Cookie": cookie}).status_code == 204
            logout_trips = dict(trips.by_operation)

        hash_times = []
        for _ in range(RUNS):
            start = time.perf_counter()
            passwords.verify_password(stored_hash, PASSWORD)
            hash_times.append(time.perf_counter() - start)

    def total(ops):
        return sum(ops.values())

    print(f"login (success)        : {total(login_trips)} round trips {login_trips} "
          "(read; the attempt counted; session, count taken back)")
    print(f"login (wrong password) : {total(failed_trips)} round trips {failed_trips} (read; the attempt counted)")
    print(f"GET /api/me            : {total(me_trips)} round trips {me_trips} (session read + the family's one Query)")
    print(f"GET /api/me, a minute on: {total(me_touch_trips)} round trips {me_touch_trips} (+ the session's new last-seen)")
    print(f"logout                 : {total(logout_trips)} round trips {logout_trips}")
    login_median, hash_median = statistics.median(login_times), statistics.median(hash_times)
    print(f"median login call {login_median * 1000:.1f} ms, median argon2id verification {hash_median * 1000:.1f} ms "
          "(embedded AWS over loopback)")
    print(f"argon2 share of a login call: {hash_median / login_median:.2f}")


if __name__ == "__main__":
    main()
