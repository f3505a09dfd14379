"""The monthly invoicing run (chalicelib.invoicing, `portail invoices run`): one invoice per
responsable and month, gapless numbers even after a fault, a re-run that changes
nothing, a dry run that writes nothing, one announcement per invoice."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace

import boto3
import pytest
from chalicelib import storage as st
from chalicelib.booking_requests import Item
from chalicelib.bookings import Bookings
from chalicelib.documents import Documents, record_staff_certificate
from chalicelib.families import Responsable, responsable_item
from chalicelib.invoicing import Invoicing, summary
from chalicelib.mail import Mailer
from chalicelib.table import bucket_name

from portail.sample import add_family
from tests.conftest import GUIDE_NOW, all_items

OCTOBER = date(2014, 10, 1)


@pytest.fixture
def tools(storage, commune):
    """The documents bucket and the SES sender on moto; the run's Documents and Mailer."""
    s3 = boto3.client("s3", region_name="eu-west-3")
    s3.create_bucket(Bucket=bucket_name("documents"), CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    ses = boto3.client("ses", region_name="eu-west-3")
    ses.verify_email_identity(EmailAddress=commune.commune.contact_email)
    return SimpleNamespace(s3=s3, documents=Documents(s3, bucket_name("documents")),
                           mailer=Mailer(ses, commune.commune.contact_email))


def new_family(storage, number: str, *, second_responsable: bool = False) -> None:
    add_family(storage, number, f"login{number}", None, last_name=f"NOM{number}", child="LEA",
               email=f"f{number}@example.org")
    if second_responsable:  # separated parents
        storage.put(responsable_item(Responsable(number, 2, "Monsieur", f"AUTRE{number}", "PAUL", f"login{number}-2",
                                                 email=f"f{number}-2@example.org")))


def book(storage, family: str, dates: list[str], status: str = "validated", rank: int = 1,
         service: str = "RESTAURATION") -> None:
    storage.batch_write([{"pk": st.family_pk(family), "sk": f"DAY#1#{d}#{service}", "kind": "day", "child_id": "1",
                          "date": d, "service": service, "status": status, "responsable_rank": rank}
                         for d in dates])


def invoicing(storage, commune, tools, **options) -> Invoicing:
    return Invoicing(storage, commune, GUIDE_NOW, documents=tools.documents, mailer=tools.mailer,
                     site_url="https://portail.example.org", **options)


def invoices(storage) -> list[dict]:
    return sorted((i for i in all_items(storage) if i["sk"].startswith("INVOICE#")), key=lambda i: i["seq"])


def pdf_keys(s3) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket_name("documents")).get("Contents", []))


def snapshot(storage, s3, mails) -> tuple:
    items = sorted(all_items(storage), key=lambda i: (i["pk"], i["sk"]))
    objects = s3.list_objects_v2(Bucket=bucket_name("documents")).get("Contents", [])
    return items, sorted((o["Key"], o["ETag"]) for o in objects), len(mails())


# --- the absence rule, through real bookings and certificates ------------------------------------

def test_absences_with_and_without_certificate_through_bookings(storage, commune, enrolled, tools):
    bookings = Bookings(storage, commune)
    reserved = ["2014-10-02", "2014-10-03", "2014-10-06", "2014-10-07", "2014-10-09", "2014-10-10"]
    for family in ("100", "200"):
        bookings.submit(family, "1", 1, [Item(date.fromisoformat(d), "RESTAURATION", "reserve") for d in reserved],
                        datetime.fromisoformat("2014-09-15T10:00:00+02:00"))
        results, _ = bookings.submit(family, "1", 1, [Item(date(2014, 10, 10), "RESTAURATION", "cancel")],
                                     datetime.fromisoformat("2014-09-20T10:00:00+02:00"))
        assert results[0]["status"] == "cancelled"
        # Declared on Sunday 5 October, after the deadline: absences, not cancellations.
        results, _ = bookings.submit(family, "1", 1, [Item(date(2014, 10, d), "RESTAURATION", "absence")
                                                      for d in (6, 7, 9)],
                                     datetime.fromisoformat("2014-10-05T18:00:00+02:00"))
        assert [r["status"] for r in results] == ["absent"] * 3
    # Family 100 brings a medical certificate for the whole absence; family 200 none.
    record_staff_certificate(storage, "100", "1", ["2014-10-06", "2014-10-07", "2014-10-09"],
                             datetime.fromisoformat("2014-10-10T09:00:00+02:00"))

    report = invoicing(storage, commune, tools).run(OCTOBER)

    by_family = {i["family_number"]: i for i in report.invoices}
    with_certificate, without = by_family["100"], by_family["200"]
    assert with_certificate["lines"][0]["days"] == ["2014-10-02", "2014-10-03", "2014-10-06", "2014-10-07", "2014-10-09"]
    assert with_certificate["deductions"][0]["days"] == ["2014-10-07", "2014-10-09"]  # the 6th, first day, is billed
    assert with_certificate["total"] == Decimal("7.35")  # 3 days at 2,45 € (tests/commune.toml)
    assert without["lines"][0]["quantity"] == 5 and without["deductions"] == []
    assert without["total"] == Decimal("12.25")  # the cancelled 10th is free


