"""A family's sequences of steps (chalicelib/family_actions.py), without HTTP: the
collaborators injected, the clock an argument. What the routes call, and what the
staff's routes will call too."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from types import SimpleNamespace

import pytest
from chalicelib import family_actions
from chalicelib.booking_requests import BookingRequestError
from chalicelib.bookings import Bookings
from chalicelib.documents import DocumentError, Documents
from chalicelib.pages import pages_showing_days, pages_showing_messages
from chalicelib.refusals import Refusal

from tests.conftest import GUIDE_NOW, all_items

# Not the frozen clock: what the steps write and render is at the instant they are given.
NOW = GUIDE_NOW + timedelta(minutes=7)
DAY, SERVICE = "2014-12-11", "GARDERIE_MIDI"  # capacity 12


class Pages:
    """Records what would be rendered again."""

    def __init__(self):
        self.exports = []

    def export(self, storage, family_number, now, only=None, *, state=None):
        self.exports.append((family_number, now, sorted(only)))
        return len(only)


class Inbox:
    def __init__(self):
        self.sent = []

    def send(self, family_number, subject, body_markdown, now, body_html=None):
        self.sent.append((family_number, subject, now))
        return {"message_id": f"m{len(self.sent)}"}  # as Messages.send, the item put


@pytest.fixture
def portal(storage, commune, enrolled):
    return SimpleNamespace(bookings=Bookings(storage, commune), messages=Inbox(), pages=Pages())


def book(portal, family, action, raw_items=None):
    return family_actions.book(portal.bookings, portal.messages, portal.pages, family, "1", 1,
                               raw_items or [{"date": DAY, "service": SERVICE, "action": action}], None, NOW)


def test_a_cancellation_promotes_the_oldest_tells_it_and_renders_both_families_pages(portal, storage, commune):
    seats = commune.service(SERVICE).capacity  # one seat left: family 100 takes it
    storage.put({"pk": f"SERVICEDAY#{SERVICE}#{DAY}", "sk": "COUNTER", "validated": seats - 1})
    assert book(portal, "100", "reserve")[0]["status"] == "validated"
    assert book(portal, "200", "reserve")[0]["reason"] == "waiting_list"
    portal.pages.exports.clear()

    (cancelled,) = book(portal, "100", "cancel")

    assert cancelled["status"] == "cancelled"
    promoted = storage.get("FAMILY#200", f"DAY#1#{DAY}#{SERVICE}")
    assert (promoted["status"], promoted["reason"]) == ("validated", "promoted_from_waiting_list")
    assert datetime.fromisoformat(promoted["updated_at"]) == NOW
    assert portal.messages.sent == [("200", "Réservation validée : GARDERIE MIDI, jeudi 11 décembre 2014", NOW)]
    month_pages = pages_showing_days("1", [date.fromisoformat(DAY)])
    assert portal.pages.exports == [
        # The promoted family: the day, and the message saying so (not every message's page).
        ("200", NOW, sorted([*month_pages, *pages_showing_messages("m1")])),
        ("100", NOW, sorted(month_pages)),  # then the family that cancelled
    ]


def test_a_refused_submission_promotes_nobody_and_renders_nothing(portal, storage):
    before = all_items(storage)
    with pytest.raises(BookingRequestError) as refused:
        book(portal, "100", "reserve", raw_items=[{"date": "2014-02-30", "service": SERVICE, "action": "reserve"}])
    assert refused.value.status == 400
    assert (portal.pages.exports, portal.messages.sent) == ([], [])
    assert all_items(storage) == before


@pytest.fixture
def documents():
    import boto3

    return Documents(boto3.client("s3", region_name="eu-west-3"), "portail-documents-test")


def test_a_certificate_request_writes_the_certificate_its_request_line_and_the_audit_then_renders_its_pages(
        portal, storage, documents):
    session = SimpleNamespace(family_number="100", rank=1, login="alice")
    upload = family_actions.request_certificate(storage, documents, portal.pages, session, "1", [DAY, "2014-12-12"],
                                                "application/pdf", 1000, "203.0.113.9", NOW)

    assert upload["fields"]["Content-Type"] == "application/pdf" and upload["key"].startswith("certificats/100/1/")
    state = storage.family_state("100")
    (certificate,) = state.certificates
    assert (certificate["state"], certificate["dates"], certificate["document_key"]) == (
        "awaited", [DAY, "2014-12-12"], upload["key"])
    (line,) = [r for r in state.requests if r.get("type") == "certificate"]
    assert (line["certificate_id"], datetime.fromisoformat(line["submitted_at"])) == (certificate["certificate_id"], NOW)
    (audit,) = [i for i in all_items(storage) if i["pk"].startswith("AUDIT#") and i["action"] == "certificate_upload"]
    assert (audit["actor"], audit["details"]["source"]) == ("alice", "203.0.113.9")
    # The list of requests, and the month page that offers the certificate and says its state.
    assert [(n, t, sorted(o)) for n, t, o in portal.pages.exports] == [("100", NOW, ["demandes", "mois:1:2014-12"])]


@pytest.mark.parametrize("child, dates, status", [("2", [DAY], 404), ("", [DAY], 404), ("1", ["2014-13-01"], 400),
                                                   ("1", [], 400)])
def test_a_refused_certificate_request_writes_and_renders_nothing(portal, storage, documents, child, dates, status):
    before = all_items(storage)
    session = SimpleNamespace(family_number="100", rank=1, login="alice")
    with pytest.raises(DocumentError) as refused:
        family_actions.request_certificate(storage, documents, portal.pages, session, child, dates,
                                           "application/pdf", 1000, "203.0.113.9", NOW)
    assert refused.value.status == status
    assert all_items(storage) == before and portal.pages.exports == []


def test_a_message_read_is_written_once_and_its_pages_rendered_once(portal, storage):
    storage.put({"pk": "FAMILY#100", "sk": "MESSAGE#2014-11-27T09:00:00+00:00#0123456789abcdef", "kind": "message",
                 "message_id": "0123456789abcdef", "sent_at": "2014-11-27T09:00:00+00:00", "subject": "Menus",
                 "body_markdown": "Les menus.", "sender": "Service enfance"})
    family_actions.read_message(storage, portal.pages, "100", "0123456789abcdef", NOW)
    family_actions.read_message(storage, portal.pages, "100", "0123456789abcdef", NOW + timedelta(hours=1))

    (message,) = storage.family_state("100").messages
    assert datetime.fromisoformat(message["read_at"]) == NOW  # the first reading's instant stays
    assert portal.pages.exports == [("100", NOW, sorted(pages_showing_messages("0123456789abcdef")))]
    with pytest.raises(Refusal) as unknown:  # another family's message: looked for in this family only
        family_actions.read_message(storage, portal.pages, "200", "0123456789abcdef", NOW)
    assert (unknown.value.status, unknown.value.code) == (404, "message_not_found")


def test_new_contact_details_render_the_account_page_and_a_refused_change_renders_nothing(portal, storage):
    from chalicelib.accounts import AccountError, Accounts

    accounts = Accounts(storage, mailer=None, secret="secret-de-test", site_url="https://portail.example.fr")
    session = SimpleNamespace(family_number="100", rank=1, login="alice")
    contact = family_actions.update_contact(accounts, portal.pages, session, "alice@example.org", "06 12 34 56 78",
                                            "", "203.0.113.9", NOW)
    assert contact == {"email": "alice@example.org", "phone": "06 12 34 56 78"}
    assert portal.pages.exports == [("100", NOW, ["compte"])]
    with pytest.raises(AccountError) as refused:  # a new address needs the current password
        family_actions.update_contact(accounts, portal.pages, session, "autre@example.org", "", "", "203.0.113.9", NOW)
    assert refused.value.code == "current_password_required"
    assert portal.pages.exports == [("100", NOW, ["compte"])]
