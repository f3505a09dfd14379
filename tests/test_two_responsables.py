"""Two responsables, each with their own account (docs/family-pages.md, « Two
responsables »): each sees their own greeting, contact details and money, both see the
children's calendars and the messages; their page cookies open their own folder only,
the other's invoice PDF is not found; a « compte commun » family keeps one set of pages.

Through the function (Chalice's test client), the pages bucket and the gate's check of
the signed cookies (portail.cloudfront_gate), as tests/test_page_cookies.py does."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from chalicelib import passwords
from chalicelib import storage as st
from chalicelib.families import Responsable, login_item, responsable_item
from chalicelib.pages.responsables import login_page_key
from chalicelib.table import bucket_name

from tests.conftest import GUIDE_NOW, add_family
from tests.test_accounts_api import get
from tests.test_billing_run import OCTOBER, book, invoicing, tools  # noqa: F401  (fixture)
from tests.test_page_cookies import log_in, opens

PASSWORD = "une phrase de passe tres longue"
NUMBER = "300"


def separated_family(storage, *, shared: bool = False) -> None:
    """Madame ANNE NOM300 (alice) and Monsieur PAUL AUTRE300 (paul), one child; each booked
    days of October, invoiced by the real run, and each paid part of it."""
    password_hash = passwords.hash_password(PASSWORD)
    add_family(storage, NUMBER, "alice", None, last_name="NOM300", child="LEA", email="anne@example.org")
    storage.update_attributes(st.family_pk(NUMBER), st.PROFILE, {"shared_account": shared})
    storage.update_attributes("LOGIN#alice", "LOGIN", {"password_hash": password_hash})
    paul = Responsable(NUMBER, 2, "Monsieur", "AUTRE300", "PAUL", "paul", email="paul@example.org",
                       phone="06 11 22 33 44")
    person = responsable_item(paul)
    state = storage.family_state(NUMBER)
    key = login_page_key(state.profile, [*state.responsables, person], 2)
    storage.batch_write([person, {**login_item(paul, key), "password_hash": password_hash}])


@pytest.fixture
def billed(client, storage, commune, tools):  # noqa: F811
    """The separated family with its October invoices (PDFs written) and a payment each."""
    from chalicelib.payments import PaymentImport, PaymentRow

    separated_family(storage)
    book(storage, NUMBER, ["2014-10-02", "2014-10-03"], rank=1)
    book(storage, NUMBER, ["2014-10-13", "2014-10-14", "2014-10-15"], rank=2)
    issued = {int(i["responsable_rank"]): i for i in invoicing(storage, commune, tools).run(OCTOBER).invoices}
    PaymentImport(storage, commune, GUIDE_NOW).import_rows([
        PaymentRow(1, date(2014, 11, 10), NUMBER, issued[1]["number"], Decimal("1.00"), "chèque", None, "R1"),
        PaymentRow(2, date(2014, 11, 12), NUMBER, issued[2]["number"], Decimal("2.00"), "espèces", None, "R2")])
    from chalicelib.dependencies import family_pages

    family_pages().export(storage, NUMBER, GUIDE_NOW)
    return issued


def page(key: str, path: str = "") -> str:
    import boto3

    s3 = boto3.client("s3", region_name="eu-west-3")
    return s3.get_object(Bucket=bucket_name("pages"), Key=f"famille/{key}/{path}index.html")["Body"].read().decode()


def keys(storage) -> tuple[str, str]:
    state = storage.family_state(NUMBER)
    return state.profile["page_key"], next(r["page_key"] for r in state.responsables if int(r["rank"]) == 2)


def test_each_responsable_sees_their_own_money_and_both_see_the_calendars(client, storage, billed, frozen_clock):
    anne_key, paul_key = keys(storage)
    assert anne_key != paul_key
    mine, theirs = billed[2]["number"], billed[1]["number"]
    dashboard = page(paul_key)
    assert "Bienvenue PAUL AUTRE300" in dashboard and "ANNE" not in dashboard
    assert mine in dashboard and theirs not in dashboard
    account = page(paul_key, "compte/")
    assert "paul@example.org" in account and "06 11 22 33 44" in account and "anne@example.org" not in account
    invoices = page(paul_key, "factures/")
    assert mine in invoices and theirs not in invoices
    payments = page(paul_key, "reglements/")
    assert "espèces" in payments and "chèque" not in payments
    statement = page(paul_key, "releve/")
    assert "Facture : 01/10/2014 - 31/10/2014" in statement and "Règlement : espèces" in statement
    assert "Règlement : chèque" not in statement
    # Responsable 1 keeps the family's folder, with her own money only.
    assert "Bienvenue ANNE NOM300" in page(anne_key)
    assert theirs in page(anne_key, "factures/") and mine not in page(anne_key, "factures/")
    assert "anne@example.org" in page(anne_key, "compte/") and "paul@example.org" not in page(anne_key, "compte/")
    # The children's months and the inbox are the same in both folders, each linking to its own.
    for shared in ("enfants/1/2014-11/", "enfants/", "demandes/", "messages/"):
        assert page(paul_key, shared) == page(anne_key, shared).replace(anne_key, paul_key).replace(
            _token(anne_key), _token(paul_key))
        assert anne_key not in page(paul_key, shared)


def _token(key: str) -> str:
    from chalicelib import sessions

    return sessions.csrf_token("secret-de-test", key)


def test_the_copied_shared_pages_are_what_rendering_them_for_the_folder_gives(storage, commune, billed):
    """Shared pages are rendered once and copied into the second folder (retarget): the
    copy is exactly the page rendered for that folder."""
    from chalicelib.dependencies import family_pages
    from chalicelib.pages.responsables import account_views

    state = storage.family_state(NUMBER)
    pages = family_pages()
    second = account_views(state)[1]
    copied = pages.render_views(state, GUIDE_NOW)[second.page_key]
    rendered = pages.renderer.render(state, 2, GUIDE_NOW, view=second)
    assert copied.keys() == rendered.keys() and len(copied) > 10
    assert [path for path in copied if copied[path] != rendered[path]] == []


def test_cookies_and_pdfs_open_only_the_responsables_own(client, storage, billed, frozen_clock, signing_keys):
    anne_key, paul_key = keys(storage)
    paul_session, paul_cookies = log_in(client, "paul", PASSWORD)
    anne_session, anne_cookies = log_in(client, "alice", PASSWORD)
    for cookies, own, other in ((paul_cookies, paul_key, anne_key), (anne_cookies, anne_key, paul_key)):
        for path in ("", "factures/", "releve/", "compte/", "enfants/1/2014-12/", "messages/"):
            assert opens(cookies, own, GUIDE_NOW, signing_keys, path)
            assert not opens(cookies, other, GUIDE_NOW, signing_keys, path)
    for session, own, other in ((paul_session, billed[2], billed[1]), (anne_session, billed[1], billed[2])):
        assert get(client, f"/api/invoices/{own['number']}/pdf", session).status_code == 302
        refused = get(client, f"/api/invoices/{other['number']}/pdf", session)
        assert refused.status_code == 404
        assert json.loads(refused.body)["error"]["code"] == "invoice_not_found"
    # The statement's year selector sends each to their own folder.
    answer = client.http.get("/api/releve?annee=2014-2015", headers={"Cookie": paul_session})
    assert answer.status_code == 303 and answer.headers["Location"] == f"/famille/{paul_key}/releve/2014-2015/"
    assert json.loads(get(client, "/api/me", paul_session).body)["responsable"]["first_name"] == "PAUL"


def test_a_booking_renders_two_pages_whatever_the_number_of_folders(client, storage, billed, monkeypatch):
    """The month page and « Liste des demandes » rendered once, written in both folders."""
    from chalicelib.dependencies import family_pages
    from chalicelib.pages import pages_showing_days

    pages = family_pages()
    rendered = []
    original = pages.renderer.render

    def counting(*args, **kwargs):
        result = original(*args, **kwargs)
        rendered.extend(result)
        return result

    monkeypatch.setattr(pages.renderer, "render", counting)
    written = pages.export(storage, NUMBER, GUIDE_NOW, only=pages_showing_days("1", [date(2014, 12, 8)]))
    assert (len(rendered), written) == (2, 4)


def test_a_compte_commun_family_keeps_one_set_of_pages(client, storage, commune, tools, frozen_clock,  # noqa: F811
                                                       signing_keys):
    from chalicelib.dependencies import family_pages

    separated_family(storage, shared=True)
    book(storage, NUMBER, ["2014-10-02"], rank=1)
    book(storage, NUMBER, ["2014-10-13"], rank=2)
    issued = invoicing(storage, commune, tools).run(OCTOBER).invoices
    assert family_pages().export(storage, NUMBER, GUIDE_NOW) > 10
    anne_key, paul_key = keys(storage)
    assert storage.login("paul")["page_key"] == anne_key
    invoices = page(anne_key, "factures/")
    assert all(i["number"] in invoices for i in issued) and len(issued) == 2
    paul_session, paul_cookies = log_in(client, "paul", PASSWORD)
    assert opens(paul_cookies, anne_key, GUIDE_NOW, signing_keys, "factures/")
    assert all(get(client, f"/api/invoices/{i['number']}/pdf", paul_session).status_code == 302 for i in issued)
    import boto3

    listed = boto3.client("s3", region_name="eu-west-3").list_objects_v2(
        Bucket=bucket_name("pages"), Prefix=f"famille/{paul_key}/")
    assert listed.get("KeyCount", 0) == 0


def test_staff_see_both_responsables_and_who_booked_each_day(client, storage, billed, staff_client, frozen_clock):
    body = staff_client("agent").get(f"/gestion/familles/{NUMBER}/?enfant=1&mois=2014-10").body.decode()
    assert "Comptes séparés" in body
    assert "Responsable 1 : Madame NOM300 ANNE" in body and "Responsable 2 : Monsieur AUTRE300 PAUL" in body
    # Each booked day says who booked it and is billed for it; each account its balance.
    assert body.count(", Responsable 2 : AUTRE300 PAUL") == 3 and body.count(", Responsable 1 : NOM300 ANNE") == 2
    assert "Factures impayées du responsable 2" in body and billed[2]["number"] in body


def test_an_import_that_ends_the_compte_commun_writes_his_pages_at_their_new_address(client, storage, commune,
                                                                                     tmp_path, frozen_clock):
    """The family was « compte commun »: re-imported without it, Paul's login opens his own
    folder, where `portail import` has just written his pages (portail/cli.py)."""
    from portail.family_export import export_families
    from portail.importer import import_files

    separated_family(storage, shared=True)
    _, paul_key = keys(storage)
    families = tmp_path / "familles.csv"
    families.write_text("numero_famille;tranche_qf;adresse;code_postal;ville;compte_commun\n300;B;;;;non\n")
    report = import_files(storage, commune, families=families)
    assert report.folders_moved == [NUMBER] and storage.login("paul")["page_key"] == paul_key
    assert "de 1 famille(s)" in export_families(report.folders_moved)
    assert "Bienvenue PAUL AUTRE300" in page(paul_key)
