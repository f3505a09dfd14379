"""The staff's pending requests: DynamoDB round trips of `GET /gestion/demandes/`,
`POST /gestion/demandes` (N days) and `GET /gestion/certificats/` (counted with
botocore's event hooks), and the time to render `/gestion/demandes/` with 2,000
pending days against the same page with 20 (same process, interleaved repetitions,
medians; ratio last: the function's own work, the time spent in DynamoDB's calls taken
off, since moto's Query reads the whole index partition and DynamoDB's reads a page).

    .venv/bin/python bench/bench_staff_requests.py [--repeat N]

In-process moto and Chalice's test client, as the API tests use them. The two tables
hold the same number of items (the small one is padded with items off the index):
moto's Query reads the whole table, DynamoDB's does not, and the ratio should measure
the page, not moto. The list shows 200 lines a page (docs/bookings.md): with 2,000
pending days the first page holds 200 of them, so the ratio says what pagination buys.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]
os.environ.setdefault("PORTAIL_COMMUNE_FILE", str(ROOT / "tests" / "commune.toml"))
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-3")
for _name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
    os.environ.setdefault(_name, "bench")

from bench.round_trips import RoundTrips  # noqa: E402

NOW = datetime.fromisoformat("2014-11-28T12:00:00+01:00")
ORIGIN = "http://127.0.0.1:8000"  # tests/commune.toml's site_url
PASSWORD = "une phrase de passe pour la gestion"
SERVICES = ("GARDERIE_MIDI", "GARDERIE_MATIN", "GARDERIE_SOIR")


def open_days(count: int) -> list[date]:
    days, day = [], date(2014, 12, 1)
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def pending_items(count: int, padding: int) -> list[dict]:
    """`count` pending days (the day and its WAIT item, as a full day's reservation writes
    them), spread over families of five days each, and `padding` items off the index."""
    from chalicelib import storage as st
    from chalicelib.families import (
        Child,
        Family,
        Responsable,
        child_item,
        family_item,
        responsable_item,
    )
    from chalicelib.waiting_list import wait_item

    items, days = [], open_days(15)
    for n in range(count):
        family, child = str(1000 + n // 5), "1"
        if n % 5 == 0:
            items += [family_item(Family(number=family, quotient_bracket="B")),
                      responsable_item(Responsable(family, 1, "Madame", f"NOM{family}", "CAMILLE", f"login{family}",
                                                   email=f"f{family}@example.org")),
                      child_item(Child(family, child, f"NOM{family}", "LÉA", "F", date(2008, 5, 3), SERVICES))]
        day, service = days[n % len(days)], SERVICES[(n // len(days)) % len(SERVICES)]
        when = NOW + timedelta(seconds=n)
        wait = wait_item(family, child, 1, service, day, when,
                         {"child_name": f"NOM{family} LÉA", "responsable_name": f"Madame CAMILLE NOM{family}"})
        items.append(wait)
        items.append({"pk": st.family_pk(family), "sk": st.day_sk(child, day, service), "kind": "day",
                      "child_id": child, "date": day, "service": service, "status": "pending",
                      "reason": "waiting_list", "responsable_rank": 1, "channel": "online", "requested_at": when,
                      "updated_at": when, "wait_sk": wait["sk"], "gsi1pk": st.service_day_pk(service, day),
                      "gsi1sk": f"{family}#{child}"})
    items += [{"pk": f"PADDING#{n}", "sk": "PADDING", "kind": "padding"} for n in range(padding)]
    return items


def certificate_items(count: int, s3, bucket: str) -> list[dict]:
    """`count` certificates to review, their files in the documents bucket."""
    from chalicelib import certificates as cert
    from chalicelib import storage as st

    items = []
    for n in range(count):
        family, identifier = str(1000 + n), f"{n:016x}"
        key = f"certificats/{family}/1/{identifier}.pdf"
        s3.put_object(Bucket=bucket, Key=key, Body=b"%PDF-1.4\n%%EOF\n", ContentType="application/pdf")
        recorded = NOW - timedelta(hours=n)
        items.append({"pk": st.family_pk(family), "sk": f"CERTIFICATE#1#2014-11-20#{identifier}",
                      "certificate_id": identifier, "child_id": "1", "dates": ["2014-11-20", "2014-11-21"],
                      "document_key": key, "content_type": "application/pdf", "recorded_at": recorded,
                      "recorded_by": "parent", "state": cert.TO_REVIEW, "received_at": recorded,
                      **cert.open_index_keys(family, "1", identifier, recorded)})
    return items


class Portal:
    """The function on one table, a staff session open on it; its collaborators kept so
    that switching between two tables costs nothing timed."""

    def __init__(self, client, table: str, items: list[dict]):
        import boto3
        from chalicelib import dependencies
        from chalicelib import table as tables
        from chalicelib.storage import Storage

        self.client, self.table = client, table
        os.environ[tables.TABLE_ENV] = table
        tables.create_table(boto3.client("dynamodb"), table)
        Storage(boto3.client("dynamodb"), table).batch_write(items)
        dependencies.reset_dependencies()
        self.cookie, self.csrf_token = self._log_in()
        self.get("/gestion/demandes/")  # builds the collaborators (clients, templates)
        self.kept = dict(dependencies._dependencies)

    def use(self):
        from chalicelib import dependencies
        from chalicelib import table as tables

        os.environ[tables.TABLE_ENV] = self.table
        dependencies._dependencies.clear()
        dependencies._dependencies.update(self.kept)
        return self

    def _log_in(self) -> tuple[str, str]:
        import pyotp
        from chalicelib.dependencies import secret, staff_accounts
        from chalicelib.staff import sessions

        login = f"agent-{self.table}"
        accounts = staff_accounts()
        _, totp_secret = accounts.create(login, "agent", datetime.now(UTC))
        accounts.set_password(login, PASSWORD, datetime.now(UTC))
        response = self.post("/gestion/connexion", {"login": login, "password": PASSWORD,
                                                    "code": pyotp.TOTP(totp_secret).now()}, cookie="")
        assert response.status_code == 303, response.body[:300]
        headers = response.headers.get("Set-Cookie") or response.headers.get("set-cookie")
        cookie = next(h for h in ([headers] if isinstance(headers, str) else headers)
                      if h.startswith(sessions.COOKIE_NAME + "=")).split(";")[0]
        return cookie, sessions.csrf_token(secret(), sessions.token_hash(cookie.split("=", 1)[1]))

    def get(self, path: str):
        response = self.client.http.get(path, headers={"Cookie": getattr(self, "cookie", "")})
        assert response.status_code == 200, (path, response.status_code, response.body[:300])
        return response

    def post(self, path: str, fields, cookie: str | None = None):
        fields = list(fields.items()) if isinstance(fields, dict) else list(fields)
        if cookie is None:
            fields.append(("csrf_token", self.csrf_token))
        return self.client.http.post(path, body=urlencode(fields), headers={
            "Origin": ORIGIN, "Content-Type": "application/x-www-form-urlencoded",
            **({"Cookie": self.cookie if cookie is None else cookie} if (cookie or cookie is None) else {})})


class DynamoTime:
    """The seconds spent in the DynamoDB client's calls (moto's work, here) while open."""

    def __enter__(self):
        from chalicelib.dependencies import storage

        self.events, self.seconds, self.started = storage().client.meta.events, 0.0, []
        self.events.register("before-call.dynamodb", self._before)
        self.events.register("after-call.dynamodb", self._after)
        return self

    def _before(self, **_):
        self.started.append(time.perf_counter())

    def _after(self, **_):
        self.seconds += time.perf_counter() - self.started.pop()

    def __exit__(self, *_):
        self.events.unregister("before-call.dynamodb", self._before)
        self.events.unregister("after-call.dynamodb", self._after)


def counted(portal: Portal, call) -> tuple[dict, object]:
    from chalicelib.dependencies import storage

    calls = RoundTrips(storage().client)
    answer = call()
    by = dict(calls.by_operation)
    storage().client.meta.events.unregister("before-send.dynamodb", calls._count)
    return by, answer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--profile", action="store_true", help="profile one render of the 2,000 days' page")
    args = parser.parse_args()

    from moto import mock_aws

    from portail.local_keys import export_to_environment, generate_signing_keys

    environment = {}
    export_to_environment(generate_signing_keys(), environment)
    os.environ.update({**environment, "PORTAIL_SECRET": "bench-secret", "PORTAIL_NOW": NOW.isoformat()})
    with mock_aws():
        import boto3
        from app import app
        from chalice.test import Client
        from chalicelib.table import bucket_name

        s3 = boto3.client("s3")
        for kind in ("pages", "documents"):
            s3.create_bucket(Bucket=bucket_name(kind), CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
        from chalicelib.config import get_commune

        boto3.client("ses").verify_email_identity(EmailAddress=get_commune().commune.contact_email)
        with Client(app, project_dir=str(ROOT / "functions")) as client:
            big_items = pending_items(2000, 0)
            small_items = pending_items(20, 0)
            big = Portal(client, "bench-staff-2000", big_items + certificate_items(20, s3, bucket_name("documents")))
            small = Portal(client, "bench-staff-20", small_items + pending_items(0, len(big_items) - len(small_items))
                           + certificate_items(20, s3, bucket_name("documents")))

            for portal, label in ((big, "2 000"), (small, "20")):
                portal.use()
                by, response = counted(portal, lambda p=portal: p.get("/gestion/demandes/"))
                shown = response.body.decode().count('name="item"')
                print(f"GET /gestion/demandes/ ({label} jours en attente, {shown} affichés) : {by}")
            big.use()
            by, _ = counted(big, lambda: big.get("/gestion/certificats/"))
            print(f"GET /gestion/certificats/ (20 certificats à examiner) : {by}")
            by, _ = counted(big, lambda: big.get("/gestion/"))
            print(f"GET /gestion/ (le jour) : {by}")

            if args.profile:
                import cProfile
                import pstats

                big.use()
                profile = cProfile.Profile()
                profile.runcall(big.get, "/gestion/demandes/")
                pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
            times = {"2000": [], "20": []}
            own = {"2000": [], "20": []}
            for _ in range(args.repeat):
                for portal, key in ((big, "2000"), (small, "20")):
                    portal.use()
                    with DynamoTime() as dynamo:
                        start = time.perf_counter()
                        portal.get("/gestion/demandes/")
                        elapsed = time.perf_counter() - start
                    times[key].append(elapsed)
                    own[key].append(elapsed - dynamo.seconds)

            # Decisions last: they take days off the lists.
            values = [w["gsi1sk"] for w in big_items if w.get("kind") == "wait"]
            for n in (1, 10, 100):
                chosen = values[:n]
                del values[:n]
                fields = [("decision", "refuse"), ("reason", "complet")]
                fields += [("item", "{3}/{4}/{1}/{0}".format(*v.split("#"))) for v in chosen]
                big.use()
                by, response = counted(big, lambda f=fields: big.post("/gestion/demandes", f))
                assert response.status_code == 200, response.body[:300]
                families = len({v.split("#")[3] for v in chosen})
                print(f"POST /gestion/demandes ({n} jour(s) refusé(s), {families} famille(s)) : {by}")

    big_ms, small_ms = (statistics.median(times[k]) * 1000 for k in ("2000", "20"))
    big_own, small_own = (statistics.median(own[k]) * 1000 for k in ("2000", "20"))
    print(f"GET /gestion/demandes/, médianes de {args.repeat} répétitions alternées :")
    print(f"  réponse entière (moto compris) : {big_ms:.1f} ms (2 000 jours en attente) contre {small_ms:.1f} ms (20), "
          f"ratio {big_ms / small_ms:.2f} : moto lit tout l'index à chaque Query, DynamoDB non")
    print(f"  travail de la fonction (hors temps passé dans DynamoDB/moto) : {big_own:.1f} ms contre {small_own:.1f} ms")
    print(f"ratio 2 000 / 20 (travail de la fonction) : {big_own / small_own:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
