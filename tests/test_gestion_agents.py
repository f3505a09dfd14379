"""The staff accounts' administration (`/gestion/agents/`, admin only), the enrolment
link's page (`/gestion/inscription/<token>`) and `portail staff` (docs/staff.md): what an
administrator and a new agent see, and what is written."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from chalicelib.staff.accounts import ENROLMENT_PATH

from bench.round_trips import RoundTrips
from portail.cli import main
from tests.staff_client import STAFF_PASSWORD, form_post, staff_cookie, totp_code

LINK = re.compile(r'href="http://127\.0\.0\.1:8000(/gestion/inscription/([A-Za-z0-9_-]+))"')


def text(response) -> str:
    return unescape(response.body.decode())


def entries(storage, action: str) -> list[dict]:
    return [e for e in storage.all_items() if e.get("action") == action]


def staff_item(storage, login: str) -> dict | None:
    return storage.get(f"STAFF#{login}", "STAFF")


def secret_of(page: str) -> str:
    return re.search(r'<code id="cle-secrete">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")


def create(admin, login: str, role: str = "agent") -> str:
    """Creates an account in the page; the enrolment link's path."""
    page = admin.post("/gestion/agents/creer", {"login": login, "role": role})
    assert page.status_code == 200, page.body
    return LINK.search(text(page)).group(1)


def test_an_admin_creates_an_account_that_enrols_once_then_logs_in(staff_client, client, storage):
    admin = staff_client("admin")
    page = admin.post("/gestion/agents/creer", {"login": "Martine.Durand", "role": "regie"})
    shown = text(page)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "Le compte « martine.durand » est créé." in shown and "ne sert qu'une fois" in shown
    path = LINK.search(shown).group(1)
    assert re.search(r"valable jusqu'au <strong>\d\d/\d\d/\d{4} à \d\d:\d\d</strong>", shown)
    assert [(e["actor"], e["details"]) for e in entries(storage, "staff_added")] == [
        (admin.login, {"login": "martine.durand", "role": "regie"})]
    # The list shows it, waiting for its enrolment.
    listing = text(admin.get("/gestion/agents/"))
    row = re.search(r'<tr id="agent-martine.durand">.*?</tr>', listing, re.S).group(0)
    assert "Régie" in row and "Actif" in row and "Jamais" in row and "En attente de l'inscription" in row

    # The new agent opens the link (no session): the login, a QR code, the secret as text.
    enrolment = client.http.get(path)
    shown = text(enrolment)
    assert enrolment.status_code == 200 and enrolment.headers["Cache-Control"] == "no-store"
    assert "inscription de « martine.durand »" in shown and "application d'authentification" in shown
    assert re.search(r'<svg role="img" aria-label="QR code[^"]*"[^>]*>.*</svg>', shown, re.S)
    assert "script" not in shown.split("<svg", 1)[1].split("</svg>")[0]
    secret = secret_of(shown)
    assert re.fullmatch(r"([A-Z2-7]{4} ){7}[A-Z2-7]{4}", re.search(r'<code id="cle-secrete">([^<]+)', shown).group(1))
    assert secret == staff_item(storage, "martine.durand")["totp_secret"]

    # Refusals: French 400s, nothing written, the form again (the typed password never echoed).
    for fields, message in (
            ({"password": STAFF_PASSWORD, "password_again": STAFF_PASSWORD + "x", "code": totp_code(secret)},
             "Les deux mots de passe saisis ne sont pas identiques."),
            ({"password": STAFF_PASSWORD, "password_again": STAFF_PASSWORD, "code": "000000"},
             "Ce code ne correspond pas"),
            ({"password": "court", "password_again": "court", "code": totp_code(secret)}, "au moins 12 caractères")):
        refused = form_post(client, path, fields)
        assert refused.status_code == 400 and message in text(refused), text(refused)
        assert STAFF_PASSWORD not in text(refused) and secret_of(text(refused)) == secret
    assert "password_hash" not in staff_item(storage, "martine.durand")

    done = form_post(client, path, {"password": STAFF_PASSWORD, "password_again": STAFF_PASSWORD,
                                    "code": totp_code(secret)})
    assert done.status_code == 303 and done.headers["Location"] == "/gestion/connexion/#inscription"
    assert "Inscription terminée" in text(client.http.get("/gestion/connexion/"))
    # The link works once: its page and its form are refused now, nothing changes.
    item = staff_item(storage, "martine.durand")
    for again in (client.http.get(path), form_post(client, path, {
            "password": "un tout autre mot de passe", "password_again": "un tout autre mot de passe",
            "code": totp_code(secret, datetime.now(UTC) + timedelta(seconds=30))})):
        assert again.status_code in (400, 404) and "n'est plus valable" in text(again)
        assert "<svg" not in text(again) and 'name="password"' not in text(again)
    assert staff_item(storage, "martine.durand") == item

    # The chosen password and the app's next code open the back office, with the role's menu.
    login = form_post(client, "/gestion/connexion", {"login": "martine.durand", "password": STAFF_PASSWORD,
                                                     "code": totp_code(secret, datetime.now(UTC) + timedelta(seconds=30))})
    assert login.status_code == 303, text(login)
    home = client.http.get("/gestion/", headers={"Cookie": staff_cookie(login)})
    assert home.status_code == 200 and "Déconnexion (martine.durand)" in text(home)
    assert 'href="/gestion/agents/"' not in text(home)  # regie: not the admin's pages
    listing = text(admin.get("/gestion/agents/"))
    row = re.search(r'<tr id="agent-martine.durand">.*?</tr>', listing, re.S).group(0)
    assert "Configurée" in row and re.search(r"\d\d/\d\d/\d{4} à \d\d:\d\d", row)


