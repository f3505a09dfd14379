"""A family's personal data (docs/family-data.md): `portail family export N`
writes all of family A and nothing of family B; `portail family purge` removes what is
past the retention periods of commune.toml and nothing inside them (boundaries checked
with a frozen clock); both recorded in the audit trail; the « données personnelles »
page states the configured durations.

In-process moto; the commands run through `portail.cli.main`."""

from __future__ import annotations

import dataclasses
import json
import re
import zipfile
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from chalicelib import storage as st
from chalicelib.calendar_rules import shift_months, shift_years
from chalicelib.config import Retention

from portail.cli import main
from portail.family_data import (
    RETENTION_ROWS,
    plan_purge,
    retention_phrases,
)
from tests.conftest import GUIDE_NOW, ROOT

PAGE = ROOT / "content" / "pages" / "donnees-personnelles.md"
PDF_A = b"%PDF-1.4 facture de la famille A"
PDF_B = b"%PDF-1.4 facture de la famille B"
SCAN_A = b"%PDF-1.4 certificat de ANNA"


def cli(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def s3():
    import boto3

    return boto3.client("s3", region_name="eu-west-3")


@pytest.fixture
def buckets(aws):
    from chalicelib.table import bucket_name

    for kind in ("documents", "pages"):
        s3().create_bucket(Bucket=bucket_name(kind), CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    return bucket_name("documents")


def invoice(family, number, when, pdf=True, total="12.30", paid="12.30"):
    return {"pk": st.family_pk(family), "sk": f"INVOICE#{number}", "number": number, "invoice_date": when,
            "total": Decimal(total), "paid_amount": Decimal(paid), "responsable_rank": 1,
            **({"pdf_key": f"factures/{family}/{number}.pdf"} if pdf else {})}


def certificate(family, first_day, key=None, token="c1"):
    return {"pk": st.family_pk(family), "sk": f"CERTIFICATE#1#{first_day}#{token}", "child_id": "1",
            "dates": [first_day], "recorded_at": f"{first_day}T08:00:00+00:00", "recorded_by": "parent",
            **({"document_key": key} if key else {})}


def message(family, sent: datetime, token="m1", read=False):
    item = {"pk": st.family_pk(family), "sk": f"MESSAGE#{sent.isoformat()}#{token}", "message_id": token,
            "sent_at": sent.isoformat(), "subject": "Menus", "body_markdown": "Texte"}
    if read:
        item["read_at"] = sent.isoformat()
    return item


def day(family, when, status="validated", service="RESTAURATION"):
    return {"pk": st.family_pk(family), "sk": f"DAY#1#{when}#{service}", "status": status,
            "gsi1pk": f"SERVICEDAY#{service}#{when}", "gsi1sk": f"{family}#1"}


# --- export -------------------------------------------------------------------------------------

@pytest.fixture
def two_families(storage, families, buckets, frozen_clock):
    """A (100, alice) and B (200, bob), each with a day, a request, an invoice and its PDF,
    a message, a session, audit entries; A also a certificate and its file."""
    for family, pdf in (("100", PDF_A), ("200", PDF_B)):
        number = f"FAC-{family}001"
        storage.batch_write([
            day(family, "2014-12-04"),
            {"pk": st.family_pk(family), "sk": f"REQUEST#2014-11-27T10:00:00+00:00#r{family}",
             "submitted_at": "2014-11-27T10:00:00+00:00", "type": "booking", "items": []},
            invoice(family, number, "2014-11-04"),
            message(family, GUIDE_NOW - timedelta(days=3), token=f"m{family}"),
        ])
        s3().put_object(Bucket=buckets, Key=f"factures/{family}/{number}.pdf", Body=pdf)
    key = "certificats/100/1/0123456789abcdef.pdf"
    storage.put(certificate("100", "2014-11-20", key))
    s3().put_object(Bucket=buckets, Key=key, Body=SCAN_A)
    for login, family in (("alice", "100"), ("bob", "200")):
        session_hash = f"{login}-session-hash-0123456789"
        storage.add_session(login, session_hash)
        storage.put({"pk": st.session_pk(session_hash), "sk": st.SESSION, "family_number": family, "login": login,
                     "created_at": "2014-11-28T09:00:00+00:00", "last_seen_at": "2014-11-28T10:00:00+00:00"})
        storage.audit(GUIDE_NOW - timedelta(days=40), login, "login", {"source": f"192.0.2.{family[0]}"})
    storage.audit(GUIDE_NOW - timedelta(days=2), "staff", "request_refused", {"family_number": "200", "reason": "B"})
    storage.audit(GUIDE_NOW - timedelta(days=2), "staff", "request_accepted", {"family_number": "100"})
    storage.audit(GUIDE_NOW - timedelta(days=400), "alice", "login", {"source": "too old"})
    return families


def archive(path):
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def test_the_export_of_a_holds_all_of_a_and_nothing_of_b(storage, two_families, tmp_path, capsys):
    output = tmp_path / "a.zip"
    status, out, err = cli(capsys, "family", "export", "100", "--output", str(output))
    assert status == 0, err
    files = archive(output)
    assert set(files) == {"famille.json", "LISEZMOI.txt", "factures/FAC-100001.pdf",
                          "certificats/1/0123456789abcdef.pdf"}
    assert files["factures/FAC-100001.pdf"] == PDF_A and files["certificats/1/0123456789abcdef.pdf"] == SCAN_A
    data = json.loads(files["famille.json"])
    # Every item of A's partition, as stored.
    assert sorted(i["sk"] for i in data["elements"]) == sorted(i["sk"] for i in storage.query_partition("FAMILY#100"))
    stored_invoice = next(i for i in data["elements"] if i["sk"] == "INVOICE#FAC-100001")
    assert stored_invoice["total"] == "12.30"
    assert [i["pk"] for i in data["identifiants"] if i["sk"] == "LOGIN"] == ["LOGIN#alice"]
    assert [s["last_seen_at"] for s in data["sessions"]] == ["2014-11-28T10:00:00+00:00"]
    assert sorted(e["action"] for e in data["journal"]) == ["login", "request_accepted"]
    # Nothing of B anywhere in the archive.
    everything = b"".join(files.values())
    b_page_key = storage.get("FAMILY#200", "PROFILE")["page_key"].encode()
    for trace in (b"FAMILY#200", b"BRAVO", b"BRUNO", b"bob", PDF_B, b"FAC-200001", b_page_key, b"192.0.2.2"):
        assert trace not in everything, trace
    assert "3 fichier(s)" not in out and "2 fichier(s)" in out


def test_no_password_or_session_hash_leaves(storage, two_families, tmp_path, capsys):
    output = tmp_path / "a.zip"
    assert cli(capsys, "family", "export", "100", "--output", str(output))[0] == 0
    everything = b"".join(archive(output).values())
    password_hash = storage.login("alice")["password_hash"].encode()
    assert password_hash not in everything and b"$argon2" not in everything
    assert b"alice-session-hash" not in everything and b"password_hash" not in everything


def test_the_export_is_audited_without_the_data(storage, two_families, tmp_path, capsys):
    assert cli(capsys, "family", "export", "100", "--output", str(tmp_path / "a.zip"))[0] == 0
    (entry,) = [e for e in storage.audit_entries(GUIDE_NOW.date()) if e["action"] == "family_export"]
    assert entry["actor"] == "staff" and entry["details"]["family_number"] == "100"
    assert entry["details"]["files"] == 2
    assert "ALPHA" not in json.dumps(entry, default=str) and "alice" not in json.dumps(entry, default=str)


def test_an_unknown_family_writes_no_archive(storage, two_families, tmp_path, capsys):
    output = tmp_path / "x.zip"
    status, _, err = cli(capsys, "family", "export", "999", "--output", str(output))
    assert status == 1 and "Famille 999 inconnue" in err
    assert not output.exists() and list(tmp_path.iterdir()) == []
    assert not [e for e in storage.audit_entries(GUIDE_NOW.date()) if e["action"] == "family_export"]


def test_a_key_outside_the_familys_folder_is_never_copied(storage, two_families, tmp_path, capsys):
    # A corrupted item of A pointing to B's invoice: A's archive still holds nothing of B.
    storage.update_attributes("FAMILY#100", "INVOICE#FAC-100001", {"pdf_key": "factures/200/FAC-200001.pdf"})
    output = tmp_path / "a.zip"
    assert cli(capsys, "family", "export", "100", "--output", str(output))[0] == 0
    assert PDF_B not in b"".join(archive(output).values())


def test_a_missing_file_is_reported_and_listed(storage, two_families, buckets, tmp_path, capsys):
    s3().delete_object(Bucket=buckets, Key="factures/100/FAC-100001.pdf")
    output = tmp_path / "a.zip"
    status, _, err = cli(capsys, "family", "export", "100", "--output", str(output))
    assert status == 0 and "factures/100/FAC-100001.pdf" in err
    assert json.loads(archive(output)["famille.json"])["fichiers_absents"] == ["factures/100/FAC-100001.pdf"]


# --- purge: the boundaries ------------------------------------------------------------------------

def keys_left(storage) -> set[tuple[str, str]]:
    return {(i["pk"], i["sk"]) for i in storage.all_items()}


def purge_at(capsys, frozen_clock, instant: str, *options):
    frozen_clock(instant)
    status, out, err = cli(capsys, "family", "purge", *options)
    assert status == 0, err
    return out


@pytest.fixture
def dated(storage, families, buckets):
    """Families 100 and 200 and the buckets: each test writes items on both sides of a period."""
    return storage


def test_booked_days_requests_and_waiting_lists_keep_the_current_and_previous_school_year(
        storage, dated, frozen_clock, capsys):
    storage.batch_write([
        day("100", "2013-08-31"), day("100", "2013-09-01"),
        {"pk": "FAMILY#100", "sk": "REQUEST#2013-08-31T21:00:00+00:00#old",
         "submitted_at": "2013-08-31T21:00:00+00:00"},  # 31 August, 23:00 in Paris
        {"pk": "FAMILY#100", "sk": "REQUEST#2013-08-31T22:30:00+00:00#new",
         "submitted_at": "2013-08-31T22:30:00+00:00"},  # 1 September, 00:30 in Paris
        {"pk": "SERVICEDAY#GARDERIE_MIDI#2013-08-31", "sk": "COUNTER", "validated": 3},
        {"pk": "SERVICEDAY#GARDERIE_MIDI#2013-09-01", "sk": "COUNTER", "validated": 3},
    ])
    purge_at(capsys, frozen_clock, "2015-08-31T23:00:00+02:00")  # still school year 2014-2015
    left = keys_left(storage)
    assert ("FAMILY#100", "DAY#1#2013-08-31#RESTAURATION") not in left
    assert ("FAMILY#100", "DAY#1#2013-09-01#RESTAURATION") in left
    assert ("FAMILY#100", "REQUEST#2013-08-31T21:00:00+00:00#old") not in left
    assert ("FAMILY#100", "REQUEST#2013-08-31T22:30:00+00:00#new") in left
    assert ("SERVICEDAY#GARDERIE_MIDI#2013-08-31", "COUNTER") not in left
    assert ("SERVICEDAY#GARDERIE_MIDI#2013-09-01", "COUNTER") in left
    purge_at(capsys, frozen_clock, "2015-09-01T00:00:00+02:00")  # school year 2015-2016 begins
    left = keys_left(storage)
    assert ("FAMILY#100", "DAY#1#2013-09-01#RESTAURATION") not in left
    assert ("SERVICEDAY#GARDERIE_MIDI#2013-09-01", "COUNTER") not in left


def test_messages_are_kept_two_years_to_the_second(storage, dated, frozen_clock, capsys):
    now = datetime.fromisoformat("2014-11-28T12:00:00+01:00")
    storage.batch_write([message("100", now.replace(year=2012), token="exact"),
                         message("100", now.replace(year=2012) - timedelta(seconds=1), token="older")])
    purge_at(capsys, frozen_clock, now.isoformat())
    assert [m["message_id"] for m in storage.family_state("100").messages] == ["exact"]


def test_invoices_and_their_pdfs_stay_ten_years_after_their_civil_year(storage, dated, buckets, frozen_clock, capsys):
    storage.batch_write([
        invoice("100", "FAC-000001", "2004-12-31"),
        {"pk": "FAMILY#100", "sk": "OPERATION#000000001", "date": "2004-12-31", "debit": Decimal("12.30"),
         "credit": Decimal(0)},
        {"pk": "FAMILY#100", "sk": "PAYMENT#2004-12-31#CHQ1", "date": "2004-12-31", "amount": Decimal("12.30")},
        invoice("100", "FAC-000002", "2005-01-01"),
    ])
    for number in ("FAC-000001", "FAC-000002"):
        s3().put_object(Bucket=buckets, Key=f"factures/100/{number}.pdf", Body=b"%PDF")
    purge_at(capsys, frozen_clock, "2014-12-31T23:59:00+01:00")
    assert len(storage.query_partition("FAMILY#100", "INVOICE#")) == 2
    purge_at(capsys, frozen_clock, "2015-01-01T00:00:00+01:00")
    assert [i["number"] for i in storage.query_partition("FAMILY#100", "INVOICE#")] == ["FAC-000002"]
    assert storage.query_partition("FAMILY#100", "OPERATION#") == []
    assert storage.query_partition("FAMILY#100", "PAYMENT#") == []
    listed = [o["Key"] for o in s3().list_objects_v2(Bucket=buckets).get("Contents", [])]
    assert listed == ["factures/100/FAC-000002.pdf"]


def test_certificates_and_their_files_stay_until_the_school_year_ends_plus_one_year(
        storage, dated, buckets, frozen_clock, capsys):
    key = "certificats/100/1/aaaa.pdf"
    storage.put(certificate("100", "2014-06-20", key))
    s3().put_object(Bucket=buckets, Key=key, Body=b"%PDF")
    purge_at(capsys, frozen_clock, "2015-08-31T23:59:00+02:00")
    assert len(storage.family_state("100").certificates) == 1
    purge_at(capsys, frozen_clock, "2015-09-01T00:00:00+02:00")
    assert storage.family_state("100").certificates == []
    assert s3().list_objects_v2(Bucket=buckets).get("Contents", []) == []


def test_audit_entries_are_kept_twelve_months(storage, dated, frozen_clock, capsys):
    storage.audit(datetime.fromisoformat("2013-11-27T12:00:00+00:00"), "alice", "login", {})
    storage.audit(datetime.fromisoformat("2013-11-28T00:00:00+00:00"), "alice", "login", {})
    purge_at(capsys, frozen_clock, "2014-11-28T12:00:00+01:00")
    assert storage.query_partition("AUDIT#2013-11-27") == []
    assert len(storage.query_partition("AUDIT#2013-11-28")) == 1


def test_expired_sessions_and_tokens_go(storage, dated, frozen_clock, capsys):
    now = datetime.fromisoformat("2014-11-28T12:00:00+01:00")
    storage.batch_write([
        {"pk": "SESSION#old", "sk": "SESSION", "family_number": "100", "expires_at": int(now.timestamp()) - 1},
        {"pk": "SESSION#live", "sk": "SESSION", "family_number": "100", "expires_at": int(now.timestamp()) + 60},
    ])
    purge_at(capsys, frozen_clock, now.isoformat())
    assert storage.get("SESSION#old", "SESSION") is None and storage.get("SESSION#live", "SESSION") is not None


# --- purge: families without activity -------------------------------------------------------------

def test_a_family_without_activity_for_two_years_is_removed_but_its_invoices_stay(
        storage, families, buckets, frozen_clock, capsys):
    from chalicelib.table import bucket_name

    # 100: last booked day on 27 November 2012; 200: on 28 November 2012 (exactly two years).
    storage.batch_write([day("100", "2012-11-27"), day("200", "2012-11-28"),
                         invoice("100", "FAC-000010", "2012-11-04"),
                         {"pk": "SESSION#s100", "sk": "SESSION", "family_number": "100", "login": "alice"}])
    storage.add_session("alice", "s100")
    page_key = storage.get("FAMILY#100", "PROFILE")["page_key"]
    s3().put_object(Bucket=bucket_name("pages"), Key=f"famille/{page_key}/index.html", Body=b"<html>")
    # Its calendar feed lives outside its folder: it goes too.
    storage.put({"pk": "FAMILY#100", "sk": "AGENDA#1", "rank": 1, "feed_key": "f" * 32})
    s3().put_object(Bucket=bucket_name("pages"), Key=f"agenda/{'f' * 32}.ics", Body=b"BEGIN:VCALENDAR")
    out = purge_at(capsys, frozen_clock, "2014-11-28T12:00:00+01:00")
    assert "familles sans activité (dossier, responsables, enfants, identifiants) : 1" in out
    left = {i["sk"] for i in storage.query_partition("FAMILY#100")}
    assert left == {"INVOICE#FAC-000010"}
    assert storage.login("alice") is None and storage.get("SESSION#s100", "SESSION") is None
    assert s3().list_objects_v2(Bucket=bucket_name("pages")).get("Contents", []) == []
    assert storage.get("FAMILY#200", "PROFILE") is not None and storage.login("bob") is not None


def test_an_unpaid_invoice_or_nothing_dated_keeps_the_family(storage, families, buckets, frozen_clock, capsys):
    storage.batch_write([day("100", "2011-01-10"), invoice("100", "FAC-000011", "2011-02-04", paid="5.00")])
    purge_at(capsys, frozen_clock, "2014-11-28T12:00:00+01:00")
    assert storage.get("FAMILY#100", "PROFILE") is not None  # still owes 7,30 €
    assert storage.get("FAMILY#200", "PROFILE") is not None  # just imported: nothing dated yet


def test_a_message_only_sent_is_not_activity_a_message_read_is(storage, families, buckets, frozen_clock, capsys):
    recent = datetime.fromisoformat("2014-10-01T12:00:00+02:00")
    storage.batch_write([day("100", "2012-01-10"), message("100", recent, read=False),
                         day("200", "2012-01-10"), message("200", recent, read=True)])
    purge_at(capsys, frozen_clock, "2014-11-28T12:00:00+01:00")
    assert storage.get("FAMILY#100", "PROFILE") is None
    assert storage.get("FAMILY#200", "PROFILE") is not None


# --- purge: dry run and record ---------------------------------------------------------------------

def test_dry_run_counts_and_removes_nothing(storage, families, buckets, frozen_clock, capsys):
    storage.batch_write([day("100", "2012-01-10"), day("100", "2014-12-04")])
    before = storage.all_items()
    out = purge_at(capsys, frozen_clock, "2014-11-28T12:00:00+01:00", "--dry-run")
    assert "Vérification seule, rien n'est supprimé." in out and "jours réservés : 1" in out
    assert storage.all_items() == before


def test_the_purge_is_audited_with_counts_never_data(storage, families, buckets, frozen_clock, capsys):
    storage.batch_write([day("100", "2012-01-10"), day("100", "2014-12-04")])
    purge_at(capsys, frozen_clock, "2014-11-28T12:00:00+01:00")
    (entry,) = [e for e in storage.audit_entries(GUIDE_NOW.date()) if e["action"] == "retention_purge"]
    assert entry["actor"] == "operator"
    assert entry["details"]["counts"]["days"] == 1 and entry["details"]["cutoffs"]["bookings_from"] == "2013-09-01"
    assert "ALPHA" not in json.dumps(entry, default=str)


def test_plan_purge_is_pure_and_keeps_everything_recent(commune):
    now = GUIDE_NOW
    items = [day("100", "2014-11-28"), message("100", now - timedelta(days=1)), invoice("100", "F-1", "2014-11-04"),
             certificate("100", "2014-11-20"), {"pk": "AUDIT#2014-11-27", "sk": "x", "actor": "alice"}]
    plan = plan_purge(items, commune, now)
    assert plan.deletes == [] and plan.documents == {}


def test_date_helpers_clip_to_the_month():
    from datetime import date

    assert shift_years(date(2016, 2, 29), -2) == date(2014, 2, 28)
    assert shift_months(date(2014, 3, 31), -1) == date(2014, 2, 28)
    assert shift_months(date(2014, 11, 28), -12) == date(2013, 11, 28)


# --- the « données personnelles » page ------------------------------------------------------------

def page_rows() -> dict[str, str]:
    rows = {}
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 2:
            rows.setdefault(cells[0], cells[1])
    return rows


def test_the_page_states_every_configured_duration(shipped_commune):
    """The public page and the commune's own commune.toml (both content/, edited together)."""
    rows = page_rows()
    phrases = retention_phrases(shipped_commune.retention)
    assert set(phrases) == {f.name for f in dataclasses.fields(Retention)} == set(RETENTION_ROWS)
    for key, label in RETENTION_ROWS.items():
        assert label in rows, f"the page has no row « {label} »"
        assert phrases[key] in rows[label], f"{key}: the page says « {rows[label]} », commune.toml « {phrases[key]} »"


def test_a_changed_duration_would_no_longer_match_the_page(shipped_commune):
    rows = page_rows()
    changed = retention_phrases(dataclasses.replace(shipped_commune.retention, messages_years=3, audit_months=6))
    assert changed["messages_years"] not in rows["Messages"]
    assert changed["audit_months"] not in rows["Journal des connexions et des actions"]


def test_the_page_says_how_to_ask_for_a_copy_and_where_to_complain():
    text = re.sub(r"\s+", " ", PAGE.read_text(encoding="utf-8"))
    for words in ("portail family export", "CNIL", "www.cnil.fr/fr/plaintes", "délai d'un mois", "Base légale",
                  "Qui voit vos données"):
        assert words in text, words
