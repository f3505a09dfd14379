"""Family pages: bytes and requests per page type (HTML + CSS + JS, raw and
gzipped), the pages and DynamoDB round trips of one booking and of one message read, and
a full export of N families (default 3,000) through the embedded AWS against pure
Jinja2 rendering of the same pages in memory (ratio last).

    .venv/bin/python bench/bench_pages.py [--families N]

The families are synthetic and alike (two children, one enrolled in two services, the
other in one; five weeks of bookings, requests, invoices, payments, two messages). They
are read by one Scan and their stored pages listed at once, as `portail build --families`
does; the export then renders every page of every family and writes it to the embedded
S3 (the pages that changed: all, the first time). The nightly run reads a family by
one Query instead: moto sorts the whole table for each Query, so that path is not timed
on 3,000 families here (on DynamoDB a Query costs the same whatever the table's size).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

from bench.round_trips import RoundTrips  # noqa: E402
from portail.embedded_aws import EmbeddedAWS  # noqa: E402
from portail.local_keys import export_to_environment, generate_signing_keys  # noqa: E402
from portail.theme_assets import slim_css, slim_js  # noqa: E402

NOW = datetime.fromisoformat("2014-11-28T12:00:00+01:00")
STATIC = ROOT / "site" / "theme" / "static"
PASSWORD = "une phrase de passe tres longue"
REGIE = "REGIE UNIQUE DE CREGY LES MEAUX"
BUDGET = 30 * 1024  # the dashboard's HTML + CSS + JS


def family_items(number: str, calendar, commune) -> list[dict]:
    """One synthetic family's items, as the import, the bookings and the billing write them."""
    from chalicelib.families import (
        Child,
        Family,
        Responsable,
        child_item,
        family_item,
        responsable_item,
    )

    pk = f"FAMILY#{number}"
    items = [
        family_item(Family(number=number, quotient_bracket="C")),
        responsable_item(Responsable(number, 1, "Madame", f"NOM{number}", "CAMILLE", f"login{number}",
                                     email=f"f{number}@example.org", phone="06 12 34 56 78")),
        child_item(Child(number, "1", f"NOM{number}", "LÉA", "F", date(2008, 5, 3),
                         ("GARDERIE_MATIN", "RESTAURATION"))),
        child_item(Child(number, "2", f"NOM{number}", "TOM", "M", date(2011, 9, 12), ("RESTAURATION",))),
    ]
    day = date(2014, 11, 17)
    booked = []
    while day <= date(2014, 12, 19):
        for child, service in (("1", "GARDERIE_MATIN"), ("1", "RESTAURATION"), ("2", "RESTAURATION")):
            if calendar.is_open(day, commune.service(service)) and day.weekday() != 2:
                items.append({"pk": pk, "sk": f"DAY#{child}#{day}#{service}", "kind": "day", "child_id": child,
                              "date": day.isoformat(), "service": service, "status": "validated", "reason": "",
                              "message": "Réservation validée.", "responsable_rank": 1, "channel": "online",
                              "updated_at": "2014-10-20T08:00:00+00:00",
                              "gsi1pk": f"SERVICEDAY#{service}#{day}", "gsi1sk": f"{number}#{child}"})
                booked.append((child, day, service))
        day += timedelta(days=1)
    for n in range(5):
        when = datetime(2014, 10, 20 + n, 8, tzinfo=NOW.tzinfo).isoformat()
        items.append({"pk": pk, "sk": f"REQUEST#{when}#{n:04d}", "kind": "request", "request_id": f"{n:04d}",
                      "submitted_at": when, "child_id": "1", "responsable_rank": 1, "channel": "online",
                      "type": "booking", "items": [
                          {"date": d.isoformat(), "service": s, "action": "reserve", "status": "validated",
                           "reason": "", "message": "Réservation validée."}
                          for c, d, s in booked[n * 6:n * 6 + 6]]})
    operation = 21000 + int(number) * 10
    for k, (month, total, paid) in enumerate((("2014-09", "84.60", "84.60"), ("2014-10", "92.15", "0"))):
        invoice = f"FAC-{int(number) * 2 + k:06d}"
        issued = f"2014-{int(month[-2:]) + 1:02d}-04"
        items.append({"pk": pk, "sk": f"INVOICE#{invoice}", "number": invoice, "regie": REGIE,
                      "responsable_rank": 1, "responsable_name": f"Madame CAMILLE NOM{number}", "month": month,
                      "period_label": f"01/{month[-2:]}/2014 - 30/{month[-2:]}/2014", "invoice_date": issued,
                      "due_date": issued[:8] + "19", "school_year": "2014-2015", "total": Decimal(total),
                      "paid_amount": Decimal(paid), "lines": [], "deductions": [],
                      "pdf_key": f"factures/{number}/{invoice}.pdf"})
        items.append({"pk": pk, "sk": f"OPERATION#{operation + 2 * k:09d}", "number": operation + 2 * k,
                      "date": issued, "description": f"Facture : 01/{month[-2:]}/2014 - 30/{month[-2:]}/2014",
                      "regie": REGIE, "debit": Decimal(total), "credit": Decimal(0), "school_year": "2014-2015",
                      "invoice_number": invoice})
        if Decimal(paid):
            items.append({"pk": pk, "sk": f"OPERATION#{operation + 2 * k + 1:09d}", "number": operation + 2 * k + 1,
                          "date": "2014-10-14", "description": "Règlement : carte", "regie": REGIE,
                          "debit": Decimal(0), "credit": Decimal(paid), "school_year": "2014-2015"})
            items.append({"pk": pk, "sk": f"PAYMENT#2014-10-14#CB{number}", "reference": f"CB{number}",
                          "date": "2014-10-14", "amount": Decimal(paid), "mode": "carte",
                          "allocations": [{"invoice_number": invoice, "amount": Decimal(paid)}],
                          "unallocated": Decimal(0), "responsable_rank": 1})
    for n, (subject, read) in enumerate((("Bienvenue sur le Portail Famille", True), ("Menus du mois", False))):
        sent = f"2014-11-{10 + n:02d}T08:00:00+00:00"
        items.append({"pk": pk, "sk": f"MESSAGE#{sent}#m{number}{n}", "kind": "message",
                      "message_id": f"m{number}{n}", "sent_at": sent, "subject": subject, "sender": "Service enfance",
                      "body_markdown": "Vous pouvez **réserver** la cantine et la garderie en ligne.\n\n"
                                       "- au plus tard 5 jours avant\n- [le guide](/guide/)",
                      **({"read_at": "2014-11-12T08:00:00+00:00"} if read else {})})
    return items


