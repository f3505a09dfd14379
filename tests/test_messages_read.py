"""`POST /api/messages/{id}/read`: the family's own message is marked read and
the pages showing it (dashboard, inbox, the message) are re-rendered before the answer;
another family's message is 404 and changes nothing. And the safe Markdown subset the
function renders a message with when no HTML was stored at send time."""

from __future__ import annotations

import json

import pytest
from chalicelib import safe_markdown, sessions

from tests.conftest import GUIDE_NOW
from tests.test_accounts_api import PASSWORD_A, PASSWORD_B, post, session_cookie
from tests.test_family_pages import add_message, text

PAGES_OF_MESSAGES = {"index.html", "messages/index.html", "messages/m1/index.html", "messages/m2/index.html"}


@pytest.fixture
def inbox(frozen_clock, client, families, storage):
    """Family A with two unread messages, B with one; A logged in; A's pages exported."""
    from app import family_pages
    from chalicelib.table import bucket_name

    add_message(storage, "100", "m1", "2014-11-26T09:00:00+00:00", "Menus", "Les menus.")
    add_message(storage, "100", "m2", "2014-11-27T09:00:00+00:00", "Sortie", "La sortie.")
    add_message(storage, "200", "b1", "2014-11-27T09:00:00+00:00", "Pour B", "Privé.")
    cookie = session_cookie(post(client, "/api/login", {"login": "alice", "password": PASSWORD_A}))
    pages = family_pages()
    pages.export(storage, "100", GUIDE_NOW)
    key = families["A"]["page_key"]

    def read(path: str) -> str:
        return pages.s3.get_object(Bucket=bucket_name("pages"), Key=f"famille/{key}/{path}")["Body"].read().decode()

    def mark_untouched() -> None:
        for o in pages.s3.list_objects_v2(Bucket=bucket_name("pages"), Prefix=f"famille/{key}/")["Contents"]:
            pages.s3.put_object(Bucket=bucket_name("pages"), Key=o["Key"], Body=b"sentinel")

    return {"cookie": cookie, "key": key, "read": read, "mark_untouched": mark_untouched, "pages": pages}


def read_at(storage, family: str, message_id: str):
    return next(m for m in storage.family_state(family).messages if m["message_id"] == message_id).get("read_at")


def test_reading_a_message_marks_it_and_re_renders_only_the_pages_showing_messages(client, inbox, storage):
    assert "vous avez 2 nouveaux messages." in text(inbox["read"]("index.html"))
    inbox["mark_untouched"]()
    response = post(client, "/api/messages/m2/read", {}, cookie=inbox["cookie"])
    assert response.status_code == 204 and response.body in (b"", "")
    assert read_at(storage, "100", "m2") == GUIDE_NOW.isoformat()
    assert read_at(storage, "100", "m1") is None
    # The pages showing this message were rendered again before the answer: the dashboard,
    # the inbox and its page; no other page (m1's page is not written again).
    pages = inbox["pages"]
    from chalicelib.table import bucket_name

    rendered = {o["Key"].removeprefix(f"famille/{inbox['key']}/")
                for o in pages.s3.list_objects_v2(Bucket=bucket_name("pages"), Prefix=f"famille/{inbox['key']}/")["Contents"]
                if inbox["read"](o["Key"].removeprefix(f"famille/{inbox['key']}/")) != "sentinel"}
    assert rendered == PAGES_OF_MESSAGES - {"messages/m1/index.html"}
    assert "vous avez 1 nouveau message." in text(inbox["read"]("index.html"))
    assert "Non lu : Sortie" not in text(inbox["read"]("messages/index.html"))
    message = inbox["read"]("messages/m2/index.html")
    assert "Message lu le vendredi 28 novembre 2014 à 12 h 00." in text(message) and "/read" not in message


def test_reading_twice_keeps_the_first_instant(client, inbox, storage, frozen_clock):
    assert post(client, "/api/messages/m1/read", {}, cookie=inbox["cookie"]).status_code == 204
    first = read_at(storage, "100", "m1")
    frozen_clock("2014-11-28T12:10:00+01:00")
    assert post(client, "/api/messages/m1/read", {}, cookie=inbox["cookie"]).status_code == 204
    assert read_at(storage, "100", "m1") == first


def test_a_form_post_answers_303_back_to_the_message(client, inbox, storage):
    token = sessions.csrf_token("secret-de-test", inbox["key"])
    response = post(client, "/api/messages/m1/read", {"csrf_token": token}, cookie=inbox["cookie"], form=True)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/famille/{inbox['key']}/messages/m1/"
    assert read_at(storage, "100", "m1")
    assert "Message lu le" in text(inbox["read"]("messages/m1/index.html"))


def test_a_form_without_the_familys_token_is_refused(client, inbox, storage):
    response = post(client, "/api/messages/m1/read", {"csrf_token": "faux"}, cookie=inbox["cookie"], form=True)
    assert response.status_code == 403
    assert read_at(storage, "100", "m1") is None


