"""An agent's whole day in the back office, in a real headless Chromium without JavaScript,
against `portail serve --demo` as `make run` starts it (conftest.py), with the demo's own
staff account: log in with the second factor, decide the pending requests in bulk, review
a certificate, print the kitchen's headcount, find a family by a child's name and enter a
paper planning for it. Each page's own details are tested in its module
(test_gestion_*_browser.py); this one proves the day holds together."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.server]

GUIDE_FAMILY = "381623867924"  # the guide's family: CONNIE ZTEST is its eldest


def test_an_agents_day_with_the_demo_account(new_context, tmp_path):
    from chalicelib.staff.accounts import DEMO_PASSWORD, DEMO_TOTP_SECRET, totp

    page = new_context(javascript=False).new_page()

    # 1. Log in: password and the code an authenticator app shows for the demo's secret.
    page.goto("/gestion/")
    page.get_by_label("Identifiant").fill("agent")
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_label("Code à 6 chiffres").fill(totp(DEMO_TOTP_SECRET).now())
    page.get_by_role("button", name="Connexion").click()
    page.wait_for_url("**/gestion/")

    # 2. The pending requests, all checked at once, accepted in bulk: the demo's are the
    # small room's waiting list, its day full: the page says so and they stay pending.
    # Then one refused, with the reason the family reads.
    page.get_by_role("region", name="Demandes en attente").get_by_role("link", name="Voir les demandes").click()
    pending = page.locator('input[name="item"]').count()
    assert pending >= 2
    page.get_by_role("link", name="Tout cocher").click()
    page.get_by_role("button", name="Accepter les jours cochés").click()
    expect(page.get_by_role("heading", level=1, name="Décision enregistrée")).to_be_visible()
    expect(page.locator("main")).to_contain_text("omplet")
    page.goto("/gestion/demandes/")
    boxes = page.locator('input[name="item"]')
    expect(boxes).to_have_count(pending)
    boxes.last.check()
    page.get_by_label(re.compile("^Motif du refus")).fill("Plus de place ce jour-là, désolés.")
    page.get_by_role("button", name="Refuser les jours cochés").click()
    expect(page.get_by_role("heading", level=1, name="Décision enregistrée")).to_be_visible()
    page.goto("/gestion/demandes/")
    expect(page.locator('input[name="item"]')).to_have_count(pending - 1)

    # 3. The certificate a parent sent: its file opens (a presigned GET), then accepted.
    page.goto("/gestion/certificats/")
    link = page.get_by_role("link", name=re.compile("Ouvrir le fichier"))
    expect(link).to_have_count(1)
    file = page.request.get(link.get_attribute("href"))
    assert file.ok and file.body().startswith(b"%PDF")
    page.get_by_role("button", name=re.compile("^Accepter")).click()
    expect(page.locator("main")).to_contain_text("accepté")
    page.goto("/gestion/certificats/")
    expect(page.get_by_role("link", name=re.compile("Ouvrir le fichier"))).to_have_count(0)

    # 4. The kitchen's headcount: printed without the menu, and as the CSV the command gives.
    page.goto("/gestion/")
    page.get_by_role("link", name=re.compile("Effectifs")).first.click()
    expect(page.get_by_role("heading", level=1, name=re.compile("^Effectifs"))).to_be_visible()
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation").first).to_be_hidden()
    page.emulate_media(media="screen")
    csv = page.request.get(page.get_by_role("link", name=re.compile("Télécharger ces effectifs")).get_attribute("href"))
    assert csv.ok and csv.text().startswith("service;date;etat;numero_famille")

    # 5. A family found by a child's first name, accents and case aside.
    page.goto("/gestion/familles/")
    page.get_by_label("Rechercher une famille").fill("connie")
    page.get_by_role("button", name="Rechercher").click()
    page.get_by_role("link", name=f"Famille n° {GUIDE_FAMILY}").click()
    expect(page.get_by_role("heading", level=1, name=f"Famille n° {GUIDE_FAMILY}")).to_be_visible()
    expect(page.locator("main")).to_contain_text("CONNIE")

    # 6. Its paper planning for next month (late: the 20th has passed), checked, then entered.
    planning = tmp_path / "planning-ztest.csv"
    planning.write_text("numero_famille;numero_enfant;date;service\n"
                        f"{GUIDE_FAMILY};1;19/12/2014;GARDERIE_SOIR\n", encoding="utf-8")
    page.goto("/gestion/plannings/")
    page.get_by_label(re.compile("Fichier du planning")).set_input_files(planning)
    page.get_by_role("button", name="Vérifier le fichier").click()
    expect(page.locator("main")).to_contain_text("planning-ztest.csv")
    page.get_by_label("Planning arrivé en retard : le saisir quand même").check()
    page.get_by_role("button", name="Confirmer l'import").click()
    expect(page.get_by_role("status")).to_contain_text("1 jour(s) réservé(s)")

    # The day's actions are the agent's, in the journal an administrator reads; the agent
    # ends the session.
    page.get_by_role("button", name=re.compile("^Déconnexion")).click()
    page.goto("/gestion/demandes/")
    expect(page.get_by_label("Code à 6 chiffres")).to_be_visible()
