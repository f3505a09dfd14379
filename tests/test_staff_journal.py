"""The staff journal (chalicelib/staff/journal.py, docs/data-model.md): every staff
action by agent, by family or by day, newest first, a page at a time, each read a Query
(never a Scan); the family's own actions stay out."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from chalicelib.staff import journal
from chalicelib.staff.journal import JournalError, entries

from bench.round_trips import RoundTrips

START = datetime(2014, 12, 8, 7, 0, tzinfo=UTC)


def _write(storage):
    """Staff entries of alice, bob and the CLI about families 100 and 200 (and none), the
    family's own (logins, an upload), over 8 and 9 December; returns the staff ones, newest first."""
    written = []
    for n in range(24):
        when = START + timedelta(hours=n)  # 07:00 UTC on the 8th to 06:00 UTC on the 9th
        actor = ("alice", "bob", "staff")[n % 3]
        family = ("100", "200", None)[n % 4 % 3]
        details = {"family_number": family, "child_id": "1", "date": "2014-12-11"} if family else {"count": n}
        item = storage.audit_item(when, actor, "request_accepted" if family else "requests_listed", details)
        storage.put(item)
        written.append(item)
        storage.audit(when + timedelta(minutes=1), "parent100", "login", {"source": "192.0.2.1"}, by_family=True)
        storage.audit(when + timedelta(minutes=2), "parent100", "certificate_upload",
                      {"family_number": "100", "certificate_id": "ab"}, by_family=True)
    return sorted(written, key=lambda item: item["sk"], reverse=True)


def _all_pages(storage, limit, **filters):
    shown, cursor, pages = [], None, 0
    while True:
        page = entries(storage, before=cursor, limit=limit, **filters)
        shown += page.entries
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            return shown, pages


def test_by_agent_and_by_family_exactly_theirs_newest_first_a_page_at_a_time(storage):
    staff = _write(storage)
    alice = [i["sk"] for i in staff if i["actor"] == "alice"]
    family = [i["sk"] for i in staff if i["details"].get("family_number") == "100"]
    both = [i["sk"] for i in staff if i["actor"] == "alice" and i["details"].get("family_number") == "100"]
    assert len(alice) == 8 and len(family) == 12 and both  # the fixture is what the test thinks

    assert [e.sk for e in entries(storage, actor="alice").entries] == alice
    for limit in (1, 3, 8):
        shown, pages = _all_pages(storage, limit, actor="alice")
        assert [e.sk for e in shown] == alice
        assert pages == -(-len(alice) // limit)  # a full last page is the last: no empty one after
    shown, _ = _all_pages(storage, 4, family="100")
    assert [e.sk for e in shown] == family  # the parent's own upload about family 100 is not there
    assert {e.actor for e in shown} == {"alice", "bob", "staff"} & {i["actor"] for i in staff if i["sk"] in family}
    assert all(e.family == "100" and e.label == "Demande acceptée" for e in shown)
    shown, _ = _all_pages(storage, 1, actor="alice", family="100")
    assert [e.sk for e in shown] == both


def test_a_day_is_the_local_day_from_two_utc_partitions_staff_entries_only(storage):
    staff = _write(storage)
    # An entry of the CLI written before the journal's indexes: no index keys, shown by day.
    old = {"pk": "AUDIT#2014-12-08", "sk": "2014-12-08T23:30:00+00:00#0000abcd", "at": "2014-12-08T23:30:00+00:00",
           "actor": "staff", "action": "headcount_viewed", "details": {"date": "2014-12-09"}}
    storage.put(old)
    # Paris is UTC+1 in December: the 9th runs from 23:00 UTC on the 8th.
    ninth = [i["sk"] for i in staff if i["sk"] >= "2014-12-08T23:00"] + [old["sk"]]
    ninth.sort(reverse=True)
    page = entries(storage, day=date(2014, 12, 9))
    assert [e.sk for e in page.entries] == ninth
    assert page.day == date(2014, 12, 9) and page.next_cursor is None
    assert {e.actor for e in page.entries} <= {"alice", "bob", "staff"}  # never parent100
    assert page.entries[-1].at.hour == 0 and page.entries[-1].at.utcoffset() == timedelta(hours=1)
    for limit, expected_pages in ((2, 5), (7, 2), (9, 1)):  # 7: the later UTC partition fills the first page
        shown, pages = _all_pages(storage, limit, day=date(2014, 12, 9))
        assert [e.sk for e in shown] == ninth and pages == expected_pages
    eighth = entries(storage, day=date(2014, 12, 8))
    assert [e.sk for e in eighth.entries] == [i["sk"] for i in staff if i["sk"] < "2014-12-08T23:00"]
    # A filter narrowed to one day.
    assert [e.sk for e in entries(storage, actor="bob", day=date(2014, 12, 9)).entries] == [
        sk for sk in ninth if sk in {i["sk"] for i in staff if i["actor"] == "bob"}]


def test_every_read_is_a_query_never_a_scan(storage):
    _write(storage)
    trips = RoundTrips(storage.client)
    entries(storage, actor="alice")
    entries(storage, family="200")
    entries(storage, actor="bob", family="200", day=date(2014, 12, 8))
    assert trips.by_operation == {"Query": 3}
    trips.reset()
    entries(storage, day=date(2014, 12, 9))
    assert trips.by_operation == {"Query": 2}  # the 8th's and the 9th's UTC partitions


def test_a_bad_cursor_is_a_french_400_and_an_empty_journal_is_empty(storage):
    with pytest.raises(JournalError) as refused:
        entries(storage, actor="alice", before="2014-12-08T07:00:00+00:00' OR 1=1")
    assert refused.value.status == 400 and "plus anciennes" in refused.value.message
    page = entries(storage, family="999")
    assert page.entries == [] and page.next_cursor is None
    # A cursor older than the day asked: nothing, and no Query with its bounds crossed.
    assert entries(storage, day=date(2014, 12, 9), before="2014-12-08T10:00:00+00:00#0000abcd").entries == []


def test_the_index_keys_of_staff_entries_and_none_on_the_familys_own(storage):
    staff = storage.audit_item(START, "alice", "messages_sent", {"families": ["300"], "count": 1})
    assert staff["gsi1pk"] == "JOURNAL#alice" and staff["gsi2pk"] == "JOURNAL#FAMILY#300"
    assert staff["gsi1sk"] == staff["gsi2sk"] == staff["sk"]
    many = storage.audit_item(START, "staff", "messages_sent", {"families": ["1", "2"]})
    assert many["gsi1pk"] == "JOURNAL#staff" and "gsi2pk" not in many
    own = storage.audit_item(START, "parent", "login", {"source": "x"}, by_family=True)
    assert not {"gsi1pk", "gsi2pk"} & own.keys()
    storage.put(staff)
    assert entries(storage, family="300").entries[0].family == "300"


def test_french_words_and_a_summary_without_secrets():
    assert journal.label("certificate_refused") == "Certificat médical refusé"
    assert journal.label("something_new") == "something_new"
    text = journal.summary({"family_number": "100", "child_id": "2", "service": "RESTAURATION",
                            "date": "2014-12-11", "reason": "Complet", "password": "hunter2",
                            "token_hash": "ab", "session_cookie": "c", "amount": "12.5", "late": True})
    assert text == ("enfant : 2 ; service : RESTAURATION ; jour : 11/12/2014 ; montant : 12,50\u00a0€ ; "
                    "en retard : oui ; motif : Complet")
    assert "hunter2" not in text and "100" not in text
    assert journal.summary({"families": [str(n) for n in range(30)], "count": 30}) == "nombre : 30 ; 30 familles"
