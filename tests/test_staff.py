"""The service enfance's commands (docs/cli.md): the waiting list and its
decisions, paper plannings, the kitchen's headcount, certificates received on paper.

In-process moto; the commands run through `portail.cli.main` with the portal's clock
frozen (`PORTAIL_NOW`), the rules through `chalicelib.bookings` and
`chalicelib.waiting_list` directly."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import pytest
from chalicelib import storage as st
from chalicelib.booking_requests import BookingRequestError, Item
from chalicelib.bookings import Bookings, decide
from chalicelib.calendar_rules import plannings_deadline
from chalicelib.staff.headcount import Headcount
from chalicelib.waiting_list import STAFF_FULL_MESSAGE, WaitingList

from portail.cli import main
from tests.conftest import GUIDE_NOW, add_family, all_items

ALL = ["GARDERIE_MATIN", "GARDERIE_MIDI", "GARDERIE_SOIR", "RESTAURATION"]
MIDI, DAY = "GARDERIE_MIDI", date(2014, 12, 11)  # a Thursday
SEATS = 3  # GARDERIE_MIDI's capacity in tests/commune.toml
COUNTER = ("SERVICEDAY#GARDERIE_MIDI#2014-12-11", "COUNTER")


@pytest.fixture
def portal(storage, families, frozen_clock, monkeypatch, commune):
    """Families 100, 200, 300, 400 enrolled everywhere; SES sender, pages bucket, secret."""
    import boto3
    from chalicelib.table import bucket_name

    add_family(storage, "300", "carol", None, last_name="CHARLIE", child="CLARA", email="carol@example.org")
    add_family(storage, "400", "dave", None, last_name="DELTA", child="DAVID", email="dave@example.org")
    for family in ("100", "200", "300", "400"):
        storage.update_attributes(st.family_pk(family), st.child_sk("1"), {"services": ALL})
    boto3.client("ses", region_name="eu-west-3").verify_email_identity(EmailAddress=commune.commune.contact_email)
    boto3.client("s3", region_name="eu-west-3").create_bucket(
        Bucket=bucket_name("pages"), CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    monkeypatch.setenv("PORTAIL_SECRET", "secret-de-test")
    assert commune.service(MIDI).capacity == SEATS
    return Bookings(storage, commune)


@pytest.fixture
def waiting(portal):
    """The waiting list of `portal`'s table and commune."""
    return WaitingList(portal.storage, portal.commune)


def reserve(bookings, family, day=DAY, service=MIDI, now=GUIDE_NOW):
    (result,), _ = bookings.submit(family, "1", 1, [Item(day, service, "reserve")], now)
    return result["status"]


def full_day_with_waiting(storage, bookings, *families):
    """GARDERIE MIDI of 11 December full (counter at its capacity); `families` wait in that order."""
    storage.put({"pk": COUNTER[0], "sk": "COUNTER", "validated": SEATS})
    for minute, family in enumerate(families):
        assert reserve(bookings, family, now=GUIDE_NOW + timedelta(minutes=minute)) == "pending"


def day_item(storage, family, day=DAY, service=MIDI):
    return storage.get(st.family_pk(family), st.day_sk("1", day, service))


def waits(storage):
    return [(w["family_number"], w["child_id"]) for w in storage.query_partition(COUNTER[0], "WAIT#")]


def audit_actions(storage, when=GUIDE_NOW):
    return [(e["actor"], e["action"]) for e in storage.audit_entries(when.date())]