# --- separated parents ------------------------------------------------------------------

def test_separated_parents_each_get_their_own_invoice_and_mail(storage, commune, tools, mails):
    new_family(storage, "300", second_responsable=True)
    new_family(storage, "400")
    book(storage, "300", ["2014-10-02", "2014-10-03"], rank=1)
    book(storage, "300", ["2014-10-06", "2014-10-07", "2014-10-09"], rank=2)
    book(storage, "400", ["2014-10-02"])

    report = invoicing(storage, commune, tools).run(OCTOBER)

    stored = invoices(storage)
    assert [(i["family_number"], i["responsable_rank"], i["responsable_name"], i["lines"][0]["days"], i["total"])
            for i in stored] == [
        ("300", 1, "Madame ANNE NOM300", ["2014-10-02", "2014-10-03"], Decimal("4.90")),
        ("300", 2, "Monsieur PAUL AUTRE300", ["2014-10-06", "2014-10-07", "2014-10-09"], Decimal("7.35")),
        ("400", 1, "Madame ANNE NOM400", ["2014-10-02"], Decimal("2.45")),
    ]
    assert [i["number"] for i in stored] == ["FAC-000001", "FAC-000002", "FAC-000003"]
    assert report.total == Decimal("14.70")
    sent = {m["To"]: m for m in mails()}
    assert set(sent) == {"f300@example.org", "f300-2@example.org", "f400@example.org"}
    mail = sent["f300-2@example.org"]
    assert "FAC-000002" in mail["Subject"]
    assert "FAC-000002" in mail["Body"] and "01/10/2014 - 31/10/2014" in mail["Body"] and "7,35\u00a0€" in mail["Body"]
    assert "https://portail.example.org/connexion/" in mail["Body"]
    # Nothing else: not the other parent's invoice, no name, no child.
    assert "FAC-000001" not in mail["Body"] and "NOM300" not in mail["Body"] and "LEA" not in mail["Body"]
    # Each invoice has its statement operation (debit), its PDF, and its marker.
    operations = sorted((i for i in all_items(storage) if i["sk"].startswith("OPERATION#")), key=lambda o: o["number"])
    assert [(o["number"], o["invoice_number"], o["debit"], o["date"], o["description"], o["school_year"])
            for o in operations] == [
        (1, "FAC-000001", Decimal("4.90"), "2014-11-04", "Facture : 01/10/2014 - 31/10/2014", "2014-2015"),
        (2, "FAC-000002", Decimal("7.35"), "2014-11-04", "Facture : 01/10/2014 - 31/10/2014", "2014-2015"),
        (3, "FAC-000003", Decimal("2.45"), "2014-11-04", "Facture : 01/10/2014 - 31/10/2014", "2014-2015"),
    ]
    assert pdf_keys(tools.s3) == ["factures/300/FAC-000001.pdf", "factures/300/FAC-000002.pdf",
                                  "factures/400/FAC-000003.pdf"]
    assert [i["pdf_key"] for i in stored] == pdf_keys(tools.s3)
    assert stored[0]["due_date"] == "2014-12-04" and stored[0]["invoice_date"] == "2014-11-04"


# --- numbering: faults, resumption, re-runs ----------------------------------------------------

def seven_families(storage) -> None:
    for n in range(7):
        new_family(storage, f"5{n:02d}", second_responsable=n == 3)
        book(storage, f"5{n:02d}", ["2014-10-02", "2014-10-03"][: 1 + n % 2])
        if n == 3:
            book(storage, f"5{n:02d}", ["2014-10-06"], rank=2)


