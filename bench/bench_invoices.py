"""`portail invoices run` for 3,000 generated families through the embedded AWS.

Prints invoices per second of the whole run (reading, numbering, transactions, PDFs in
S3, announcement mails in SES), DynamoDB round trips per invoice (counted, not
guessed), the same for a second run of the month (which must change nothing), and last
the ratio of the time to make one invoice PDF to a bare reportlab one-table PDF.

    .venv/bin/python bench/bench_invoices.py [FAMILIES]
"""

from __future__ import annotations

import io
import os
import random
import sys
import time
from datetime import date, datetime
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "functions"), str(Path(__file__).resolve().parents[1])]

from chalicelib import storage as st  # noqa: E402
from chalicelib import table  # noqa: E402
from chalicelib.calendar_rules import CommuneCalendar  # noqa: E402
from chalicelib.config import get_commune  # noqa: E402
from chalicelib.documents import Documents  # noqa: E402
from chalicelib.families import (  # noqa: E402
    Child,
    Family,
    Responsable,
    child_item,
    family_item,
    responsable_item,
)
from chalicelib.invoicing import Invoicing  # noqa: E402
from chalicelib.mail import Mailer  # noqa: E402

from bench.round_trips import RoundTrips  # noqa: E402
from portail import moto_transactions  # noqa: E402
from portail.embedded_aws import EmbeddedAWS  # noqa: E402

FAMILIES = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
MONTH = date(2014, 10, 1)
NOW = datetime.fromisoformat("2014-11-28T12:00:00+01:00")
PDF_SAMPLES = 200


def family_items(commune, count: int) -> list[dict]:
    """Families as an import makes them, with October 2014 booked: the canteen every open
    day, the evening daycare one day in two; one family in five has two responsables
    (separated parents), each billed for their own child; a few absences."""
    rng = random.Random(3000)
    calendar = CommuneCalendar(commune)
    canteen = calendar.opening_days(commune.service("RESTAURATION"), MONTH, date(2014, 10, 31))
    evening = calendar.opening_days(commune.service("GARDERIE_SOIR"), MONTH, date(2014, 10, 31))[::2]
    items = []
    for index in range(count):
        number = f"{700000000000 + index}"
        separated = index % 5 == 0
        items.append(family_item(Family(number, rng.choice("ABCDE"), f"{rng.randint(1, 90)} rue des Écoles",
                                        "77124", "Crégy-lès-Meaux")))
        items.append(responsable_item(Responsable(number, 1, "Madame", f"NOM{index}", "ANNE", f"login{index}",
                                                  email=f"f{index}@example.org")))
        if separated:
            items.append(responsable_item(Responsable(number, 2, "Monsieur", f"NOM{index}", "PAUL",
                                                      f"login{index}-2", email=f"f{index}-2@example.org")))
        for child in range(1, rng.randint(1, 2) + 1):
            cid = str(child)
            items.append(child_item(Child(number, cid, f"NOM{index}", "LEA", "F", date(2010, 3, 14),
                                          ("RESTAURATION", "GARDERIE_SOIR"))))
            rank = 2 if separated and child == 2 else 1
            for service, days in (("RESTAURATION", canteen), ("GARDERIE_SOIR", evening)):
                for day in days:
                    status = "absent" if service == "RESTAURATION" and rng.random() < 0.03 else "validated"
                    items.append({"pk": st.family_pk(number), "sk": st.day_sk(cid, day, service), "kind": "day",
                                  "child_id": cid, "date": day, "service": service, "status": status,
                                  "responsable_rank": rank, "channel": "online",
                                  "gsi1pk": f"SERVICEDAY#{service}#{day.isoformat()}", "gsi1sk": f"{number}#{cid}"})
    return items


def bare_pdf(rows: list[list[str]]) -> bytes:
    """The baseline: reportlab's simplest one-table PDF of the same rows."""
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import SimpleDocTemplate, Table

    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4).build([Table(rows)])
    return buffer.getvalue()


def accelerated() -> bool:
    from reportlab.lib import rl_accel

    return rl_accel.fp_str.__module__ == "_rl_accel"


def pdf_ratio(invoices: list[dict], commune) -> tuple[float, float]:
    from chalicelib.invoice_pdf import HEADER, render, table_rows

    sample = invoices[:PDF_SAMPLES]
    # CPU time, each side measured twice in turn and the better kept: the machine is shared.
    ours = bare = float("inf")
    for _ in range(2):
        start = time.process_time()
        for invoice in sample:
            render(invoice, commune, "https://portail.example.org")
        ours = min(ours, (time.process_time() - start) / len(sample))
        start = time.process_time()
        for invoice in sample:
            bare_pdf([list(HEADER), *[list(r) for r in table_rows(invoice)], ["", "Total", "", "", str(invoice["total"])]])
        bare = min(bare, (time.process_time() - start) / len(sample))
    return ours, bare


def main() -> None:
    commune = get_commune()
    patched = moto_transactions.install()  # as the demo does: moto copies the table per action otherwise
    with EmbeddedAWS() as aws:
        aws.configure_environment(os.environ)
        aws.create_resources()
        client = aws.client("dynamodb")
        storage = st.Storage(client, table.table_name())
        items = family_items(commune, FAMILIES)
        storage.batch_write(items)
        documents = Documents(aws.client("s3"), table.bucket_name("documents"))
        mailer = Mailer(aws.client("ses"), commune.commune.contact_email)
        trips = RoundTrips(client)

        start, cpu = time.perf_counter(), time.process_time()
        report = Invoicing(storage, commune, NOW, documents=documents, mailer=mailer,
                           site_url="https://portail.example.org").run(MONTH)
        first, first_cpu = time.perf_counter() - start, time.process_time() - cpu
        first_trips, first_ops = trips.total, dict(trips.by_operation)

        trips.reset()
        start, cpu = time.perf_counter(), time.process_time()
        again = Invoicing(storage, commune, NOW, documents=documents, mailer=mailer).run(MONTH)
        second, second_cpu = time.perf_counter() - start, time.process_time() - cpu
        assert not again.invoices and not again.resumed, "a second run must change nothing"
        second_trips = trips.total

    count = len(report.invoices)
    print(f"invoicing October 2014 for {FAMILIES} families ({len(items)} items; moto transactions "
          f"{'without' if patched else 'WITH'} whole-table copies): {count} invoices, total {report.total} €, "
          f"{report.mailed} mails, {len(report.skipped)} skipped")
    print(f"  first run : {count / first:,.1f} invoices/s ({first:.1f} s, PDFs and mails included), "
          f"{first_trips / count:.3f} DynamoDB round trips per invoice ({first_trips} in all: {first_ops})")
    # The embedded AWS answers in this process: its CPU is counted with the run's.
    print(f"  first run's CPU (this process, the embedded AWS included): {first_cpu:.1f} s, "
          f"{first_cpu / count * 1000:.1f} ms per invoice (at most {count / first_cpu:,.1f} invoices/s on one core)")
    print(f"  same month again: {second:.1f} s ({second_cpu:.1f} s of CPU), {second_trips} round trips, nothing written "
          "(its time is the filtered Scan, each page read from its start key: portail/moto_scan.py)")
    ours, bare = pdf_ratio(report.invoices, commune)
    print(f"  one invoice PDF: {ours * 1000:.2f} ms of CPU; bare reportlab one-table PDF of the same rows: {bare * 1000:.2f} ms "
          f"(reportlab's C accelerators {'loaded' if accelerated() else 'MISSING: pip install rl-accel'})")
    print(f"ratio invoice PDF / bare one-table PDF: {ours / bare:.2f}")


if __name__ == "__main__":
    main()
