"""The DynamoDB round trips a regularisation adds to an invoicing run (docs/billing.md).

For FAMILIES families invoiced for October 2014, the November run is made twice on the
same data, once without and once with a change after October's run in CHANGED families,
and the round trips of both runs are counted (botocore's hooks, not guessed):

- days validated after invoicing: regularisation lines on the November invoice;
- a certificate accepted after invoicing for a family without a November day: the
  month's total is negative, so the run issues a credit note.

Prints the round trips added per family changed, last. In process (moto), PDFs and mails
included.

    .venv/bin/python bench/bench_regularisation.py [FAMILIES] [CHANGED]
"""

from __future__ import annotations

import os
import sys
from datetime import date, datetime
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "functions"), str(Path(__file__).resolve().parents[1])]
os.environ.setdefault("PORTAIL_COMMUNE_FILE", str(Path(__file__).resolve().parents[1] / "tests" / "commune.toml"))
for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
    os.environ.setdefault(name, "testing")
os.environ["AWS_DEFAULT_REGION"] = "eu-west-3"
os.environ.pop("AWS_ENDPOINT_URL", None)

FAMILIES = int(sys.argv[1]) if len(sys.argv) > 1 else 40
CHANGED = int(sys.argv[2]) if len(sys.argv) > 2 else 10
OCTOBER, NOVEMBER = date(2014, 10, 1), date(2014, 11, 1)


def scenario(kind: str, changed: bool) -> int:
    """The round trips of November's run, `kind` of change made (or not) in CHANGED families."""
    import boto3
    from chalicelib import table
    from chalicelib.config import get_commune
    from chalicelib.documents import Documents, record_staff_certificate
    from chalicelib.invoicing import Invoicing
    from chalicelib.mail import Mailer
    from chalicelib.storage import Storage
    from moto import mock_aws

    from bench.round_trips import RoundTrips
    from portail.sample import add_family

    with mock_aws():
        commune = get_commune()
        client = boto3.client("dynamodb")
        table.create_table(client, table.table_name(), wait=False)
        storage = Storage(client, table.table_name())
        s3, ses = boto3.client("s3"), boto3.client("ses")
        s3.create_bucket(Bucket="documents", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
        ses.verify_email_identity(EmailAddress=commune.commune.contact_email)
        tools = {"documents": Documents(s3, "documents"), "mailer": Mailer(ses, commune.commune.contact_email)}

        def book(family: str, days: list[str], status: str = "validated") -> None:
            storage.batch_write([{"pk": f"FAMILY#{family}", "sk": f"DAY#1#{d}#RESTAURATION", "child_id": "1",
                                  "date": d, "service": "RESTAURATION", "status": status, "responsable_rank": 1}
                                 for d in days])

        numbers = [f"{500 + n}" for n in range(FAMILIES)]
        for number in numbers:
            add_family(storage, number, f"login{number}", None, last_name=f"NOM{number}", child="LEA",
                       email=f"f{number}@example.org")
            book(number, ["2014-10-02", "2014-10-03"])
            book(number, ["2014-10-13", "2014-10-14", "2014-10-16"],
                 "absent" if kind == "certificate" else "pending")
        Invoicing(storage, commune, datetime.fromisoformat("2014-11-04T09:00:00+01:00"), **tools).run(OCTOBER)
        for index, number in enumerate(numbers):
            mine = changed and index < CHANGED
            if mine and kind == "late_days":
                book(number, ["2014-10-13", "2014-10-14", "2014-10-16"])
            if mine and kind == "certificate":
                book(number, ["2014-10-03"], "cancelled")  # and no November day: the month is negative
                record_staff_certificate(storage, number, "1", ["2014-10-13", "2014-10-14", "2014-10-16"],
                                         datetime.fromisoformat("2014-11-10T09:00:00+01:00"))
            else:
                book(number, ["2014-11-03"])
        trips = RoundTrips(client)
        report = Invoicing(storage, commune, datetime.fromisoformat("2014-12-04T09:00:00+01:00"), **tools).run(
            NOVEMBER)
        if changed:
            regularised = sum(1 for i in report.invoices if i["regularisations"]) + len(report.credit_notes)
            assert regularised == CHANGED, (kind, regularised)
        return trips.total, dict(trips.by_operation)


def main() -> None:
    from portail import moto_transactions

    moto_transactions.install()
    print(f"November's run for {FAMILIES} families, {CHANGED} of them changed after October was invoiced:")
    for kind, words in (("late_days", "days validated after invoicing (regularisation lines)"),
                        ("certificate", "a certificate after invoicing, more deducted than billed (credit notes)")):
        base, base_ops = scenario(kind, False)
        with_change, ops = scenario(kind, True)
        print(f"  {words}: {with_change} round trips ({ops}) against {base} without ({base_ops}): "
              f"{(with_change - base) / CHANGED:+.2f} per family changed")


if __name__ == "__main__":
    main()
