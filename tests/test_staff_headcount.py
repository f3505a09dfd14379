"""The kitchen's headcount and the paper plannings in the domain (chalicelib/staff/):
what `/gestion/effectifs/`, `/gestion/plannings` and their `portail` commands share.

In-process moto; the families and the Thursday of tests/test_staff.py (GARDERIE MIDI full
with two waiting, RESTAURATION with one child absent)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from chalicelib.refusals import Refusal
from chalicelib.staff.csv_input import ImportRejected
from chalicelib.staff.headcount import (
    CSV_HEADER,
    Headcount,
    age_on,
    csv_rows,
    csv_text,
    parse_day,
    week_days,
)
from chalicelib.staff.plannings import Plannings, PlanningsTooLate

from bench.round_trips import RoundTrips
from tests.conftest import all_items
from tests.test_staff import (  # noqa: F401
    COUNTER,
    DAY,
    HEADER,
    MIDI,
    SEATS,
    cli,
    day_item,
    portal,
    reserve,
    thursday,
)

NOVEMBER_19 = datetime.fromisoformat("2014-11-19T10:00:00+01:00")


# --- the headcount ---------------------------------------------------------------------------------------

def test_a_day_lists_each_open_service_with_ages_absent_and_waiting_in_order(thursday, storage, commune):  # noqa: F811
    days = Headcount(storage, commune).day(DAY)
    assert [d.service.code for d in days] == ["GARDERIE_MATIN", MIDI, "GARDERIE_SOIR", "RESTAURATION"]
    midi = days[1]
    assert [(e.family, e.name, e.age, e.responsable) for e in midi.expected] == [
        ("100", "ALPHA ANNA", 4, "Madame ANNE ALPHA"), ("200", "BRAVO BRUNO", 4, "Madame ANNE BRAVO")]
    assert [(e.position, e.family, e.name) for e in midi.waiting] == [(1, "400", "DELTA DAVID"),
                                                                       (2, "300", "CHARLIE CLARA")]
    assert midi.capacity == SEATS and midi.closure is None and not midi.absent
    restauration = days[3]
    assert [e.family for e in restauration.expected] == ["200"]
    assert [e.family for e in restauration.absent] == ["100"]


def test_a_service_asked_on_a_closed_day_says_why(thursday, storage, commune):  # noqa: F811
    (wednesday,) = Headcount(storage, commune).day(date(2014, 12, 10), "RESTAURATION")
    assert wednesday.closure is not None and not wednesday.expected
    assert [d.service.code for d in Headcount(storage, commune).day(date(2014, 12, 10))] == [
        "GARDERIE_MATIN", MIDI]  # the services open on Wednesdays only
    with pytest.raises(Refusal, match="Service « PISCINE » inconnu"):
        Headcount(storage, commune).day(DAY, "PISCINE")


def test_a_week_gives_each_service_its_open_days(thursday, storage, commune):  # noqa: F811
    days = week_days("2014-W50")
    assert (days[0], days[-1]) == (date(2014, 12, 8), date(2014, 12, 14))
    week = Headcount(storage, commune).week(days)
    by_service: dict[str, list[int]] = {}
    for d in week:
        by_service.setdefault(d.service.code, []).append(d.day.day)
    assert by_service == {"GARDERIE_MATIN": [8, 9, 10, 11, 12], MIDI: [8, 9, 10, 11, 12],
                          "GARDERIE_SOIR": [8, 9, 11, 12], "RESTAURATION": [8, 9, 11, 12]}
    thursday_midi = next(d for d in week if d.service.code == MIDI and d.day == DAY)
    assert len(thursday_midi.expected) == 2 and len(thursday_midi.waiting) == 2
    assert csv_rows(week)[1:] == csv_rows(Headcount(storage, commune).day(DAY))[1:]  # only Thursday has children


def test_one_query_per_service_and_day_then_one_batch_of_names(thursday, storage, commune):  # noqa: F811
    trips = RoundTrips(storage.client)
    Headcount(storage, commune).day(DAY)
    assert dict(trips.by_operation) == {"Query": 4, "BatchGetItem": 1}
    trips.reset()
    Headcount(storage, commune).week(week_days("2014-W50"))
    assert dict(trips.by_operation) == {"Query": 18, "BatchGetItem": 1}
    trips.reset()
    Headcount(storage, commune).day(date(2014, 12, 13))  # a Saturday: nothing open, nothing read
    assert trips.total == 0


def test_the_csv_is_the_commands(thursday, storage, commune, capsys):  # noqa: F811
    status, out, err = cli(capsys, "headcount", "--date", "2014-12-11", "--csv")
    assert status == 0, err
    assert out == csv_text(Headcount(storage, commune).day(DAY))
    lines = out.splitlines()
    assert lines[0] == ";".join(CSV_HEADER)
    assert lines[1] == "GARDERIE_MIDI;2014-12-11;attendu;100;1;ALPHA ANNA;Madame ANNE ALPHA;"
    assert "GARDERIE_MIDI;2014-12-11;liste d'attente;400;1;DELTA DAVID;Madame ANNE DELTA;1" in lines


def test_ages_and_what_staff_type():
    assert age_on(date(2010, 3, 14), date(2014, 3, 13)) == 3
    assert age_on("2010-03-14", date(2014, 3, 14)) == 4
    assert age_on(date(2012, 2, 29), date(2013, 2, 28)) == 0 and age_on(date(2012, 2, 29), date(2013, 3, 1)) == 1
    assert age_on(None, DAY) is None
    assert parse_day("2014-12-11") == DAY
    for bad in ("11/12/2014", "2014-02-30", "demain", ""):
        with pytest.raises(Refusal, match="Date « .* » invalide") as refused:
            parse_day(bad)
        assert refused.value.status == 400
    assert week_days("2015-W53")[0] == date(2015, 12, 28)
    for bad in ("2014-W54", "2014-50", "2014-W00"):
        with pytest.raises(Refusal, match="Semaine « .* » invalide"):
            week_days(bad)


# --- paper plannings ----------------------------------------------------------------------------------

GOOD = (HEADER + "100;1;08/12/2014;RESTAURATION;1\n"
                 "100;1;10/12/2014;RESTAURATION;1\n"  # a Wednesday: closed
                 "200;1;11/12/2014;GARDERIE MIDI;\n"
                 "300;1;11/12/2014;GARDERIE_MIDI;1\n")


def test_a_preview_says_what_each_line_would_become_and_writes_nothing(portal, storage, commune):  # noqa: F811
    assert reserve(portal, "400", DAY, MIDI) == "validated"
    storage.update_attributes(*COUNTER, {"validated": SEATS - 1})  # one seat left on the 11th
    before = all_items(storage)
    plannings = Plannings(storage, commune)
    trips = RoundTrips(storage.client)
    preview = plannings.preview(GOOD.encode("cp1252"), NOVEMBER_19)
    assert dict(trips.by_operation) == {"BatchGetItem": 1}
    assert all_items(storage) == before
    assert preview.can_apply and not preview.errors and not preview.too_late
    assert (preview.month, preview.deadline) == (date(2014, 12, 1), date(2014, 11, 20))
    assert [(x.row.line, x.outcome) for x in preview.lines] == [(2, "booked"), (3, "refused"), (4, "booked"),
                                                                (5, "waiting")]
    assert [family for family, _ in preview.by_family()] == ["100", "200", "300"]
    # What the preview said is what the import does.
    applied = plannings.apply(GOOD, NOVEMBER_19)
    assert [(x.row.line, x.outcome, x.text) for x in applied.lines] == [
        (x.row.line, x.outcome, x.text) for x in preview.lines]
    assert day_item(storage, "300", DAY, MIDI)["status"] == "pending"
    assert day_item(storage, "100", date(2014, 12, 8), "RESTAURATION")["channel"] == "paper"
    again = plannings.preview(GOOD, NOVEMBER_19)
    assert [x.outcome for x in again.lines] == ["duplicate", "refused", "duplicate", "duplicate"]
    assert again.lines[0].text == "doublon : déjà réservé sur un planning papier"


def test_one_bad_line_and_nothing_is_written(portal, storage, commune):  # noqa: F811
    before = all_items(storage)
    bad = GOOD + "100;9;09/12/2014;RESTAURATION;1\n100;1;08/12/2014;RESTAURATION;1\n200;1;12/13/2014;RESTAURATION;1\n"
    preview = Plannings(storage, commune).preview(bad, NOVEMBER_19, file="papier.csv")
    assert not preview.can_apply
    assert [str(e) for e in preview.errors] == [
        "papier.csv, ligne 6 : enfant 9 inconnu dans la famille 100",
        "papier.csv, ligne 7 : doublon de la ligne 2",
        "papier.csv, ligne 8 : date « 12/13/2014 » invalide (JJ/MM/AAAA ou AAAA-MM-JJ)",
    ]
    with pytest.raises(ImportRejected) as rejected:
        Plannings(storage, commune).apply(bad, NOVEMBER_19, file="papier.csv")
    assert [e.line for e in rejected.value.errors] == [6, 7, 8]
    assert all_items(storage) == before


def test_after_the_20th_a_planning_is_taken_only_when_staff_say_it_came_late(portal, storage, commune):  # noqa: F811
    late = datetime.fromisoformat("2014-11-21T09:00:00+01:00")
    plannings = Plannings(storage, commune)
    preview = plannings.preview(GOOD, late)
    assert preview.too_late and not preview.can_apply and not preview.errors
    with pytest.raises(PlanningsTooLate, match="au plus tard le jeudi 20 novembre 2014 : rien n'est importé"):
        plannings.apply(GOOD, late)
    assert not [i for i in all_items(storage) if i["sk"].startswith("DAY#")]
    assert plannings.preview(GOOD, late, late=True).can_apply
    assert plannings.apply(GOOD, late, late=True).counts()["booked"] == 3


def test_files_that_are_not_plannings_are_refused_with_a_reason(portal, storage, commune):  # noqa: F811
    plannings = Plannings(storage, commune)
    for content, reason in ((b"", "fichier vide"), (b"numero_famille,numero_enfant,date,service\n1,1,x,y\n",
                                                    "point-virgule"),
                            (HEADER.encode(), "aucune ligne à importer"),
                            (b"numero_famille;date\n100;08/12/2014\n", "colonne(s) manquante(s) : numero_enfant, service"),
                            (b'numero_famille;numero_enfant;date;service\n"100;1\x00;x\n', "")):
        preview = plannings.preview(content, NOVEMBER_19)
        assert preview.errors and not preview.can_apply, content
        assert reason in str(preview.errors[0])
