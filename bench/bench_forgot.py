"""« Mot de passe oublié »: the answer's time for a known and for an unknown login.

The request does the same work whatever the login (its checks, the two counters and
the audit entry in one transaction, one deferred job); the mail leaves from the jobs
worker, after the answer. The function runs in Chalice's test client over the embedded
AWS (moto's server on a loopback port), as `portail serve` runs it; the worker's queue
is drained between calls, outside the timed part. Each call uses a login and a source
address of its own (the endpoint allows 3 requests an hour per login, 20 per source).
Prints the ratio of the medians (known / unknown) last.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

from bench.round_trips import RoundTrips  # noqa: E402
from portail.embedded_aws import EmbeddedAWS  # noqa: E402
from portail.local_keys import export_to_environment, generate_signing_keys  # noqa: E402

RUNS = 40
HEADERS = {"Origin": "http://127.0.0.1:8000", "Content-Type": "application/json",
           "X-Portail-Origin": "bench"}


def main() -> None:
    with EmbeddedAWS() as aws:
        aws.configure_environment()
        aws.create_resources()
        export_to_environment(generate_signing_keys())
        os.environ.update(PORTAIL_SECRET="bench", PORTAIL_ORIGIN_SECRET="bench")
        import app as function
        from chalice.test import Client
        from chalicelib import jobs

        from portail.sample import add_family

        storage = function.storage()
        for n in range(RUNS):
            add_family(storage, str(100 + n), f"parent{n:03d}", None, last_name="ALPHA", child="ANNA",
                       email=f"parent{n:03d}@example.org")
        trips = RoundTrips(storage.client)
        times: dict[str, list[float]] = {"known": [], "unknown": []}
        counted: dict[str, dict] = {}
        with Client(function.app, project_dir=str(ROOT / "functions")) as client:
            client.http.post("/api/password/forgot", headers=HEADERS, body=json.dumps({"login": "echauffement"}))
            jobs.drain()
            for n in range(RUNS):
                # Alternate which goes first, so that neither profits from a warmer cache.
                order = ("known", "unknown") if n % 2 == 0 else ("unknown", "known")
                for kind in order:
                    login = f"parent{n:03d}" if kind == "known" else f"personne{n:03d}"
                    address = f"198.51.100.{n * 2 + (kind == 'known') + 1}:4000"
                    trips.reset()
                    start = time.perf_counter()
                    response = client.http.post("/api/password/forgot", body=json.dumps({"login": login}),
                                                headers={**HEADERS, "CloudFront-Viewer-Address": address})
                    times[kind].append(time.perf_counter() - start)
                    counted[kind] = dict(trips.by_operation)
                    assert response.status_code == 202, response.body
                    jobs.drain()
        mails = aws.client("ses").get_send_statistics()["SendDataPoints"]

    known, unknown = statistics.median(times["known"]), statistics.median(times["unknown"])
    print(f"known login  : median {known * 1000:.2f} ms, round trips {counted['known']}")
    print(f"unknown login: median {unknown * 1000:.2f} ms, round trips {counted['unknown']}")
    print(f"mails sent by the jobs worker: {sum(int(p.get('DeliveryAttempts', 0)) for p in mails)} (one per known login)")
    print(f"known / unknown answer time: {known / unknown:.2f}")


if __name__ == "__main__":
    main()
