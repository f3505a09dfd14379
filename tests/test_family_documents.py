"""« Mes documents » and the commune's documents through the function (docs/family-documents.md):
a family's upload with and without script (the certificate's presigned-POST path), bad
input (French 4xx, nothing written), another family's document (404), the staff's review
at /gestion/documents/ (accept with a bracket from a month, refuse with a reason, a month
already invoiced), what the dashboard says, and a commune's document published, opened
and withdrawn. Chalice's test client over moto."""

from __future__ import annotations

import html
import re
from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from chalicelib import family_documents as fd
from chalicelib import storage as st
from chalicelib.billing import bracket_for

from tests.conftest import GUIDE_NOW, all_items
from tests.test_accounts_api import ORIGIN, PASSWORD_B, error_of, post, session_cookie
from tests.test_certificate_page import form_of, upload
from tests.test_certificates import PDF, cookie, s3  # noqa: F401 - fixtures
from tests.test_gestion_requests import family_page, text

TODAY = GUIDE_NOW.date()


def written(storage) -> list[dict]:
    """The items a document's request writes: its own and its audit entries."""
    return [i for i in all_items(storage) if i["sk"].startswith(fd.PREFIX)
            or str(i.get("action", "")).startswith("family_document")]


def ask(client, cookie, **changes):  # noqa: F811 - the fixture's value
    return post(client, "/api/documents", {"code": "QUOTIENT", "content_type": "application/pdf",
                                           "size": len(PDF), **changes}, cookie=cookie)


def sent_with_script(client, cookie) -> str:  # noqa: F811
    """The script's way: the form asked as JSON, the file to the bucket, the function told."""
    answer = ask(client, cookie)
    assert answer.status_code == 200, answer.body
    given = answer.json_body
    stored = upload(given["upload"]["url"], given["upload"]["fields"])
    assert stored.status_code == 204
    told = post(client, given["received"], {}, cookie=cookie)
    assert told.status_code == 200 and told.json_body["state"] == "to_review"
    assert told.json_body["message"] == "Document reçu : le service enfance va l'examiner."
    return given["document_id"]


def render(storage, number="100"):
    from chalicelib.dependencies import family_pages

    family_pages().export(storage, number, GUIDE_NOW)


# --- the rules ------------------------------------------------------------------------------------

def test_what_the_family_reads_of_each_kind(commune):
    quotient, pai = commune.family_document("QUOTIENT"), commune.family_document("PAI")

    def accepted(until: date, code="QUOTIENT") -> dict:
        return {"code": code, "state": "accepted", "valid_until": until.isoformat(), "recorded_at": "2014-01-01"}

    assert fd.kind_status(quotient, [], TODAY)["status_label"] == "à fournir"
    assert fd.kind_status(quotient, [], TODAY)["attention"] and not fd.kind_status(pai, [], TODAY)["attention"]
    ok = fd.kind_status(quotient, [accepted(date(2015, 6, 30))], TODAY)
    assert ok["status_label"] == "accepté, valable jusqu'au 30/06/2015" and not ok["attention"] and not ok["can_send"]
    soon = fd.kind_status(quotient, [accepted(TODAY + timedelta(days=29))], TODAY)
    assert soon["status"] == "expiring" and soon["attention"] and soon["can_send"]
    assert fd.kind_status(quotient, [accepted(TODAY + timedelta(days=30))], TODAY)["status"] == "accepted"
    gone = fd.kind_status(pai, [accepted(TODAY - timedelta(days=1), "PAI")], TODAY)
    assert gone["status_label"] == "expiré le 27/11/2014, à fournir à nouveau" and gone["attention"]
    assert fd.valid_until(date(2014, 12, 5), 12) == date(2015, 12, 4)


# --- the family's upload ----------------------------------------------------------------------------

def test_with_script_the_file_goes_to_the_bucket_and_the_pages_say_it_is_under_review(
        client, storage, cookie, families):  # noqa: F811
    render(storage)
    assert "Attestation de quotient familial (CAF) : à fournir" in family_page(families, "A", "index.html")
    sent_with_script(client, cookie)
    mine = family_page(families, "A", "documents/index.html")
    assert "reçu, en cours d'examen par le service enfance" in mine
    assert 'action="/api/documents/formulaire"' in mine and 'data-certificat="/api/documents"' in mine
    home = family_page(families, "A", "index.html")
    assert "Attestation de quotient familial (CAF)" not in home  # received: nothing to do for now
    assert "Attestation d'assurance scolaire : à fournir" in home and "Projet d'accueil" not in home