def test_bad_creations_are_french_refusals_that_write_nothing(staff_client, storage):
    admin = staff_client("admin")
    before = len(storage.all_items())
    for fields, status, message in (({"login": "é", "role": "agent"}, 400, "Identifiant invalide"),
                                    ({"login": "paul", "role": "chef"}, 400, "Rôle « chef » inconnu"),
                                    ({"login": admin.login, "role": "agent"}, 409, "existe déjà"),
                                    ({}, 400, "Identifiant invalide")):
        refused = admin.post("/gestion/agents/creer", fields)
        assert refused.status_code == status and message in text(refused), (fields, text(refused))
    assert len(storage.all_items()) == before
    for action in ("desactiver", "activer", "role", "second-facteur"):
        unknown = admin.post(f"/gestion/agents/{action}", {"agent": "personne", "role": "agent"})
        assert unknown.status_code == 404 and "Aucun compte « personne »" in text(unknown)
    assert len(storage.all_items()) == before


def test_disabling_ends_the_sessions_at_once_and_enabling_lets_the_agent_back(staff_client, client, storage):
    admin, agent = staff_client("admin"), staff_client("agent")
    assert agent.get("/gestion/").status_code == 200
    answer = admin.post("/gestion/agents/desactiver", {"agent": agent.login})
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/gestion/agents/?fait=desactive&agent={agent.login}#resultat"
    assert f"Le compte « {agent.login} » est désactivé" in text(admin.get(answer.headers["Location"]))
    assert agent.get("/gestion/").status_code == 401  # its open session ended at once
    later = datetime.now(UTC) + timedelta(seconds=30)
    refused = form_post(client, "/gestion/connexion", {"login": agent.login, "password": STAFF_PASSWORD,
                                                       "code": totp_code(agent.secret, later)})
    assert refused.status_code == 401
    assert admin.post("/gestion/agents/activer", {"agent": agent.login}).status_code == 303
    back = form_post(client, "/gestion/connexion", {"login": agent.login, "password": STAFF_PASSWORD,
                                                    "code": totp_code(agent.secret, later)})
    assert back.status_code == 303
    assert [(e["actor"], e["details"]["login"]) for e in entries(storage, "staff_disabled")
            + entries(storage, "staff_enabled")] == [(admin.login, agent.login)] * 2
    journal = text(admin.get(f"/gestion/journal/?agent={admin.login}"))  # in the admin's words
    assert "Compte agent désactivé" in journal and "Compte agent réactivé" in journal