def cli(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


# --- portail requests list --------------------------------------------------------------------

def test_the_list_shows_waiting_requests_in_arrival_order(portal, waiting, storage, capsys):
    full_day_with_waiting(storage, portal, "200", "100")
    status, out, err = cli(capsys, "requests", "list", "--date", "11/12/2014")
    assert status == 0, err
    lines = [line.strip() for line in out.splitlines()]
    assert lines[0] == "GARDERIE MIDI, jeudi 11 décembre 2014 :"
    assert lines[1].startswith("1. famille 200, enfant 1 (BRAVO BRUNO), demandée le 28/11/2014 à 12:00")
    assert lines[2].startswith("2. famille 100, enfant 1 (ALPHA ANNA), demandée le 28/11/2014 à 12:01")
    assert "par Madame ANNE ALPHA" in lines[2]
    # the same from the domain, by day or over the whole table (Scan)
    by_day = waiting.pending(MIDI, DAY)
    assert [(w["family"], w["position"]) for w in by_day] == [("200", 1), ("100", 2)]
    assert waiting.pending() == by_day == waiting.pending(day=DAY)
    assert waiting.pending("RESTAURATION") == []
    assert ("staff", "requests_listed") in audit_actions(storage)


def test_an_empty_list_says_so(portal, capsys):
    assert cli(capsys, "requests", "list")[1] == "Aucune demande en attente.\n"


# --- portail requests accept ----------------------------------------------------------------

def test_accepting_within_the_capacity_validates_and_tells_the_family(portal, storage, capsys, mails):
    import boto3
    from chalicelib.table import bucket_name

    full_day_with_waiting(storage, portal, "200", "100")
    storage.put({"pk": COUNTER[0], "sk": "COUNTER", "validated": SEATS - 1})  # a seat is free
    status, out, err = cli(capsys, "requests", "accept", "--family", "100", "--child", "1",
                           "--service", "garderie midi", "--date", "2014-12-11")
    assert status == 0, err
    assert err == ""  # mail sent, pages rendered
    assert out.startswith("Demande acceptée : famille 100, enfant 1, GARDERIE MIDI, jeudi 11 décembre 2014")
    day = day_item(storage, "100")
    assert (day["status"], day["reason"], day["decided_by"]) == ("validated", "staff_accepted", "staff")
    assert storage.get(*COUNTER)["validated"] == SEATS
    assert waits(storage) == [("200", "1")]  # the others keep their place
    (message,) = storage.family_state("100").messages
    assert message["subject"] == "Demande acceptée : GARDERIE MIDI, jeudi 11 décembre 2014"
    assert "ANNA" in message["body_markdown"]
    assert [(m["To"], m["Subject"]) for m in mails()] == [
        ("alice@example.org", "Portail Famille : vous avez un nouveau message")]
    assert ("staff", "request_accepted") in audit_actions(storage)
    page_key = storage.get("FAMILY#100", "PROFILE")["page_key"]
    boto3.client("s3", region_name="eu-west-3").head_object(
        Bucket=bucket_name("pages"), Key=f"famille/{page_key}/index.html")


def test_accepting_a_full_day_fails_clearly_and_changes_nothing(portal, storage, capsys, mails):
    full_day_with_waiting(storage, portal, "100")
    before = all_items(storage)
    status, out, err = cli(capsys, "requests", "accept", "--family", "100", "--child", "1",
                           "--service", MIDI, "--date", "11/12/2014")
    assert status == 1
    assert err.strip() == STAFF_FULL_MESSAGE
    assert day_item(storage, "100")["status"] == "pending"
    assert storage.get(*COUNTER)["validated"] == SEATS and waits(storage) == [("100", "1")]
    assert storage.family_state("100").messages == [] and mails() == []
    assert sorted(all_items(storage), key=lambda i: (i["pk"], i["sk"])) == \
        sorted(before, key=lambda i: (i["pk"], i["sk"]))


def test_a_day_that_is_not_waiting_cannot_be_decided(portal, waiting, storage, capsys):
    assert reserve(portal, "100") == "validated"
    with pytest.raises(BookingRequestError) as error:
        waiting.staff_decide("100", "1", MIDI, DAY, True, "", GUIDE_NOW)
    assert error.value.code == "not_pending" and "validée" in error.value.message
    status, _, err = cli(capsys, "requests", "refuse", "--family", "200", "--child", "1", "--service", MIDI,
                         "--date", "11/12/2014", "--reason", "x")
    assert status == 1 and err.startswith("Aucune demande pour l'enfant 1 de la famille 200")


# --- portail requests refuse ----------------------------------------------------------------

def test_refusing_needs_a_reason(portal, waiting, storage, capsys):
    full_day_with_waiting(storage, portal, "100")
    with pytest.raises(SystemExit) as exit_:
        main(["requests", "refuse", "--family", "100", "--child", "1", "--service", MIDI, "--date", "11/12/2014"])
    assert exit_.value.code == 2
    assert "--reason" in capsys.readouterr().err
    with pytest.raises(BookingRequestError):
        waiting.staff_decide("100", "1", MIDI, DAY, False, "  ", GUIDE_NOW)
    assert day_item(storage, "100")["status"] == "pending"


def test_refusing_tells_the_family_why(portal, waiting, storage, capsys, mails):
    full_day_with_waiting(storage, portal, "100", "200")
    status, out, err = cli(capsys, "requests", "refuse", "--family", "100", "--child", "1", "--service", MIDI,
                           "--date", "11/12/2014", "--reason", "sortie scolaire ce jour-là")
    assert status == 0, err
    day = day_item(storage, "100")
    assert (day["status"], day["reason"]) == ("refused", "staff_refused")
    assert day["message"] == "Refusée par le service enfance. Motif : sortie scolaire ce jour-là"
    assert waits(storage) == [("200", "1")] and storage.get(*COUNTER)["validated"] == SEATS
    (message,) = storage.family_state("100").messages
    assert message["subject"] == "Demande refusée : GARDERIE MIDI, jeudi 11 décembre 2014"
    assert "Motif : sortie scolaire ce jour-là" in message["body_markdown"]
    assert [m["To"] for m in mails()] == ["alice@example.org"]
    assert "sortie scolaire" not in mails()[0]["Body"]  # the mail only says there is a message
    assert [p["position"] for p in waiting.pending(MIDI, DAY)] == [1]
    assert ("staff", "request_refused") in audit_actions(storage)


def test_a_day_asked_again_after_a_refusal_goes_back_to_staff_never_straight_to_validated(portal, waiting, storage, capsys):
    full_day_with_waiting(storage, portal, "100")
    waiting.staff_decide("100", "1", MIDI, DAY, False, "effectif d'encadrement insuffisant", GUIDE_NOW)
    storage.put({"pk": COUNTER[0], "sk": "COUNTER", "validated": SEATS - 1})  # a seat is free
    later = GUIDE_NOW + timedelta(minutes=5)
    (result,), freed = portal.submit("100", "1", 1, [Item(DAY, MIDI, "reserve")], later)
    assert (result["status"], result["reason"]) == ("pending", "staff_review")
    assert "en attente de sa décision" in result["message"] and freed == []
    assert day_item(storage, "100")["status"] == "pending"
    assert storage.get(*COUNTER)["validated"] == SEATS - 1  # no seat taken
    # On the list staff read, in arrival order, marked as such.
    assert reserve(portal, "200", now=later + timedelta(minutes=1)) == "validated"  # takes the free seat
    assert [(w["family"], w["position"], w["review"]) for w in waiting.pending(MIDI, DAY)] == [("100", 1, True)]
    status, out, err = cli(capsys, "requests", "list", "--date", "11/12/2014")
    assert status == 0, err
    assert "1. famille 100, enfant 1 (ALPHA ANNA), demandée le 28/11/2014 à 12:05" in out
    assert out.splitlines()[1].endswith("; demandée à nouveau après un refus : à examiner")
    # A seat freed goes to the waiting list, never to a day staff refused.
    assert reserve(portal, "300", now=later + timedelta(minutes=2)) == "pending"
    (cancelled,), freed = portal.submit("200", "1", 1, [Item(DAY, MIDI, "cancel")], later + timedelta(minutes=3))
    assert cancelled["status"] == "cancelled" and freed == [(MIDI, DAY)]
    promoted = waiting.promote(MIDI, DAY, later + timedelta(minutes=3))
    assert [p["family_number"] for p in promoted] == ["300"]
    assert day_item(storage, "100")["status"] == "pending"
    # Staff decide it like any waiting request.
    storage.put({"pk": COUNTER[0], "sk": "COUNTER", "validated": SEATS - 1})
    assert waiting.staff_decide("100", "1", MIDI, DAY, True, "", later)["status"] == "validated"
    assert waits(storage) == []


def test_a_day_without_capacity_refused_by_staff_also_goes_back_to_staff(portal, waiting, storage):
    soir = date(2014, 12, 11)
    storage.put({"pk": "FAMILY#100", "sk": st.day_sk("1", soir, "GARDERIE_SOIR"), "kind": "day", "child_id": "1",
                 "date": soir, "service": "GARDERIE_SOIR", "status": "refused", "reason": "staff_refused",
                 "message": "Refusée par le service enfance : effectif d'encadrement insuffisant ce jour-là."})
    assert reserve(portal, "100", soir, "GARDERIE_SOIR") == "pending"
    assert [(w["family"], w["service"], w["review"]) for w in waiting.pending()] == [("100", "GARDERIE_SOIR", True)]
    assert reserve(portal, "100", soir, "GARDERIE_SOIR") == "refused"  # already asked: once only


# --- portail plannings import ---------------------------------------------------------------

HEADER = "numero_famille;numero_enfant;date;service;rang\n"


def planning(tmp_path, text: str, encoding="utf-8"):
    path = tmp_path / "planning.csv"
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_the_paper_deadline_is_the_20th_of_the_month_before():
    assert plannings_deadline(date(2014, 11, 19), date(2014, 12, 1)) == date(2014, 11, 20)
    assert plannings_deadline(date(2014, 12, 2), date(2015, 1, 15)) == date(2014, 12, 20)
    assert plannings_deadline(date(2014, 12, 2), 1) == date(2014, 12, 20)  # January 2015
    assert plannings_deadline(date(2014, 3, 2), 3) == date(2015, 2, 20)


def test_a_planning_books_next_month_and_reports_a_day_booked_online_as_a_duplicate(portal, storage, frozen_clock,
                                                                                        capsys, tmp_path):
    now = frozen_clock("2014-11-19T10:00:00+01:00")
    assert reserve(portal, "100", date(2014, 12, 8), "RESTAURATION", now=now) == "validated"
    online = day_item(storage, "100", date(2014, 12, 8), "RESTAURATION")
    # Windows-1252, accented header, label instead of code, rang left empty
    path = planning(tmp_path, "numéro_famille;numero_enfant;date;service;rang\n"
                              "100;1;08/12/2014;RESTAURATION;\n"
                              "100;1;2014-12-09;Garderie matin;2\n"
                              "200;1;11/12/2014;RESTAURATION\n"
                              "100;1;10/12/2014;RESTAURATION;1\n", encoding="cp1252")
    storage.batch_write([{"pk": "FAMILY#100", "sk": "RESPONSABLE#2", "rank": 2, "civility": "Monsieur",
                          "first_name": "PAUL", "last_name": "ALPHA", "login": "paul"}])
    status, out, err = cli(capsys, "plannings", "import", path)
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0] == "ligne 2 : famille 100, enfant 1, RESTAURATION, lundi 8 décembre 2014 : doublon : déjà réservé en ligne"
    assert lines[1].endswith("GARDERIE_MATIN, mardi 9 décembre 2014 : réservé")
    assert lines[2].endswith("RESTAURATION, jeudi 11 décembre 2014 : réservé")
    assert lines[3].startswith("ligne 5 :") and "refusé : Service fermé le mercredi" in lines[3]
    assert lines[4] == ("Plannings importés : 2 jour(s) réservé(s), 1 doublon(s), 0 en liste d'attente, "
                        "1 refusé(s).")
    assert day_item(storage, "100", date(2014, 12, 8), "RESTAURATION") == online  # not booked twice
    booked = day_item(storage, "100", date(2014, 12, 9), "GARDERIE_MATIN")
    assert (booked["status"], booked["channel"], booked["responsable_rank"]) == ("validated", "paper", 2)
    assert day_item(storage, "200", date(2014, 12, 11), "RESTAURATION")["channel"] == "paper"
    assert ("staff", "plannings_imported") in audit_actions(storage, now)
    # importing the same file again books nothing twice
    status, out, _ = cli(capsys, "plannings", "import", path)
    assert "0 jour(s) réservé(s), 3 doublon(s)" in out and "déjà réservé sur un planning papier" in out