def test_without_script_a_presigned_form_then_s3_comes_back_to_the_documents_page(
        client, storage, cookie, families, s3):  # noqa: F811
    back = f"/famille/{families['A']['page_key']}/documents/"
    from chalicelib import sessions

    token = sessions.csrf_token("secret-de-test", families["A"]["page_key"])
    headers = {**ORIGIN, "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
    answer = client.http.post("/api/documents/formulaire", headers=headers, body=urlencode(
        {"csrf_token": token, "code": "ASSURANCE", "content_type": "image/jpeg", "back": back}))
    assert answer.status_code == 200 and "Attestation d'assurance scolaire" in html.unescape(answer.body.decode())
    action, fields = form_of(answer)
    assert fields["Content-Type"] == "image/jpeg"
    redirect = fields["success_action_redirect"]
    assert urlsplit(redirect).path.startswith("/api/documents/") and parse_qs(urlsplit(redirect).query)["retour"] == [back]
    stored = upload(action, fields, b"\xff\xd8\xff\xe0 une photo")
    came_back = urlsplit(stored.headers["Location"])
    again = client.http.get(f"{came_back.path}?{came_back.query}", headers={"Cookie": cookie})
    assert again.status_code == 303 and again.headers["Location"] == back + "#piece-ASSURANCE"
    [item] = storage.family_state("100").family_documents
    assert item["state"] == "to_review" and item["document_key"].startswith("pieces/100/ASSURANCE/")
    # A bad form: the page says why, in French, and nothing is written.
    bad = client.http.post("/api/documents/formulaire", headers=headers, body=urlencode(
        {"csrf_token": token, "code": "PERMIS", "content_type": "application/pdf", "back": back}))
    assert bad.status_code == 400 and "Document inconnu" in html.unescape(bad.body.decode())
    assert len(storage.family_state("100").family_documents) == 1


@pytest.mark.parametrize(("changes", "words"), [
    ({"code": "PERMIS"}, "Document inconnu"),
    ({"content_type": "text/html"}, "PDF, JPEG ou PNG de 5 Mo au plus"),
    ({"size": 6 * 1024 * 1024}, "PDF, JPEG ou PNG de 5 Mo au plus"),
    ({"size": "12"}, "PDF, JPEG ou PNG de 5 Mo au plus"),
])
def test_a_bad_request_is_a_french_400_and_writes_nothing(client, storage, cookie, changes, words):  # noqa: F811
    answer = ask(client, cookie, **changes)
    assert answer.status_code == 400 and words in error_of(answer)["message"]
    assert written(storage) == []


def test_another_familys_document_is_not_found(client, storage, cookie, families):  # noqa: F811
    identifier = sent_with_script(client, cookie)
    bob = session_cookie(post(client, "/api/login", {"login": "bob", "password": PASSWORD_B}))
    told = post(client, f"/api/documents/{identifier}/recu", {}, cookie=bob)
    assert told.status_code == 404 and error_of(told)["message"] == "Ce document est introuvable dans votre espace famille."
    assert client.http.get(f"/api/documents/{identifier}/recu", headers={"Cookie": bob}).status_code == 404


# --- the staff's review -------------------------------------------------------------------------------

def review_value(agent) -> str:
    page = agent.get("/gestion/documents/")
    assert page.status_code == 200
    return re.search(r'name="document" value="([^"]+)"', page.body.decode())[1]


def test_an_agent_accepts_a_quotient_attestation_with_a_bracket_from_a_month(
        client, storage, cookie, families, staff_client, commune):  # noqa: F811
    sent_with_script(client, cookie)
    agent = staff_client("agent")
    from chalicelib.dependencies import storage as table

    from bench.round_trips import RoundTrips

    calls = RoundTrips(table().client)
    page = agent.get("/gestion/documents/")
    print(f"GET /gestion/documents/ (1 document to review): {dict(calls.by_operation)}")
    assert "Scan" not in calls.by_operation
    words = text(page)
    assert "Attestation de quotient familial (CAF) (famille 100)" in words and "Nouvelle tranche" in words
    link = html.unescape(re.search(r'href="([^"]+)"[^>]*>Ouvrir le fichier', page.body.decode())[1])
    assert int(parse_qs(urlsplit(link).query)["X-Amz-Expires"][0]) <= 300
    import requests

    assert requests.get(link, timeout=10).content == PDF
    value = review_value(agent)
    # Bad values: French 4xx, nothing written.
    for fields, status in (({"decision": "refuse", "reason": ""}, 400),
                           ({"decision": "accept", "bracket": "Z", "bracket_from": "2014-12"}, 400),
                           ({"decision": "accept", "bracket": "A", "bracket_from": "décembre"}, 400)):
        refused = agent.post("/gestion/documents", {"document": value, **fields})
        assert refused.status_code == status, fields
        assert storage.family_state("100").family_documents[0]["state"] == "to_review"
        assert storage.family_state("100").bracket_changes == []
    accepted = agent.post("/gestion/documents", {"document": value, "decision": "accept", "bracket": "A",
                                                 "bracket_from": "2014-12"})
    assert accepted.status_code == 200, accepted.body
    assert "Document accepté : famille 100" in text(accepted) and "Tranche A à partir de 2014-12" in text(accepted)
    state = storage.family_state("100")
    assert state.family_documents[0]["valid_until"] == "2015-11-27"
    assert bracket_for(state, date(2014, 11, 1)) == state.profile["quotient_bracket"] != "A"
    assert bracket_for(state, date(2014, 12, 1)) == bracket_for(state, date(2015, 3, 1)) == "A"
    [message] = state.messages
    assert message["subject"] == "Document accepté : Attestation de quotient familial (CAF)"
    assert "valable jusqu'au 27/11/2015" in message["body_markdown"] and "**A**" in message["body_markdown"]
    mine = family_page(families, "A", "documents/index.html")
    assert "accepté, valable jusqu'au 27/11/2015" in mine
    assert "Attestation de quotient familial" not in family_page(families, "A", "index.html")
    # Decided once: a second decision is a 409.
    assert agent.post("/gestion/documents", {"document": value, "decision": "accept"}).status_code == 409


def test_a_refusal_tells_the_family_why_and_a_month_invoiced_keeps_its_bracket(
        client, storage, cookie, families, staff_client):  # noqa: F811
    sent_with_script(client, cookie)
    agent = staff_client("agent")
    value = review_value(agent)
    storage.put({"pk": st.family_pk("100"), "sk": "BILLED#2014-11#1", "month": "2014-11", "invoice_number": "F-1"})
    invoiced = agent.post("/gestion/documents", {"document": value, "decision": "accept", "bracket": "A",
                                                 "bracket_from": "2014-11"})
    assert invoiced.status_code == 409 and "déjà facturé" in text(invoiced)
    assert storage.family_state("100").family_documents[0]["state"] == "to_review"
    refused = agent.post("/gestion/documents", {"document": value, "decision": "refuse",
                                                "reason": "attestation de 2012, trop ancienne"})
    assert refused.status_code == 200 and "Document refusé" in text(refused)
    assert "refusé (motif : attestation de 2012, trop ancienne)" in family_page(families, "A", "index.html")
    assert "Envoyer un nouveau document" in family_page(families, "A", "documents/index.html")
    assert "Motif : attestation de 2012" in storage.family_state("100").messages[0]["body_markdown"]
    bad = agent.post("/gestion/documents", {"document": "100/../x", "decision": "accept"})
    assert bad.status_code == 400 and "Document illisible" in text(bad)


# --- the commune's documents ----------------------------------------------------------------------------

def test_a_commune_document_published_shows_on_the_dashboard_in_its_period_and_opens_for_anyone(
        client, storage, families, staff_client, s3, commune):  # noqa: F811
    from chalicelib import commune_documents as cd
    from chalicelib.pages.account import current_notices

    agent = staff_client("agent")
    fields = {"title": "Menus de décembre", "category": "menu", "du": "2014-12-01", "au": "2014-12-31",
              "content_type": "application/pdf"}
    bad = agent.post("/gestion/documents/commune", {**fields, "au": "2014-11-30"})
    assert bad.status_code == 400 and "La fin de la période précède son début." in text(bad)
    assert cd.listed(storage) == []
    form = agent.post("/gestion/documents/commune", fields)
    assert form.status_code == 200
    action, hidden = form_of(form)
    came_back = urlsplit(upload(action, hidden).headers["Location"])
    assert came_back.path.endswith("/envoye")
    onward = client.http.get(came_back.path)
    target = re.search(r'url=([^"]+)"', onward.body.decode())[1]
    published = agent.get(html.unescape(target))
    assert "« Menus de décembre » est publié" in text(published)
    [item] = cd.listed(storage)
    assert item["state"] == "published" and int(storage.get("CONTENT", "PUBLISHING")["requested"]) == 1
    opened = client.http.get(f"/api/documents/commune/{item['document_id']}")
    assert opened.status_code == 302
    import requests

    assert requests.get(opened.headers["Location"], timeout=10).content == PDF
    assert "- [Menus de décembre](/api/documents/commune/" in cd.markdown_page([item])
    # The publication puts it in the NOTICES item: the dashboards show it during December.
    entries = cd.notice_entries([item], commune.tz)
    item_notices = {"notices": entries}
    assert current_notices(item_notices, GUIDE_NOW) == []
    assert [n["title"] for n in current_notices(item_notices, datetime(2014, 12, 1, 8, tzinfo=commune.tz))] == [
        "Menus de décembre"]
    from chalicelib.dependencies import family_pages

    state = storage.family_state("100")
    pages = family_pages().render(state, 1, datetime(2014, 12, 2, 8, tzinfo=commune.tz), ["accueil"],
                                  current_notices(item_notices, datetime(2014, 12, 2, 8, tzinfo=commune.tz)))
    assert "Menus de décembre" in pages["index.html"] and "PDF, du 01/12/2014 au 31/12/2014" in pages["index.html"]
    # Withdrawn: gone, its file too; its address answers 404.
    agent.post(f"/gestion/documents/commune/{item['document_id']}/retrait")
    assert cd.listed(storage) == []
    assert client.http.get(f"/api/documents/commune/{item['document_id']}").status_code == 404


def test_a_documents_retention_follows_its_validity(commune):
    """`portail family purge`: a document (and its file) goes `family_documents_years` after
    the end of its validity; a refused one after the day it was sent."""
    from portail.family_data import plan_purge

    def item(identifier: str, **attributes) -> dict:
        return {"pk": "FAMILY#100", "sk": f"FAMILYDOC#QUOTIENT#2013-01-01#{identifier}", "document_id": identifier,
                "document_key": f"pieces/100/QUOTIENT/{identifier}.pdf", **attributes}

    items = [item("a" * 16, state="accepted", recorded_at="2012-10-01T08:00:00+00:00", valid_until="2013-09-30"),
             item("b" * 16, state="accepted", recorded_at="2013-01-01T08:00:00+00:00", valid_until="2013-12-31"),
             item("c" * 16, state="refused", recorded_at="2013-11-29T08:00:00+00:00")]
    plan = plan_purge(items, commune, GUIDE_NOW)  # 28 November 2014; kept one year
    assert plan.counts["family_documents"] == 1 and sorted(plan.documents) == ["pieces/100/QUOTIENT/" + "a" * 16 + ".pdf"]


def test_the_day_page_counts_the_documents_to_review(client, storage, cookie, staff_client):  # noqa: F811
    agent = staff_client("agent")
    assert "Documents des familles" not in text(agent.get("/gestion/"))
    sent_with_script(client, cookie)
    page = agent.get("/gestion/")
    assert "1 document de famille à examiner." in text(page) and 'href="/gestion/documents/"' in page.body.decode()


def test_the_public_page_says_a_staff_title_as_written():
    """A title is text on « Documents », never a link, emphasis or a figure the build fills."""
    import markdown
    from chalicelib import commune_documents as cd

    item = {"state": "published", "document_id": "0" * 16, "title": "Menus {{ inconnu }} [ici](http://x) *gras*",
            "category": "menu", "starts": "2014-12-01", "ends": "2014-12-31", "content_type": "image/png"}
    page = cd.markdown_page([item, {**item, "document_id": "1" * 16, "state": "awaited", "title": "Brouillon"}])
    assert "{{" not in page and "Brouillon" not in page
    shown = html.unescape(markdown.markdown(page.split("\n\n", 1)[1]))
    assert (f'<a href="/api/documents/commune/{"0" * 16}">Menus {{{{ inconnu }}}} [ici](http://x) *gras*</a> '
            "(image PNG, du 01/12/2014 au 31/12/2014)") in shown