def test_a_role_change_takes_effect_at_the_next_login(staff_client, client, storage):
    admin, agent = staff_client("admin"), staff_client("agent")
    assert agent.get("/gestion/agents/").status_code == 403
    assert admin.post("/gestion/agents/role", {"agent": agent.login, "role": "admin"}).status_code == 303
    assert agent.get("/gestion/").status_code == 401  # the session with the old role ended
    login = form_post(client, "/gestion/connexion", {"login": agent.login, "password": STAFF_PASSWORD,
                                                     "code": totp_code(agent.secret, datetime.now(UTC) + timedelta(seconds=30))})
    assert client.http.get("/gestion/agents/", headers={"Cookie": staff_cookie(login)}).status_code == 200
    assert [(e["actor"], e["details"]) for e in entries(storage, "staff_role_changed")] == [
        (admin.login, {"login": agent.login, "role": "admin"})]


def test_an_admin_cannot_disable_nor_demote_themselves(staff_client, storage):
    admin = staff_client("admin")
    before = staff_item(storage, admin.login)
    for action, fields, message in (("desactiver", {}, "Vous ne pouvez pas désactiver votre propre compte"),
                                    ("role", {"role": "agent"}, "Vous ne pouvez pas changer votre propre rôle")):
        refused = admin.post(f"/gestion/agents/{action}", {"agent": admin.login.upper(), **fields})
        assert refused.status_code == 409 and message in text(refused)
    assert staff_item(storage, admin.login) == before
    assert admin.get("/gestion/agents/").status_code == 200  # still an admin, still logged in
    page = text(admin.get("/gestion/agents/"))
    own = re.search(rf'<tr id="agent-{re.escape(admin.login)}">.*?</tr>', page, re.S).group(0)
    assert "(vous)" in own and "desactiver" not in own and "/gestion/agents/role" not in own


def test_a_reset_second_factor_gives_a_new_link_and_the_old_one_shows_nothing(staff_client, client, storage):
    admin = staff_client("admin")
    first = create(admin, "paul")
    page = admin.post("/gestion/agents/second-facteur", {"agent": "paul"})
    assert page.status_code == 200 and "Le second facteur de « paul » est réinitialisé" in text(page)
    second = LINK.search(text(page)).group(1)
    assert client.http.get(first).status_code == 404  # the older, unused link: nothing to see
    secret = secret_of(text(client.http.get(second)))
    assert secret == staff_item(storage, "paul")["totp_secret"]
    assert [e["actor"] for e in entries(storage, "staff_totp_reset")] == [admin.login]


def test_the_agents_page_reads_the_accounts_in_one_query(staff_client, storage):
    from chalicelib.dependencies import storage as function_storage

    admin = staff_client("admin")
    for login in ("a1", "b2", "c3"):
        create(admin, login)
    trips = RoundTrips(function_storage().client)
    page = admin.get("/gestion/agents/")
    assert page.status_code == 200 and "Comptes (4)" in text(page)
    # The session's read, then the index `STAFF` (no Scan, ever).
    assert trips.by_operation == {"GetItem": 1, "Query": 1}
    # The enrolment: its page reads the link and the account; the form posted, the same
    # two reads, one transaction (link used, password set, audit entry), the account read back.
    path = create(admin, "d4")
    trips.reset()
    secret = secret_of(text(admin.client.http.get(path)))
    assert trips.by_operation == {"GetItem": 2}
    trips.reset()
    done = form_post(admin.client, path, {"password": STAFF_PASSWORD, "password_again": STAFF_PASSWORD,
                                          "code": totp_code(secret)})
    assert done.status_code == 303 and trips.by_operation == {"GetItem": 3, "TransactWriteItems": 1}