def test_a_planning_after_the_20th_needs_late(portal, storage, frozen_clock, capsys, tmp_path):
    frozen_clock("2014-11-21T09:00:00+01:00")
    path = planning(tmp_path, HEADER + "100;1;11/12/2014;RESTAURATION;1\n")
    status, out, err = cli(capsys, "plannings", "import", path)
    assert status == 1
    assert "au plus tard le jeudi 20 novembre 2014" in err and "--late" in err
    assert day_item(storage, "100", DAY, "RESTAURATION") is None
    status, out, err = cli(capsys, "plannings", "import", "--late", path)
    assert status == 0, err
    assert day_item(storage, "100", DAY, "RESTAURATION")["status"] == "validated"


def test_a_late_planning_skips_the_online_deadline_only(portal, storage, frozen_clock, capsys, tmp_path, commune):
    now = frozen_clock("2014-12-31T10:00:00+01:00")
    # Monday 5 January: its online deadline was Monday 29 December, 23:59.
    item = Item(date(2015, 1, 5), "RESTAURATION", "reserve")
    common = {"enrolled": ["RESTAURATION"], "day_item": None, "service": commune.service("RESTAURATION"),
              "commune": commune, "calendar": portal.calendar, "now": now}
    assert decide(item, **common).reason == "deadline_passed"
    assert decide(item, **common, apply_deadline=False).status == "validated"
    path = planning(tmp_path, HEADER + "100;1;05/01/2015;RESTAURATION;1\n200;1;02/01/2015;RESTAURATION;1\n")
    status, out, err = cli(capsys, "plannings", "import", "--late", path)
    assert status == 0, err
    assert out.splitlines()[0].endswith("lundi 5 janvier 2015 : réservé")
    assert "refusé : Vacances de Noël" in out.splitlines()[1]  # closures still apply


