"""The demo of `portail serve --demo`: the guide's family at the guide's dates, on the commune's
real configuration (content/commune.toml, the `shipped_commune` fixture), as `make run` shows it."""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest
from chalicelib.config import load_commune

from portail.demo import DEMO_DIR, GUIDE_FAMILY, SERVICES
from tests.conftest import GUIDE_NOW, SHIPPED_COMMUNE_FILE, all_items, family_states


@pytest.fixture(scope="module")
def guide_family(demo_storage):
    return demo_storage.family_state(GUIDE_FAMILY)


@pytest.fixture(scope="module")
def demo_states(demo_storage):
    return family_states(demo_storage)


def booked(state, status=None):
    return {(d["date"], d["service"]): d["status"] for d in state.days if status in (None, d["status"])}


def test_it_is_the_guides_family(guide_family):
    (responsable,) = guide_family.responsables
    assert (responsable["civility"], responsable["last_name"], responsable["first_name"]) == ("Madame", "ZTEST", "PAYS")
    assert guide_family.profile["family_number"] == "381623867924"
    assert [(c["last_name"], c["first_name"], c["sex"], c["birth_date"]) for c in guide_family.children] == [
        ("ZTEST", "CONNIE", "F", "2006-01-01"),
        ("ZTEST", "CRICHI", "M", "2012-01-01"),
        ("ZTEST", "PRINCESSE", "F", "2014-01-01"),
    ]
    assert guide_family.children[0]["services"] == ["GARDERIE_MATIN", "GARDERIE_MIDI", "GARDERIE_SOIR", "RESTAURATION"]


def test_balance_zero_no_unpaid_invoice_no_new_message(guide_family):
    # The guide's dashboard: « solde de 0.00 € », no unpaid invoice, « 0 Nouveaux Messages ».
    debit = sum(o["debit"] for o in guide_family.operations)
    credit = sum(o["credit"] for o in guide_family.operations)
    assert debit > 0 and debit - credit == Decimal("0")
    assert all(i["paid_amount"] == i["total"] for i in guide_family.invoices)
    assert len(guide_family.messages) >= 1 and guide_family.unread_messages == 0
    assert all(o["description"].startswith(("Facture : 01/", "Règlement : ")) for o in guide_family.operations)


def test_december_2014_shows_the_guides_ticks_and_every_state(guide_family):
    december = {k: v for k, v in booked(guide_family).items() if k[0].startswith("2014-12")}
    assert december[("2014-12-05", "GARDERIE_MATIN")] == "validated"  # Ve 05 ✓
    assert december[("2014-12-09", "GARDERIE_MIDI")] == "validated"  # Ma 09 ✓
    states = {d["status"] for d in guide_family.days}
    assert states == {"validated", "pending", "refused", "cancelled", "absent"}
    refused = [d for d in guide_family.days if d["status"] == "refused"]
    assert refused[0]["message"].startswith("Refusée par le service enfance")
    assert len(guide_family.requests) == 1


def test_the_small_room_is_full_and_has_a_waiting_list(demo_storage, shipped_commune, guide_family):
    (pending,) = [d for d in guide_family.days if d["status"] == "pending"]
    rows = demo_storage.query_index(f"SERVICEDAY#{pending['service']}#{pending['date']}")
    validated = [r for r in rows if r["status"] == "validated"]
    waiting = [r for r in rows if r["status"] == "pending"]
    assert len(validated) == shipped_commune.service(pending["service"]).capacity
    assert len(waiting) >= 2
    counter = demo_storage.get(f"SERVICEDAY#{pending['service']}#{pending['date']}", "COUNTER")
    assert counter["validated"] == len(validated)