def test_the_enrolment_page_with_a_wrong_or_missing_token_is_a_french_404(client):
    for path in (ENROLMENT_PATH + "0", ENROLMENT_PATH + "x" * 200):
        page = client.http.get(path)
        assert page.status_code == 404 and "n'est plus valable" in text(page)


# --- portail staff ------------------------------------------------------------------------

@pytest.fixture
def cli(storage, commune, monkeypatch, capsys):
    """Runs `portail staff …` against the in-process table: (status, stdout, stderr)."""
    monkeypatch.setenv("PORTAIL_NOW", "2014-11-28T12:00:00+01:00")

    def run(*argv: str):
        status = main(["staff", *argv])
        out = capsys.readouterr()
        return status, out.out, out.err

    return run


def test_the_staff_commands_print_the_link_and_write_what_the_page_writes(cli, storage):
    from chalicelib.staff.accounts import StaffAccounts

    status, out, _ = cli("add", "Lea", "--role", "regie")
    assert status == 0 and "Compte « lea » créé (rôle regie)." in out
    # 7 days on the real clock (staff authentication), never the frozen PORTAIL_NOW's.
    week = (datetime.now(UTC) + timedelta(days=7)).astimezone(ZoneInfo("Europe/Paris"))
    assert f"valable jusqu'au {week:%d/%m/%Y} à " in out
    token = re.search(r"^http://127\.0\.0\.1:8000/gestion/inscription/([A-Za-z0-9_-]+)$", out, re.M).group(1)
    accounts = StaffAccounts(storage, secret="x")
    now = datetime.now(UTC)
    assert accounts.enrolment(token, now) == ("lea", staff_item(storage, "lea")["totp_secret"])
    assert cli("role", "lea", "admin")[0] == 0 and staff_item(storage, "lea")["role"] == "admin"
    assert cli("disable", "lea")[0] == 0 and staff_item(storage, "lea")["disabled"] is True
    assert cli("enable", "lea")[0] == 0 and staff_item(storage, "lea")["disabled"] is False
    status, out, _ = cli("reset-2fa", "lea")
    new = re.search(r"/gestion/inscription/([A-Za-z0-9_-]+)$", out, re.M).group(1)
    assert status == 0 and accounts.enrolment(token, now) is None and accounts.enrolment(new, now)
    status, out, _ = cli("list")
    assert status == 0 and "lea  admin, actif, jamais connecté, inscription en attente" in out
    actions = [(e["action"], e["actor"], e["details"]) for e in storage.all_items() if e.get("action", "").startswith("staff_")]
    assert sorted(actions, key=str) == sorted([
        ("staff_added", "staff", {"login": "lea", "role": "regie"}),
        ("staff_role_changed", "staff", {"login": "lea", "role": "admin"}),
        ("staff_disabled", "staff", {"login": "lea"}), ("staff_enabled", "staff", {"login": "lea"}),
        ("staff_totp_reset", "staff", {"login": "lea"}), ("staff_listed", "staff", {"count": 1})], key=str)


def test_the_staff_commands_refuse_in_french_with_status_1(cli, storage):
    assert cli("add", "lea", "--role", "agent")[0] == 0
    before = len(storage.all_items())
    for argv, message in ((("add", "lea", "--role", "agent"), "L'identifiant « lea » existe déjà."),
                          (("add", "paul", "--role", "chef"), "Rôle « chef » inconnu"),
                          (("role", "lea", "chef"), "Rôle « chef » inconnu"),
                          (("disable", "personne"), "Aucun compte « personne »."),
                          (("enable", "personne"), "Aucun compte « personne »."),
                          (("reset-2fa", "personne"), "Aucun compte « personne »."),
                          (("add", "é", "--role", "agent"), "Identifiant invalide")):
        status, out, err = cli(*argv)
        assert (status, out) == (1, "") and message in err, (argv, err)
    assert len(storage.all_items()) == before