def test_a_bad_row_imports_nothing_and_every_bad_row_is_reported(portal, storage, frozen_clock, capsys, tmp_path):
    frozen_clock("2014-11-19T10:00:00+01:00")
    path = planning(tmp_path, HEADER + "100;1;08/12/2014;RESTAURATION;1\n"
                                       "100;1;09/12/2014;PISCINE;1\n"
                                       "200;1;05/01/2015;RESTAURATION;1\n"
                                       "100;9;11/12/2014;RESTAURATION;1\n"
                                       "100;1;08/12/2014;RESTAURATION;1\n")
    status, out, err = cli(capsys, "plannings", "import", path)
    assert status == 1 and out == ""
    assert "rien n'a été écrit (4 erreur(s))" in err
    assert "planning.csv, ligne 3 : service « PISCINE » inconnu" in err
    assert "planning.csv, ligne 4 : le 05/01/2015 n'est pas en décembre 2014" in err
    assert "planning.csv, ligne 5 : enfant 9 inconnu dans la famille 100" in err
    assert "planning.csv, ligne 6 : doublon de la ligne 2" in err
    assert not [i for i in all_items(storage) if i["sk"].startswith(("DAY#", "REQUEST#"))]


# --- portail headcount ------------------------------------------------------------------------

@pytest.fixture
def thursday(portal, storage):
    """11 December: GARDERIE MIDI, 100 and 200 validated, then full, 400 and 300 waiting;
    RESTAURATION: 200 expected, 100 absent (declared after the deadline)."""
    assert reserve(portal, "100") == reserve(portal, "200") == "validated"
    storage.update_attributes(*COUNTER, {"validated": SEATS})
    assert reserve(portal, "400", now=GUIDE_NOW + timedelta(minutes=1)) == "pending"
    assert reserve(portal, "300", now=GUIDE_NOW + timedelta(minutes=2)) == "pending"
    assert reserve(portal, "100", service="RESTAURATION") == reserve(portal, "200", service="RESTAURATION")
    late = datetime.fromisoformat("2014-12-10T08:00:00+01:00")
    (result,), _ = portal.submit("100", "1", 1, [Item(DAY, "RESTAURATION", "absence")], late)
    assert result["status"] == "absent"
    return portal