def test_numbers_stay_gapless_when_a_fault_stops_the_run_and_it_is_resumed(storage, commune, tools, mails, monkeypatch):
    seven_families(storage)  # 8 invoices: family 503 has two responsables
    real_transact = storage.transact
    calls = []

    def failing(actions):
        calls.append(len(actions))
        if len(calls) == 3:
            raise RuntimeError("panne simulée au milieu de la facturation")
        return real_transact(actions)

    monkeypatch.setattr(storage, "transact", failing)
    with pytest.raises(RuntimeError, match="panne simulée"):
        invoicing(storage, commune, tools, chunk_size=3).run(OCTOBER)
    written = invoices(storage)
    assert [i["seq"] for i in written] == list(range(1, len(written) + 1)) and 0 < len(written) < 8
    assert storage.counter_values("INVOICE")["INVOICE"] == len(written)

    monkeypatch.setattr(storage, "transact", real_transact)
    report = invoicing(storage, commune, tools, chunk_size=3).run(OCTOBER)

    stored = invoices(storage)
    assert [i["number"] for i in stored] == [f"FAC-{n:06d}" for n in range(1, 9)]
    assert len({(i["family_number"], i["responsable_rank"]) for i in stored}) == 8
    assert storage.counter_values("INVOICE", "OPERATION") == {"INVOICE": 8, "OPERATION": 8}
    operations = sorted(int(i["number"]) for i in all_items(storage) if i["sk"].startswith("OPERATION#"))
    assert operations == list(range(1, 9))
    assert len(report.invoices) == 8 - len(written)
    assert len(mails()) == 8 and len(pdf_keys(tools.s3)) == 8


def test_a_crash_after_the_write_is_finished_by_the_next_run_without_a_second_mail(storage, commune, tools, mails,
                                                                                  monkeypatch):
    seven_families(storage)
    real_send = tools.mailer.send
    sent = []
    lock = threading.Lock()  # a chunk's mails are sent from a few threads

    def crashing(to, subject, text):
        with lock:
            if len(sent) == 2:
                raise RuntimeError("arrêt brutal pendant les envois")
            sent.append(to)
        real_send(to, subject, text)

    monkeypatch.setattr(tools.mailer, "send", crashing)
    with pytest.raises(RuntimeError):
        invoicing(storage, commune, tools, chunk_size=5).run(OCTOBER)
    assert len(invoices(storage)) == 5 and len(mails()) == 2  # written, but 3 not announced yet

    monkeypatch.setattr(tools.mailer, "send", real_send)
    report = invoicing(storage, commune, tools, chunk_size=5).run(OCTOBER)
    assert report.resumed == 3 and len(report.invoices) == 3
    recipients = [m["To"] for m in mails()]
    assert len(recipients) == 8 == len(set(recipients))  # every invoice announced once
    assert len(pdf_keys(tools.s3)) == 8
    assert "Reprise d'une facturation interrompue : 3 facture(s)" in "\n".join(summary(report))


def test_a_crash_before_a_chunks_markers_sends_its_mails_again_once_and_loses_none(storage, commune, tools, mails,
                                                                                     monkeypatch):
    """The markers of a chunk are written once its mails are sent: a crash in between sends
    that chunk's mails once more on the next run (twice at most), and no invoice unannounced."""
    seven_families(storage)  # 8 invoices
    real_batch_write = storage.batch_write

    def crashing(puts, deletes=()):
        raise RuntimeError("arrêt brutal avant l'écriture des marqueurs")

    monkeypatch.setattr(storage, "batch_write", crashing)
    with pytest.raises(RuntimeError, match="marqueurs"):
        invoicing(storage, commune, tools, chunk_size=5).run(OCTOBER)
    assert len(invoices(storage)) == 5 and len(mails()) == 5

    monkeypatch.setattr(storage, "batch_write", real_batch_write)
    report = invoicing(storage, commune, tools, chunk_size=5).run(OCTOBER)
    assert report.resumed == 5 and len(report.invoices) == 3
    times = Counter(m["To"] for m in mails())
    assert len(times) == 8 and sorted(times.values()) == [1, 1, 1, 2, 2, 2, 2, 2]
    before = snapshot(storage, tools.s3, mails)
    assert invoicing(storage, commune, tools).run(OCTOBER).resumed == 0
    assert snapshot(storage, tools.s3, mails) == before


def test_running_the_same_month_again_changes_nothing(storage, commune, tools, mails):
    seven_families(storage)
    first = invoicing(storage, commune, tools).run(OCTOBER)
    assert len(first.invoices) == 8
    before = snapshot(storage, tools.s3, mails)

    again = invoicing(storage, commune, tools).run(OCTOBER)

    assert again.invoices == [] and again.resumed == 0
    assert snapshot(storage, tools.s3, mails) == before
    assert [s.reason for s in again.skipped].count("déjà facturée (FAC-000004)") == 1
    assert "Familles ou responsables sans nouvelle facture : 8 :" in "\n".join(summary(again))