def page_type(path: str) -> str:
    if path == "index.html":
        return "accueil (tableau de bord)"
    if re.match(r"enfants/[^/]+/\d{4}-\d{2}/", path):
        return "mois d'un enfant"
    if re.match(r"messages/[^/]+/", path):
        return "un message"
    if path.startswith("releve/"):  # releve/ is the current year's page
        return "relevé d'une année"
    return path.removesuffix("index.html").rstrip("/")


def assets(html: str) -> list[Path]:
    """The style sheets and scripts a page loads (root-relative, served from site/theme/static),
    with the modules its scripts import (a browser fetches those too), each once."""
    found = re.findall(r'<link rel="stylesheet" href="/theme/([^"]+)"', html)
    found += re.findall(r'<script[^>]+src="/theme/([^"]+)"', html)
    files: list[Path] = []
    pending = [(STATIC / name).resolve() for name in found]
    while pending:
        path = pending.pop(0)
        if path in files:
            continue
        files.append(path)
        if path.suffix == ".js":
            imported = re.findall(r'^\s*import\s[^;]*?["\'](\./[^"\']+)["\']', path.read_text(encoding="utf-8"), re.M)
            pending += [(path.parent / name).resolve() for name in imported]
    return files


def served(path: Path) -> bytes:
    """The file as the site serves it: the theme's CSS and JS slimmed at the build
    (portail/theme_assets.py: minified by rcssmin and rjsmin)."""
    slim = {".css": slim_css, ".js": slim_js}.get(path.suffix)
    text = path.read_text(encoding="utf-8")
    return (slim(text) if slim else text).encode()


