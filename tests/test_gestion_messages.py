"""« Messages » in the back office (/gestion/messages/) through Chalice's test client: the
preview shows the families' own HTML and writes nothing; a send reaches exactly one
family, everyone booked on a service's day, or all, with their notice mails and inbox
pages (deferred jobs); the list counts the families that read each message; bad input is
a French 4xx with nothing written; the same form sent twice, even at once, sends once.
The role matrix and the form token are tests/test_staff_access.py's."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from chalicelib import jobs, safe_markdown
from chalicelib import storage as st
from chalicelib.keys import sent_pk

from bench.round_trips import RoundTrips
from tests.conftest import GUIDE_NOW, add_family, all_items
from tests.test_accounts_api import PASSWORD_A, PASSWORD_B, post, session_cookie
from tests.test_family_pages import text
from tests.test_staff import ALL, DAY, MIDI, reserve

SUBJECT = "Sortie au cirque"
BODY = "Les enfants de la **garderie** partiront à 16 h 45.\n\n- un goûter\n- une casquette\n\n[Le guide](/guide/)"
FORM = {"target": "service_day", "service": MIDI, "date": DAY.isoformat(), "subject": SUBJECT, "body": BODY}


@pytest.fixture
def town(client, storage, families, frozen_clock, commune):
    """Families 100 (alice), 200 (bob), 300 (carol and cyril), 400 (no address). On
    Thursday 11 December GARDERIE MIDI: 100 and 300 booked (validated), 200 booked then
    cancelled, 400 the canteen only."""
    from chalicelib.booking_requests import Item
    from chalicelib.bookings import Bookings
    from chalicelib.families import Responsable, responsable_item

    add_family(storage, "300", "carol", None, last_name="CHARLIE", child="CLARA", email="carol@example.org")
    storage.put(responsable_item(Responsable(family_number="300", rank=2, civility="Monsieur", last_name="CHARLIE",
                                             first_name="CYRIL", login="cyril", email="cyril@example.org")))
    add_family(storage, "400", "dave", None, last_name="DELTA", child="DAVID", email="")
    for family in ("100", "200", "300", "400"):
        storage.update_attributes(st.family_pk(family), st.child_sk("1"), {"services": ALL})
    bookings = Bookings(storage, commune)
    assert reserve(bookings, "100") == reserve(bookings, "300") == reserve(bookings, "200") == "validated"
    bookings.submit("200", "1", 1, [Item(DAY, MIDI, "cancel")], GUIDE_NOW)
    assert reserve(bookings, "400", service="RESTAURATION") == "validated"
    return storage


def words(response) -> str:
    return text(response.body.decode())


def inboxes(storage) -> dict[str, list[dict]]:
    return {n: storage.family_state(n).messages for n in ("100", "200", "300", "400")}


def addressed(storage) -> set[str]:
    return {n for n, messages in inboxes(storage).items() if messages}


def family_page(storage, family: str, path: str) -> str:
    import boto3
    from chalicelib.table import bucket_name

    key = storage.get(st.family_pk(family), st.PROFILE)["page_key"]
    return boto3.client("s3", region_name="eu-west-3").get_object(
        Bucket=bucket_name("pages"), Key=f"famille/{key}/{path}")["Body"].read().decode()


def sent(agent, form: dict, token: str = "a" * 32):
    return agent.post("/gestion/messages", {**form, "sending": token, "send": "1"})


def sending_id(response) -> str:
    assert response.status_code == 303, words(response)
    found = re.fullmatch(r"/gestion/messages/([0-9a-f]{32})/#resultat", response.headers["Location"])
    assert found, response.headers["Location"]
    return found.group(1)


# --- the preview ---------------------------------------------------------------------------------

def test_the_preview_is_the_familys_html_and_the_count_and_writes_nothing(town, staff_client, mails):
    agent = staff_client("agent")
    form = agent.get("/gestion/messages/")
    assert form.status_code == 200 and "Messages aux familles" in words(form)
    token = re.search(r'name="sending" value="([0-9a-f]{32})"', form.body.decode()).group(1)
    before = all_items(town)
    response = agent.post("/gestion/messages", {**FORM, "sending": token})
    assert response.status_code == 200
    page = response.body.decode()
    assert safe_markdown.render(BODY) in page  # exactly the HTML the family's page will show
    assert '<a href="/guide/">Le guide</a>' in page and "<strong>garderie</strong>" in page
    assert ("Ce message sera déposé dans la messagerie de 2 familles ayant un enfant réservé en GARDERIE MIDI "
            "le jeudi 11 décembre 2014") in words(response)
    assert "Envoyer à 2 familles" in words(response)
    # the send form carries every field back, and the same token
    assert f'name="sending" value="{token}"' in page and 'name="send" value="1"' in page
    assert all_items(town) == before and mails() == [] and addressed(town) == set()


# --- the send --------------------------------------------------------------------------------------

def test_a_service_day_reaches_exactly_its_booked_families_their_mails_and_pages(town, staff_client, mails):
    agent = staff_client("agent")
    identifier = sending_id(sent(agent, FORM))
    assert addressed(town) == {"100", "300"}
    assert sorted(m["To"] for m in mails()) == ["alice@example.org", "carol@example.org", "cyril@example.org"]
    (message,) = town.family_state("100").messages
    assert (message["subject"], message["body_markdown"], message["message_id"]) == (SUBJECT, BODY, identifier)
    # the family's pages, rendered again by the deferred job, show it with the preview's HTML
    assert "vous avez 1 nouveau message." in text(family_page(town, "100", "index.html"))
    assert f"Non lu : {SUBJECT}" in text(family_page(town, "300", "messages/index.html"))
    assert safe_markdown.render(BODY) in family_page(town, "100", f"messages/{identifier}/index.html")
    # the staff journal: who, to whom, never what
    (entry,) = [e for e in town.audit_entries(GUIDE_NOW.date()) if e["action"] == "messages_sent"]
    assert entry["actor"] == agent.login and entry["details"]["families"] == ["100", "300"]
    assert entry["details"]["service"] == MIDI and entry["details"]["date"] == "2014-12-11"
    assert SUBJECT not in str(entry) and "garderie" not in str(entry)
    page = agent.get(f"/gestion/messages/{identifier}/")
    assert page.status_code == 200
    assert "courriels d'avis envoyés et pages des familles à jour" in words(page)
    assert "Lu par 0 famille sur 2" in words(page) and 'http-equiv="refresh"' not in page.body.decode()


def test_one_family_and_all_families(town, staff_client, mails):
    agent = staff_client("regie")
    sending_id(sent(agent, {"target": "family", "family_number": "200", "subject": "Impayé", "body": "Merci."}))
    assert addressed(town) == {"200"} and [m["To"] for m in mails()] == ["bob@example.org"]
    sending_id(sent(agent, {"target": "all", "subject": "Menus", "body": "Les menus."}, "b" * 32))
    assert {n: len(m) for n, m in inboxes(town).items()} == {"100": 1, "200": 2, "300": 1, "400": 1}
    assert len(mails()) == 1 + 4  # 400 has no address; 300's two responsables each once
    listing = words(agent.get("/gestion/messages/"))
    assert listing.index("Menus") < listing.index("Impayé")  # newest first
    assert "toutes les familles (4)" in listing and "la famille 200" in listing


def test_read_counts_go_up_once_per_family(town, staff_client, client, frozen_clock):
    agent = staff_client("agent")
    identifier = sending_id(sent(agent, {"target": "all", "subject": "Menus", "body": "Les menus."}))
    jobs.drain()
    alice = session_cookie(post(client, "/api/login", {"login": "alice", "password": PASSWORD_A}))
    bob = session_cookie(post(client, "/api/login", {"login": "bob", "password": PASSWORD_B}))
    assert "0 famille sur 4" in words(agent.get("/gestion/messages/"))
    assert post(client, f"/api/messages/{identifier}/read", {}, cookie=alice).status_code == 204
    frozen_clock(GUIDE_NOW + timedelta(minutes=5))
    assert post(client, f"/api/messages/{identifier}/read", {}, cookie=alice).status_code == 204  # again: no count
    assert "Lu par 1 famille sur 4" in words(agent.get(f"/gestion/messages/{identifier}/"))
    assert post(client, f"/api/messages/{identifier}/read", {}, cookie=bob).status_code == 204
    assert "2 familles sur 4" in words(agent.get("/gestion/messages/"))
    assert town.get(sent_pk(identifier), "SENT")["read"] == 2


# --- refusals: nothing written ---------------------------------------------------------------------

@pytest.mark.parametrize(("change", "status", "said"), [
    ({"target": "family", "family_number": "999"}, 404, "Famille inconnue : 999. Aucun message n'est envoyé."),
    ({"target": "family", "family_number": "12a"}, 400, "« 12a » n'est pas un numéro de famille"),
    ({"target": "family", "family_number": ""}, 400, "Indiquez le numéro de la famille."),
    ({"service": "PISCINE"}, 400, "Service « PISCINE » inconnu"),
    ({"date": "2014-02-30"}, 400, "Date « 2014-02-30 » invalide"),
    ({"date": "2014-12-12"}, 422, "Aucun enfant n'est réservé (validé) en GARDERIE MIDI le 12/12/2014"),
    ({"target": "quelques-unes"}, 400, "Choisissez les destinataires"),
    ({"subject": "   "}, 400, "L'objet du message est vide."),
    ({"body": "\n \n"}, 400, "Le texte du message est vide."),
    ({"subject": "x" * 151}, 400, "L'objet dépasse 150 caractères"),
    ({"body": "x" * 50_001}, 413, "Le texte dépasse 50000 caractères"),
    ({"sending": "pas-un-jeton"}, 400, "Ce formulaire d'envoi est illisible"),
])
def test_bad_input_is_a_french_4xx_and_nothing_is_written(town, staff_client, mails, change, status, said):
    agent = staff_client("agent")
    before = all_items(town)
    for extra in ({}, {"send": "1"}):  # the preview and the send alike
        response = agent.post("/gestion/messages", {**FORM, "sending": "c" * 32, **change, **extra})
        assert response.status_code == status, words(response)
        assert said in words(response)
        assert 'name="subject"' in response.body.decode()  # the form again, as typed
    assert all_items(town) == before and mails() == []


def test_the_same_form_sent_twice_sends_once(town, staff_client, mails):
    agent = staff_client("agent")
    first = sending_id(sent(agent, FORM, "d" * 32))
    again = sent(agent, FORM, "d" * 32)  # a double click, a reload of the answer
    assert again.status_code == 303 and again.headers["Location"] == f"/gestion/messages/{first}/"
    assert {n: len(m) for n, m in inboxes(town).items() if m} == {"100": 1, "300": 1}
    assert len(mails()) == 3
    changed = sent(agent, {**FORM, "subject": "Autre chose"}, "d" * 32)  # the back button, then an edit
    assert changed.status_code == 409 and "ouvrez un nouveau formulaire" in words(changed)
    assert {n: len(m) for n, m in inboxes(town).items() if m} == {"100": 1, "300": 1}


def test_an_unknown_sending_is_404(town, staff_client):
    agent = staff_client("agent")
    for path in ("/gestion/messages/" + "e" * 32 + "/", "/gestion/messages/inconnu/"):
        response = agent.get(path)
        assert response.status_code == 404 and "introuvable" in words(response)
    assert agent.get("/gestion/messages/?avant=nimporte").status_code == 400


def test_a_send_to_n_families_costs_a_batch_write_per_25_items(town, staff_client, commune):
    """The request's round trips for N families (the mails and pages are the jobs'): the
    staff session, the Query of gsi1 FAMILIES, the head's conditional put, one
    BatchWriteItem per 25 items (N messages, the text, the recipients' chunks, the journal)."""
    from chalicelib.staff.messages import MessageDesk, draft, target

    for n in range(46):
        add_family(town, f"5{n:02d}", f"famille{n}", None, last_name="EPSILON", child="EVE", email="")
    desk = MessageDesk(town, commune)
    trips = RoundTrips(town.client)
    chosen = target("all", commune)
    recipients = desk.recipients(chosen)
    desk.send(draft("Menus", "Les menus."), chosen, recipients, GUIDE_NOW, "agent")
    assert len(recipients) == 50
    # 50 messages + the text + 1 chunk + the journal's entry = 53 items: 3 BatchWriteItem
    assert dict(trips.by_operation) == {"Query": 1, "TransactWriteItems": 1, "BatchWriteItem": 3}


# --- two sends of one form at once -----------------------------------------------------------------

@pytest.mark.server
def test_two_sends_of_one_form_at_once_write_one_sending(embedded_aws, embedded_resources, commune):
    from chalicelib.staff.messages import AlreadySent, MessageDesk, draft, target

    from tests.conftest import race
    from tests.test_accounts_race import storage_for

    storage = storage_for(embedded_aws, 4)
    for number in ("100", "200"):
        add_family(storage, number, f"login{number}", None, last_name="ALPHA", child="ANNA", email="")
    desk = MessageDesk(storage, commune)
    chosen = target("all", commune)
    answers = race(2, lambda n: desk.send(draft("Menus", "Les menus."), chosen, ["100", "200"], GUIDE_NOW,
                                          "agent", sending_id="f" * 32)["sending_id"], AlreadySent)
    assert sorted(type(a).__name__ for a in answers) == ["AlreadySent", "str"]
    assert [len(storage.family_state(n).messages) for n in ("100", "200")] == [1, 1]
    # and two families' first readings at once, and one family's twice: counted once each
    from chalicelib.staff.sent_store import mark_read

    sk = storage.family_state("100").messages[0]["sk"]
    taken = race(3, lambda n: mark_read(storage, st.family_pk("100" if n < 2 else "200"), sk,
                                        GUIDE_NOW.isoformat(), "f" * 32))
    assert sorted(taken) == [False, True, True]
    assert storage.get(sent_pk("f" * 32), "SENT")["read"] == 2


def test_a_sending_is_purged_with_its_families_messages(commune):
    """`portail family purge`: a sending older than the messages' retention goes whole."""
    from portail.family_data import plan_purge

    def sending(identifier: str, sent_at: str) -> list[dict]:
        return [{"pk": sent_pk(identifier), "sk": "SENT", "sent_at": sent_at},
                {"pk": sent_pk(identifier), "sk": "BODY", "body_markdown": "Texte."},
                {"pk": sent_pk(identifier), "sk": "RECIPIENTS#0000", "families": ["100"]}]

    plan = plan_purge(sending("a" * 32, "2012-11-01T09:00:00+00:00") + sending("b" * 32, "2014-01-01T09:00:00+00:00"),
                      commune, GUIDE_NOW)  # messages are kept 2 years (tests/commune.toml)
    assert sorted(plan.deletes) == sorted((sent_pk("a" * 32), sk) for sk in ("SENT", "BODY", "RECIPIENTS#0000"))