def test_a_dry_run_writes_nothing_and_shows_the_numbers_it_would_give(storage, commune, tools, mails):
    seven_families(storage)
    before = snapshot(storage, tools.s3, mails)

    report = invoicing(storage, commune, tools).run(OCTOBER, dry_run=True)

    assert snapshot(storage, tools.s3, mails) == before
    assert [i["number"] for i in report.invoices] == [f"FAC-{n:06d}" for n in range(1, 9)]
    assert "rien n'est écrit" in summary(report)[0]
    # The real run then gives exactly those invoices.
    real = invoicing(storage, commune, tools).run(OCTOBER)
    assert [(i["number"], i["total"]) for i in real.invoices] == [(i["number"], i["total"]) for i in report.invoices]


def test_the_summary_says_which_families_are_skipped_and_why(storage, commune, tools):
    new_family(storage, "600")
    book(storage, "600", ["2014-10-02"])
    new_family(storage, "601")  # nothing booked
    new_family(storage, "602")
    book(storage, "602", ["2014-10-02"], status="cancelled")
    new_family(storage, "603")
    book(storage, "603", ["2014-10-02"])
    storage.update_attributes("FAMILY#603", "PROFILE", {"quotient_bracket": "Z"})

    text = "\n".join(summary(invoicing(storage, commune, tools).run(OCTOBER)))

    assert "Facturation du mois d'octobre 2014 : 1 facture(s) émise(s), total 2,45\u00a0€." in text
    assert "tranche de quotient familial « Z » inconnue" in text and "famille 603" in text
    assert "aucun jour facturable : 2 (famille 601, famille 602)" in text


# --- the command line -------------------------------------------------------------------------

def test_the_commands_invoice_a_month_and_refuse_bad_months(storage, commune, tools, mails, frozen_clock, capsys):
    from portail.cli import main

    new_family(storage, "700")
    book(storage, "700", ["2014-10-02", "2014-10-03"])
    assert main(["invoices", "run", "2014-10", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "FAC-000001 : famille 700, Madame ANNE NOM700, 1 ligne(s), total 4,90\u00a0€" in out
    assert invoices(storage) == []

    assert main(["invoices", "run", "2014-10"]) == 0
    out = capsys.readouterr().out
    assert "Facturation du mois d'octobre 2014 : 1 facture(s) émise(s), total 4,90\u00a0€." in out
    assert [i["number"] for i in invoices(storage)] == ["FAC-000001"] and len(mails()) == 1

    assert main(["invoices", "run", "2014-11"]) == 1
    assert "Le mois de novembre 2014 n'est pas terminé" in capsys.readouterr().err
    assert main(["invoices", "run", "octobre"]) == 1
    assert "Mois « octobre » invalide" in capsys.readouterr().err
    assert [i["number"] for i in invoices(storage)] == ["FAC-000001"]


# --- the embedded AWS's transactions -------------------------------------------------------------

def test_moto_without_table_copies_still_rolls_back_a_cancelled_transaction(storage):
    from portail.moto_transactions import install

    assert install() and install()  # idempotent
    storage.batch_write([{"pk": "T", "sk": str(n), "v": n} for n in (1, 2, 4)])
    table = storage.table_name
    delete = {"Delete": {"TableName": table, "Key": st.serialise({"pk": "T", "sk": "2"})}}
    actions = [storage.update_if_action("T", "1", {"v": 10}, {"v": 1}),
               storage.put_new_action({"pk": "T", "sk": "3", "v": 3}), delete,
               storage.put_new_action({"pk": "T", "sk": "4", "v": 40})]  # 4 exists: cancelled
    before = sorted((i["sk"], i["v"]) for i in all_items(storage))

    assert storage.transact(actions) == [3]
    assert sorted((i["sk"], i["v"]) for i in all_items(storage)) == before == [("1", 1), ("2", 2), ("4", 4)]

    assert storage.transact(actions[:3]) == []
    assert sorted((i["sk"], i["v"]) for i in all_items(storage)) == [("1", 10), ("3", 3), ("4", 4)]


def test_the_progress_bar_shows_on_a_terminal_only():
    import io

    from portail.cli_billing import progress_bar

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    assert progress_bar(io.StringIO()) is None  # a log file gets the summary only
    screen = Terminal()
    show = progress_bar(screen)
    for done in range(1, 401):
        show(done, 400)
    assert screen.getvalue().endswith("\rFacturation : [" + "#" * 30 + "] 400/400 familles\n")
    assert "200/400 familles" in screen.getvalue()