def test_every_waiting_day_of_the_demo_is_on_the_waiting_list_in_arrival_order(demo_storage, demo_states, shipped_commune,
                                                                               shipped_commune_file, capsys, monkeypatch):
    from chalicelib.waiting_list import WaitingList

    from portail.cli import main

    pending = sorted((number, d["child_id"], d["service"], d["date"])
                     for number, state in demo_states.items() for d in state.days if d["status"] == "pending")
    waiting = WaitingList(demo_storage, shipped_commune).pending()
    assert len(pending) >= 3
    assert sorted((w["family"], w["child"], w["service"], w["date"].isoformat()) for w in waiting) == pending
    # In arrival order on each day, numbered from 1; the guide's family asked last.
    for service, day in {(w["service"], w["date"]) for w in waiting}:
        line = [w for w in waiting if (w["service"], w["date"]) == (service, day)]
        assert [w["position"] for w in line] == list(range(1, len(line) + 1))
        assert [w["requested_at"] for w in line] == sorted(w["requested_at"] for w in line)
    guide_day = next(w for w in waiting if w["family"] == GUIDE_FAMILY)
    assert guide_day["position"] == max(w["position"] for w in waiting if w["date"] == guide_day["date"])
    # Staff see them.
    monkeypatch.setenv("PORTAIL_NOW", "2014-11-28T12:00:00+01:00")
    assert main(["requests", "list", "--date", guide_day["date"].strftime("%d/%m/%Y")]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "GARDERIE MIDI, jeudi 11 décembre 2014 :"
    assert out.splitlines()[-1] == f"{len(pending)} demande(s) en attente."
    assert f"{guide_day['position']}. famille {GUIDE_FAMILY}, enfant 1 (ZTEST CONNIE)" in out


def test_every_capacity_counter_counts_the_validated_days(demo_storage, demo_states, shipped_commune):
    validated: dict[str, int] = {}
    for state in demo_states.values():
        for d in state.days:
            if d["status"] in ("validated", "absent") and shipped_commune.service(d["service"]).capacity:
                key = f"SERVICEDAY#{d['service']}#{d['date']}"
                validated[key] = validated.get(key, 0) + 1
    counters = {i["pk"]: i["validated"] for i in all_items(demo_storage)
                if i["pk"].startswith("SERVICEDAY#") and i["sk"] == "COUNTER"
                and shipped_commune.service(i["pk"].split("#")[1]).capacity}
    assert counters == validated


def test_fifty_generated_families_with_their_logins(demo_storage):
    assert len(demo_storage.family_numbers()) == 51
    for index in (1, 25, 50):
        login = demo_storage.login(f"famille{index:02d}")
        assert login["rank"] == 1
        assert demo_storage.family_state(login["family_number"]).children
    assert demo_storage.login("famille51") is None
    assert demo_storage.login("ztest")["family_number"] == GUIDE_FAMILY


def test_some_generated_families_have_an_unpaid_invoice_and_new_messages(demo_states):
    states = [s for n, s in demo_states.items() if n != GUIDE_FAMILY]
    assert any(i["paid_amount"] < i["total"] for s in states for i in s.invoices)
    assert any(s.unread_messages for s in states)


def test_invoice_and_operation_numbers_have_no_gap(demo_storage, demo_states):
    states = demo_states.values()
    invoices = sorted(int(i["number"].rsplit("-", 1)[1]) for s in states for i in s.invoices)
    operations = sorted(int(o["number"]) for s in states for o in s.operations)
    assert invoices == list(range(invoices[0], invoices[0] + len(invoices)))
    assert operations == list(range(operations[0], operations[0] + len(operations)))
    assert demo_storage.get("COUNTER#INVOICE", "COUNTER")["value"] == invoices[-1]


def _demo_csv(name: str) -> list[dict]:
    with open(DEMO_DIR / name, encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file, delimiter=";"))


def test_the_shipped_configuration_is_valid_and_fits_the_demo(shipped_commune, demo_storage):
    """content/commune.toml, as the commune's staff leave it: it loads (the fixture did),
    has every service and bracket the demo uses, each with its tariffs, and the demo
    (`make run`) seeds with it and shows its waiting list."""
    assert load_commune(SHIPPED_COMMUNE_FILE) == shipped_commune
    codes = [s.code for s in shipped_commune.services]
    brackets = {b.code for b in shipped_commune.quotient_brackets}
    used = {code.strip() for row in _demo_csv("enfants.csv") for code in row["services"].split(",") if code.strip()}
    assert used <= set(SERVICES) <= set(codes), f"services of the demo missing from commune.toml: {set(SERVICES) - set(codes)}"
    assert {row["tranche_qf"] for row in _demo_csv("familles.csv")} <= brackets
    for service in shipped_commune.services:
        assert set(service.tariffs) == brackets, service.code
        assert all(price > 0 for price in service.tariffs.values()), service.code
    # The demo seeded with it (the demo_storage fixture): the guide's family, and a
    # small room full enough for the waiting list the guide shows.
    assert [c["first_name"] for c in demo_storage.family_state(GUIDE_FAMILY).children] == ["CONNIE", "CRICHI", "PRINCESSE"]
    small_room = shipped_commune.service("GARDERIE_MIDI").capacity
    assert small_room and any(d["status"] == "pending" and d["service"] == "GARDERIE_MIDI"
                              for d in demo_storage.family_state(GUIDE_FAMILY).days)


def test_a_parent_certificate_waits_for_review_with_its_absent_days(demo_storage):
    """The agent's day in `make run` includes a certificate to review: a family sent one,
    from the portal, for the two canteen days its eldest missed this month."""
    open_ones = demo_storage.query_index("CERTIFICATES#OPEN")
    assert [(c["recorded_by"], c["state"], c["child_id"]) for c in open_ones] == [("parent", "awaited", "1")]
    certificate = open_ones[0]
    family = certificate["pk"].removeprefix("FAMILY#")
    assert family != GUIDE_FAMILY
    assert certificate["document_key"].startswith(f"certificats/{family}/1/")
    days = {d["date"]: d for d in demo_storage.family_state(family).days
            if d["service"] == "RESTAURATION" and d["child_id"] == "1"}
    assert [days[d]["status"] for d in certificate["dates"]] == ["absent", "absent"]


# --- words: no doubled colon, no sentence said twice, on every family page type ---------------