def weigh(pages: dict[str, str]) -> list[tuple[str, int, int, int, int, int]]:
    """Per page type: (type, requests, HTML bytes, with CSS and JS, the same gzipped, HTML gzipped)."""
    rows, seen = [], set()
    for path, html in sorted(pages.items()):
        kind = page_type(path)
        if kind in seen:
            continue
        seen.add(kind)
        body = html.encode()
        files = [served(p) for p in assets(html)]
        rows.append((kind, 1 + len(files), len(body), len(body) + sum(map(len, files)),
                     len(gzip.compress(body, 9)) + sum(len(gzip.compress(f, 9)) for f in files),
                     len(gzip.compress(body, 9))))
    return rows


def main() -> None:
    import logging

    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--families", type=int, default=3000)
    arguments.add_argument("--direct", action="store_true",
                           help="the export's S3 requests through the in-process direct client (portail/aws.py), "
                                "as `portail serve --demo` writes the demo's pages")
    options = arguments.parse_args()
    count = options.families

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    os.environ["PORTAIL_NOW"] = NOW.isoformat()
    with EmbeddedAWS() as aws:
        aws.configure_environment()
        aws.create_resources()
        export_to_environment(generate_signing_keys())
        os.environ["PORTAIL_SECRET"] = "bench"
        os.environ["PORTAIL_SITE_URL"] = "http://127.0.0.1:8000"
        import app as function
        from chalice.test import Client
        from chalicelib.calendar_rules import CommuneCalendar
        from chalicelib.config import get_commune

        from portail.family_export import family_states
        from portail.notices import store_notices
        from portail.sample import add_family

        commune = get_commune()
        storage = function.storage()
        pages = function.family_pages()
        calendar = CommuneCalendar(commune)
        store_notices(storage, commune, NOW)

        # --- one family logged in: a booking and a message read through the function ---
        add_family(storage, "100", "alice", PASSWORD, last_name="ALPHA", child="ANNA", email="alice@example.org",
                   services=("GARDERIE_MATIN", "RESTAURATION"))
        storage.batch_write([i for i in family_items("100", calendar, commune)
                             if i["sk"] not in ("PROFILE", "RESPONSABLE#1", "CHILD#1")])
        pages.export(storage, "100", NOW)
        puts: list[str] = []
        pages.s3.meta.events.register("before-send.s3.PutObject", lambda request, **_: puts.append(request.url))
        trips = RoundTrips(storage.client)
        headers = {"Content-Type": "application/json", "Origin": "http://127.0.0.1:8000"}
        with Client(function.app, project_dir=str(ROOT / "functions")) as client:
            answer = client.http.post("/api/login", headers=headers, body=json.dumps({"login": "alice", "password": PASSWORD}))
            assert answer.status_code == 200, answer.body
            cookies = answer.headers["Set-Cookie"]
            cookies = cookies if isinstance(cookies, list) else [cookies]
            # The session and its CSRF cookie: a write without the latter is refused.
            headers["Cookie"] = "; ".join(next(v for v in cookies if v.startswith(name)).split(";")[0]
                                          for name in ("__Host-session=", "__Host-csrf="))
            trips.reset()
            puts.clear()
            answer = client.http.post("/api/bookings", headers=headers, body=(
                '{"child_id": "1", "items": [{"date": "2014-12-22", "service": "RESTAURATION", "action": "reserve"},'
                ' {"date": "2014-12-23", "service": "RESTAURATION", "action": "reserve"}]}'))
            assert answer.status_code == 200, answer.body
            booking = (len(puts), sorted(page_type(u.split("/famille/")[1].split("/", 1)[1]) for u in puts),
                       dict(trips.by_operation))
            trips.reset()
            puts.clear()
            answer = client.http.post("/api/messages/m1001/read", headers=headers, body="{}")
            assert answer.status_code == 204, answer.body
            reading = (len(puts), dict(trips.by_operation))
        sample = pages.render(storage.family_state("100"), 1, NOW, notices=pages.notices(storage, NOW))

        # --- N families: written, exported through the embedded AWS, rendered in memory ---
        start = time.perf_counter()
        batch: list[dict] = []
        for n in range(count):
            batch += family_items(f"{1000 + n}", calendar, commune)
            if len(batch) >= 5000:
                storage.batch_write(batch)
                batch = []
        storage.batch_write(batch)
        written = time.perf_counter() - start

        # Wall and CPU times (the process's: the embedded AWS answers on its threads).
        start, cpu = time.perf_counter(), time.process_time()
        states = list(family_states(storage).values())
        scanned, scanned_cpu = time.perf_counter() - start, time.process_time() - cpu
        puts.clear()
        exporter = pages
        if options.direct:
            from chalicelib.pages.export import FamilyPages
            from chalicelib.table import bucket_name

            from portail.aws import client as aws_client

            exporter = FamilyPages(aws_client("s3", direct=True), bucket_name("pages"), commune,
                                   os.environ["PORTAIL_SECRET"], frozen=True, site_url="http://127.0.0.1:8000")
            exporter.s3.meta.events.register("before-call.s3.PutObject", lambda **_: puts.append("direct"))
        start, cpu = time.perf_counter(), time.process_time()
        # As `portail build --families` (portail/family_export.py): the stored pages listed once.
        report = exporter.export_all(storage, NOW, states, stored_etags=exporter.all_stored_etags())
        exported, exported_cpu = time.perf_counter() - start, time.process_time() - cpu
        assert not report.failed, report.failed
        notices = pages.notices(storage, NOW)
        start, cpu = time.perf_counter(), time.process_time()
        rendered_pages = sum(len(pages.render(state, 1, NOW, notices=notices)) for state in states)
        rendered, rendered_cpu = time.perf_counter() - start, time.process_time() - cpu

    print("bytes and requests per page type (HTML + CSS + JS; gzip -9 as CloudFront would compress):")
    print(f"  {'page':28} {'requests':>8} {'HTML':>8} {'+CSS+JS':>8} {'gzipped':>8}")
    for kind, requests, html, total, zipped, _ in weigh(sample):
        print(f"  {kind:28} {requests:8d} {html:8d} {total:8d} {zipped:8d}")
    dashboard = next(r for r in weigh(sample) if r[0].startswith("accueil"))
    print(f"dashboard: {dashboard[3]} bytes raw, {dashboard[4]} gzipped, budget {BUDGET} "
          f"({'within' if dashboard[3] <= BUDGET else 'OVER'} raw, {'within' if dashboard[4] <= BUDGET else 'OVER'} gzipped)")
    print(f"one booking (2 days of December): {booking[0]} pages re-rendered {booking[1]}; "
          f"DynamoDB round trips {sum(booking[2].values())} {booking[2]}")
    print(f"one message read: {reading[0]} pages re-rendered; DynamoDB round trips "
          f"{sum(reading[1].values())} {reading[1]}")
    print(f"{count} families written in {written:.1f} s; read back by one Scan in {scanned:.1f} s")
    print(f"export through the embedded AWS{' (direct client)' if options.direct else ''}: {report.pages} pages of {report.families} families rendered and "
          f"written in {exported:.1f} s ({exported / report.families * 1000:.1f} ms per family, {len(puts)} S3 PUTs)")
    print(f"pure Jinja2 rendering of the same pages in memory: {rendered_pages} pages in {rendered:.1f} s "
          f"({rendered / count * 1000:.1f} ms per family)")
    print(f"CPU: Scan {scanned_cpu:.1f} s, export {exported_cpu:.1f} s, rendering {rendered_cpu:.1f} s; "
          f"CPU ratios export without the Scan / rendering {exported_cpu / rendered_cpu:.2f}, "
          f"full export / rendering {(scanned_cpu + exported_cpu) / rendered_cpu:.2f}")
    print(f"ratio export without the Scan / in-memory rendering: {exported / rendered:.2f}")
    print(f"ratio full export (Scan, rendering, S3 writes) / in-memory rendering: {(scanned + exported) / rendered:.2f}")


if __name__ == "__main__":
    main()