def test_the_headcount_counts_the_validated_children_and_lists_the_waiting_list(thursday, capsys):
    (day,) = Headcount(thursday.storage, thursday.commune).day(DAY, MIDI)
    assert [(e.family, e.child) for e in day.expected] == [("100", "1"), ("200", "1")]
    assert [(w.family, w.position) for w in day.waiting] == [("400", 1), ("300", 2)]
    status, out, err = cli(capsys, "headcount", "--date", "11/12/2014", "--service", MIDI)
    assert status == 0, err
    assert out.splitlines() == [
        f"GARDERIE MIDI, jeudi 11 décembre 2014 : 2 enfant(s) attendu(s) (capacité {SEATS})",
        "  - famille 100, ALPHA ANNA (réservé par Madame ANNE ALPHA)",
        "  - famille 200, BRAVO BRUNO (réservé par Madame ANNE BRAVO)",
        "  Liste d'attente : 2",
        "  1. famille 400, DELTA DAVID (demandé par Madame ANNE DELTA, le 28/11/2014 à 12:01)",
        "  2. famille 300, CHARLIE CLARA (demandé par Madame ANNE CHARLIE, le 28/11/2014 à 12:02)",
        "",
    ]
    out = cli(capsys, "headcount", "--date", "2014-12-11")[1]
    assert "RESTAURATION, jeudi 11 décembre 2014 : 1 enfant(s) attendu(s) (capacité 40)" in out
    assert "Absents (facturés, non attendus) : 1\n  - famille 100, ALPHA ANNA" in out
    assert "GARDERIE SOIR, jeudi 11 décembre 2014 : 0 enfant(s) attendu(s)" in out