def _with_refused_holidays(state, commune):
    """The guide's family, plus a request the function refused for a public holiday, a
    school holiday and a passed deadline (its real messages, from `decide`): the month
    page's last request and the « Liste des demandes » say them."""
    from dataclasses import replace
    from datetime import date

    from chalicelib.booking_requests import Item
    from chalicelib.bookings import decide
    from chalicelib.calendar_rules import CommuneCalendar

    calendar, enrolled = CommuneCalendar(commune), state.children[0]["services"]
    outcomes = [decide(Item(day, code, "reserve"), enrolled=enrolled, day_item=None, service=commune.service(code),
                       commune=commune, calendar=calendar, now=GUIDE_NOW).to_dict()
                for day, code in ((date(2014, 12, 25), "RESTAURATION"), (date(2014, 12, 22), "GARDERIE_MATIN"),
                                  (date(2014, 12, 1), "RESTAURATION"))]
    assert [o["reason"] for o in outcomes] == ["public_holiday", "school_holiday", "deadline_passed"]
    request = {"pk": f"FAMILY#{GUIDE_FAMILY}", "sk": "REQUEST#2014-11-28T10:00:00+00:00#0123456789abcdef",
               "kind": "request", "request_id": "0123456789abcdef", "submitted_at": "2014-11-28T10:00:00+00:00",
               "child_id": "1", "responsable_rank": 1, "channel": "online", "type": "booking", "items": outcomes}
    return replace(state, requests=[*state.requests, request])


def test_no_family_page_says_a_colon_or_a_sentence_twice(demo_states, shipped_commune):
    """Every family page type (dashboard, children, month pages with holidays and
    refusals, invoices, payments, statement, inbox and messages, requests, account) of
    the guide's family and of the demo's families with an unpaid invoice, a certificate
    to review, a credit note or unread messages: tests/page_words.py says what counts."""
    from chalicelib.pages.render import PageRenderer

    from tests import page_words

    states = dict(sorted(demo_states.items()))
    picked = {GUIDE_FAMILY: _with_refused_holidays(states[GUIDE_FAMILY], shipped_commune)}
    for wanted in (lambda s: any(i["paid_amount"] < i["total"] for i in s.invoices), lambda s: s.certificates,
                   lambda s: s.credit_notes, lambda s: s.unread_messages):
        number = next((n for n, s in states.items() if n not in picked and wanted(s)), None)
        if number is not None:
            picked[number] = states[number]
    renderer = PageRenderer(shipped_commune, "x" * 32)
    pages = {f"{number} {path}": html for number, state in picked.items()
             for path, html in renderer.render(state, 1, GUIDE_NOW).items()}
    kinds = {path.split("/")[0].removesuffix(".html") for path in (name.split(" ")[1] for name in pages)}
    assert kinds == {"index", "compte", "enfants", "factures", "reglements", "releve", "messages", "demandes",
                     "documents"}
    assert len(picked) >= 4
    guide = pages[f"{GUIDE_FAMILY} enfants/1/2014-12/index.html"]
    assert "Noël (jour férié) : le service RESTAURATION est fermé ce jour-là." in guide
    assert page_words.problems(pages) == []


def test_the_wording_check_finds_the_slips_it_is_for():
    from tests import page_words

    slips = {
        "deux-points": "<ul><li><strong>jeudi 25 décembre 2014</strong>, RESTAURATION : refusée. "
                       "Jour férié : Noël : le service RESTAURATION est fermé ce jour-là.</li></ul>",
        "répétée": "<li>jeudi 11 décembre 2014, RESTAURATION : <strong>validée</strong>. Réservation validée.</li>",
        "à la suite": "<p>Votre demande est enregistrée. Votre demande est enregistrée !</p>",
        "dans un titre": '<td title="Vacances scolaires : Vacances de Noël : service fermé">P</td>',
    }
    for name, html in slips.items():
        assert page_words.problems({name: html}), name
    fine = ("<ul><li>Jours refusés : le 25</li><li>Noël (jour férié) : le service est fermé.</li></ul>"
            "<p>Solde : 0,00 €. Réservation validée.</p><p>Statut : payée</p><p>Payée le 3 novembre.</p>")
    assert page_words.problems({"juste": fine}) == []


def test_a_demo_family_has_a_document_to_renew_and_one_to_review(demo_storage, shipped_commune):
    """famille35's « Mes documents » (docs/family-documents.md): its quotient attestation
    ends within 30 days, its school insurance waits for an agent on the open index."""
    from chalicelib import family_documents as fd

    state = demo_storage.family_state("381600000035")
    statuses = {s["code"]: s for s in fd.family_status(shipped_commune, state.family_documents, GUIDE_NOW.date())}
    assert statuses["QUOTIENT"]["status_label"] == "accepté, à renouveler, valable jusqu'au 15/12/2014"
    assert statuses["ASSURANCE"]["status"] == "to_review" and statuses["VACCINS"]["status"] == "missing"
    assert [i["pk"] for i in demo_storage.query_index(fd.OPEN_INDEX)] == ["FAMILY#381600000035"]