def test_another_familys_message_is_404_and_unchanged(client, inbox, storage):
    inbox["mark_untouched"]()
    for message_id in ("b1", "inconnu", "m1%23x"):
        response = post(client, f"/api/messages/{message_id}/read", {}, cookie=inbox["cookie"])
        assert response.status_code == 404
        error = json.loads(response.body)["error"]
        assert error["code"] == "message_not_found" and "introuvable" in error["message"]
    assert read_at(storage, "200", "b1") is None
    assert inbox["read"]("index.html") == "sentinel"  # nothing re-rendered
    # Family B reads its own.
    cookie_b = session_cookie(post(client, "/api/login", {"login": "bob", "password": PASSWORD_B}))
    assert post(client, "/api/messages/b1/read", {}, cookie=cookie_b).status_code == 204
    assert read_at(storage, "200", "b1") and read_at(storage, "100", "m1") is None


def test_not_logged_in_or_from_another_site_is_refused(client, inbox, storage):
    assert post(client, "/api/messages/m1/read", {}).status_code == 401
    response = client.http.post("/api/messages/m1/read", body="{}", headers={
        "Content-Type": "application/json", "Origin": "https://ailleurs.example", "Cookie": inbox["cookie"]})
    assert response.status_code == 403
    assert read_at(storage, "100", "m1") is None


# --- the safe Markdown subset --------------------------------------------------------------------

def test_the_markdown_subset():
    assert safe_markdown.render("Une **place** s'est *libérée* : `RESTAURATION`.") == (
        "<p>Une <strong>place</strong> s&#x27;est <em>libérée</em> : <code>RESTAURATION</code>.</p>")
    assert safe_markdown.render("- un\n- deux\n\n1. premier\n2. second") == (
        "<ul><li>un</li><li>deux</li></ul>\n<ol><li>premier</li><li>second</li></ol>")
    assert safe_markdown.render("# Titre\n\nligne une\nligne deux") == "<h3>Titre</h3>\n<p>ligne une ligne deux</p>"
    assert safe_markdown.render("[Le guide](/guide/) et <https://example.org/?a=1&b=2>") == (
        '<p><a href="/guide/">Le guide</a> et '
        '<a href="https://example.org/?a=1&amp;b=2">https://example.org/?a=1&amp;b=2</a></p>')
    assert safe_markdown.render("[écrire](mailto:enfance@example.org)") == (
        '<p><a href="mailto:enfance@example.org">écrire</a></p>')
    assert safe_markdown.render("snake_case_name et [lien](/a_b_c/)") == (
        '<p>snake_case_name et <a href="/a_b_c/">lien</a></p>')  # no emphasis inside words or addresses


@pytest.mark.parametrize("hostile", [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[clic](javascript:alert(1))",
    "[clic](JaVaScRiPt:alert(1))",
    "[clic](//evil.example/)",
    "[clic](data:text/html;base64,PHNjcmlwdD4=)",
    '[clic](/ok" onmouseover="alert(1))',
    "\x00<b>",
])
def test_the_markdown_subset_never_lets_markup_through(hostile):
    html = safe_markdown.render(hostile)
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert 'href="javascript' not in html.lower()
    assert 'href="//' not in html and 'href="data:' not in html and "onmouseover=\"" not in html
    assert "\x00" not in html


# --- a message the function sends itself --------------------------------------------------------

def test_a_seat_given_from_the_waiting_list_shows_its_message_and_the_day(client, storage, enrolled, commune):
    """Family A cancels the last seat of a full day: family B, waiting, gets it and a
    message; B's dashboard, inbox, month page and list of requests are re-rendered."""
    from app import family_pages
    from chalicelib.table import bucket_name

    from tests.test_bookings_api import book

    day, service = "2014-12-11", "GARDERIE_MIDI"
    storage.put({"pk": f"SERVICEDAY#{service}#{day}", "sk": "COUNTER",
                 "validated": commune.service(service).capacity - 1})
    cookie_a = session_cookie(post(client, "/api/login", {"login": "alice", "password": PASSWORD_A}))
    cookie_b = session_cookie(post(client, "/api/login", {"login": "bob", "password": PASSWORD_B}))
    assert book(client, cookie_a, [(day, service, "reserve")]).status_code == 200
    assert book(client, cookie_b, [(day, service, "reserve")]).status_code == 200  # waits
    pages = family_pages()
    key = enrolled["B"]["page_key"]

    def read(path: str) -> str:
        return text(pages.s3.get_object(Bucket=bucket_name("pages"), Key=f"famille/{key}/{path}")["Body"]
                    .read().decode())

    pages.export(storage, "200", GUIDE_NOW)
    assert "vous avez 0 nouveau message." in read("index.html")
    assert book(client, cookie_a, [(day, service, "cancel")]).status_code == 200
    assert "vous avez 1 nouveau message." in read("index.html")
    assert "Non lu : Réservation validée : GARDERIE MIDI, jeudi 11 décembre 2014" in read("messages/index.html")
    assert "(réservation) : Service complet ce jour-là, demande mise en liste d'attente. Depuis : validée." in read(
        "demandes/index.html")