def test_the_headcount_as_csv_parses_back(thursday, storage, capsys):
    status, out, err = cli(capsys, "headcount", "--date", "11/12/2014", "--csv")
    assert status == 0, err
    rows = list(csv.DictReader(io.StringIO(out), delimiter=";"))
    by: dict[tuple[str, str], list] = {}
    for row in rows:
        by.setdefault((row["service"], row["etat"]), []).append((row["numero_famille"], row["rang_attente"]))
    assert by == {
        (MIDI, "attendu"): [("100", ""), ("200", "")],
        (MIDI, "liste d'attente"): [("400", "1"), ("300", "2")],
        ("RESTAURATION", "attendu"): [("200", "")],
        ("RESTAURATION", "absent"): [("100", "")],
    }
    assert rows[0]["enfant"] == "ALPHA ANNA" and rows[0]["date"] == "2014-12-11"
    assert ("staff", "headcount_viewed") in audit_actions(storage)


# --- portail certificates record ----------------------------------------------------------------

def test_recording_a_certificate_writes_a_certificate_item(portal, storage, capsys):
    status, out, err = cli(capsys, "certificates", "record", "--family", "100", "--child", "1",
                           "--dates", "10/12/2014,2014-12-09", "--file", "certificats/100/1/scan-0001.pdf")
    assert status == 0, err
    assert out == "Certificat médical enregistré : famille 100, enfant 1, 09/12/2014, 10/12/2014.\n"
    (item,) = storage.family_state("100").certificates
    assert item["dates"] == ["2014-12-09", "2014-12-10"]
    assert (item["recorded_by"], item["document_key"]) == ("staff", "certificats/100/1/scan-0001.pdf")
    assert ("staff", "certificate_recorded") in audit_actions(storage)


def test_a_certificate_for_an_unknown_child_or_file_elsewhere_is_refused(portal, storage, capsys):
    status, _, err = cli(capsys, "certificates", "record", "--family", "100", "--child", "7", "--dates", "09/12/2014")
    assert status == 1 and err == "Famille 100, enfant 7 : Enfant inconnu.\n"
    status, _, err = cli(capsys, "certificates", "record", "--family", "100", "--child", "1",
                         "--dates", "09/12/2014", "--file", "certificats/200/1/x.pdf")
    assert status == 1 and "certificats/100/1/" in err
    assert storage.family_state("100").certificates == []


def test_staff_decisions_and_certificates_appear_in_the_list_of_requests(storage, families, frozen_clock, commune):
    from datetime import date

    from chalicelib.documents import record_staff_certificate

    day = date(2014, 12, 11)
    storage.update_attributes("FAMILY#100", "CHILD#1", {"services": ["GARDERIE_MIDI"]})
    storage.put({"pk": f"SERVICEDAY#GARDERIE_MIDI#{day}", "sk": "COUNTER", "validated": SEATS})
    bookings = Bookings(storage, commune)

    bookings.submit("100", "1", 1, [Item(day, "GARDERIE_MIDI", "reserve")], frozen_clock())
    WaitingList(storage, commune).staff_decide("100", "1", "GARDERIE_MIDI", day, False, "sortie scolaire", frozen_clock())
    record_staff_certificate(storage, "100", "1", ["2014-12-08"], frozen_clock())
    requests = storage.family_state("100").requests
    assert sorted(r["type"] for r in requests) == ["booking", "certificate", "staff_decision"]
    decision = next(r for r in requests if r["type"] == "staff_decision")
    assert decision["channel"] == "staff"
    assert decision["items"][0]["status"] == "refused" and "sortie scolaire" in decision["items"][0]["message"]


def test_an_unknown_service_is_named_with_the_codes_staff_can_type(portal, capsys):
    status, _, err = cli(capsys, "headcount", "--date", "11/12/2014", "--service", "piscine")
    assert status == 1
    assert "Service « piscine » inconnu (attendu : GARDERIE_MATIN, GARDERIE_MIDI" in err
