"""The régie's invoicing pages (/gestion/facturation/, /gestion/factures/) through Chalice's
test client: a preview writes nothing, the run works outside the request under the
month's lock and its page says « terminée » with the summary, an interrupted run resumed
from its page gives gapless numbers, the invoices are found by number, family, month and
unpaid, a missing PDF is a French 404. Roles and form tokens: tests/test_staff_access.py."""

from __future__ import annotations

import re

import pytest
from chalicelib import invoicing_runs, jobs
from chalicelib.table import bucket_name

from tests.conftest import GUIDE_NOW, all_items
from tests.test_billing_run import book, invoices, new_family, pdf_keys, seven_families, tools  # noqa: F401
from tests.test_gestion_headcount import words

MONEY_PAGES = [("GET", "/gestion/facturation/"), ("POST", "/gestion/facturation"),
               ("GET", "/gestion/facturation/2014-10/"), ("GET", "/gestion/factures/"),
               ("GET", "/gestion/factures/FAC-000001/"), ("GET", "/gestion/factures/FAC-000001/pdf")]


@pytest.fixture
def october(client, storage, frozen_clock, tools):  # noqa: F811
    """Seven families with October 2014 booked (8 invoices: family 503 has two
    responsables), the portal on 28 November 2014."""
    seven_families(storage)
    return tools


def stored(storage) -> list[tuple]:
    """What a run writes (invoices, operations, markers, the run's lock), not the staff's own session."""
    return sorted((i["pk"], i["sk"]) for i in all_items(storage)
                  if i["pk"].startswith(("FAMILY#", "INVOICING#", "COUNTER#")))


def numbers(storage) -> list[str]:
    return [i["number"] for i in invoices(storage)]


def run_page(regie, month="2014-10") -> str:
    return words(regie.get(f"/gestion/facturation/{month}/"))


# --- preview, run, summary -------------------------------------------------------------------

def test_the_preview_writes_nothing_then_the_run_issues_the_invoices_and_its_page_says_terminee(
        october, storage, staff_client, mails):
    regie = staff_client("regie")
    form = regie.get("/gestion/facturation/")
    assert form.status_code == 200 and '<option value="2014-10" selected>octobre 2014</option>' in form.body.decode()
    before = stored(storage)

    preview = regie.post("/gestion/facturation", {"month": "2014-10"})

    assert preview.status_code == 200
    text = words(preview)
    assert "Vérification seule, rien n'est écrit ni envoyé : 8 facture(s) seraient émises au titre du mois " \
           "d'octobre 2014, total 26,95 €." in text
    assert "Numéros : FAC-000001 à FAC-000008 (prévus)." in text
    assert "FAC-000004 : famille 503, Madame ANNE NOM503, 1 ligne(s)" in text
    assert "Lancer la facturation (8 facture(s))" in text
    assert stored(storage) == before and mails() == []

    started = regie.post("/gestion/facturation", {"month": "2014-10", "confirm": "1"})
    assert started.status_code == 303 and started.headers["Location"] == "/gestion/facturation/2014-10/"
    assert jobs.drain()

    page = regie.get("/gestion/facturation/2014-10/")
    text = words(page)
    assert "Facturation terminée." in text and 'http-equiv="refresh"' not in page.body.decode()
    assert "Facturation du mois d'octobre 2014 terminée : 8 facture(s) émise(s), total 26,95 €." in text
    assert "Numéros : FAC-000001 à FAC-000008." in text and "Courriels d'annonce envoyés : 8." in text
    assert "Familles parcourues : 7 sur 7." in text
    assert numbers(storage) == [f"FAC-{n:06d}" for n in range(1, 9)]
    assert len(pdf_keys(october.s3)) == 8 and len(mails()) == 8
    # The start is in the staff journal, and each chunk's entry names the régie's login.
    entries = [i for i in all_items(storage) if i["pk"].startswith("AUDIT#")]
    assert [(e["actor"], e["details"]["month"]) for e in entries if e["action"] == "invoicing_started"] == \
        [(regie.login, "2014-10")]
    assert {e["actor"] for e in entries if e["action"] == "invoices_issued"} == {regie.login}
    # The list of runs on the form.
    assert "octobre 2014 : terminée, 8 facture(s) émise(s)" in words(regie.get("/gestion/facturation/"))


@pytest.mark.parametrize(("month", "status", "sentence"), [
    ("2014-13", 400, "Mois « 2014-13 » invalide"),
    ("octobre", 400, "Mois « octobre » invalide"),
    ("", 400, "Choisissez le mois à facturer"),
    ("2014-11", 409, "Le mois de novembre 2014 n'est pas terminé"),
])
def test_a_bad_month_or_one_not_over_is_a_french_4xx_and_nothing_is_written(october, storage, staff_client,
                                                                            month, status, sentence):
    regie = staff_client("regie")
    before = stored(storage)
    for fields in ({"month": month}, {"month": month, "confirm": "1"}):
        response = regie.post("/gestion/facturation", fields)
        assert response.status_code == status and sentence in words(response), fields
    assert jobs.drain() and stored(storage) == before


def test_a_second_start_while_a_run_goes_on_is_a_409_and_its_page_refreshes_itself(october, storage, staff_client,
                                                                                   commune):
    regie = staff_client("regie")
    invoicing_runs.start(storage, commune, "2014-10", GUIDE_NOW, "autre-regie")  # a run going on (its job not here)
    before = stored(storage)

    again = regie.post("/gestion/facturation", {"month": "2014-10", "confirm": "1"})

    assert again.status_code == 409
    assert "La facturation du mois d'octobre 2014 est déjà en cours" in words(again)
    assert jobs.drain() and stored(storage) == before and numbers(storage) == []
    page = regie.get("/gestion/facturation/2014-10/")
    assert '<meta http-equiv="refresh" content="3">' in page.body.decode()
    assert "Facturation en cours, lancée par autre-regie" in words(page)
    assert "Reprendre la facturation" not in words(page)


def test_an_agent_opens_no_money_page(october, staff_client):
    agent = staff_client("agent")
    for method, path in MONEY_PAGES:
        response = agent.get(path) if method == "GET" else agent.post(path, {"month": "2014-10", "confirm": "1"})
        assert response.status_code == 403, (method, path)
        assert "Votre rôle ne donne pas accès à cette page" in words(response)
    assert 'href="/gestion/facturation/"' not in agent.get("/gestion/").body.decode()


# --- interrupted, resumed, by parts ------------------------------------------------------------

def test_a_run_interrupted_half_way_and_resumed_from_its_page_gives_gapless_numbers(october, storage, staff_client,
                                                                                    mails, monkeypatch):
    from chalicelib.dependencies import storage as function_storage

    monkeypatch.setattr(invoicing_runs, "CHUNK_SIZE", 3)
    table = function_storage()
    real_transact, chunks = table.transact, []

    def failing(actions):
        chunks.append(len(actions))
        if len(chunks) == 3:  # the third chunk's transaction: a fault after two chunks written
            raise RuntimeError("panne simulée au milieu de la facturation")
        return real_transact(actions)

    monkeypatch.setattr(table, "transact", failing)
    regie = staff_client("regie")
    assert regie.post("/gestion/facturation", {"month": "2014-10", "confirm": "1"}).status_code == 303
    assert jobs.drain()

    page = regie.get("/gestion/facturation/2014-10/")
    text = words(page)
    assert "La facturation s'est interrompue avant la fin (RuntimeError : panne simulée" in text
    assert "Facturation du mois d'octobre 2014 en cours : 6 facture(s) émise(s) jusqu'ici" in text
    assert 'http-equiv="refresh"' not in page.body.decode()
    assert numbers(storage) == [f"FAC-{n:06d}" for n in range(1, 7)]
    assert re.search(r'<button type="submit">Reprendre la facturation</button>', page.body.decode())

    monkeypatch.setattr(table, "transact", real_transact)
    resumed = regie.post("/gestion/facturation", {"month": "2014-10", "confirm": "1"})  # the page's button
    assert resumed.status_code == 303 and jobs.drain()

    text = run_page(regie)
    assert "Facturation du mois d'octobre 2014 terminée : 8 facture(s) émise(s), total 26,95 €." in text
    assert "Numéros : FAC-000001 à FAC-000008." in text
    stored_invoices = invoices(storage)
    assert [i["number"] for i in stored_invoices] == [f"FAC-{n:06d}" for n in range(1, 9)]  # no gap
    assert len({(i["family_number"], i["responsable_rank"]) for i in stored_invoices}) == 8  # no duplicate
    assert storage.counter_values("INVOICE", "OPERATION") == {"INVOICE": 8, "OPERATION": 8}
    assert pdf_keys(october.s3) == sorted(i["pdf_key"] for i in stored_invoices)  # every PDF
    recipients = [m["To"] for m in mails()]
    assert len(recipients) == 8 == len(set(recipients))
    actions = [i["action"] for i in all_items(storage) if i["pk"].startswith("AUDIT#")]
    assert actions.count("invoicing_started") == actions.count("invoicing_resumed") == 1


def test_a_run_out_of_time_hands_the_rest_to_a_new_job_of_itself(october, storage, staff_client, monkeypatch):
    monkeypatch.setattr(invoicing_runs, "CHUNK_SIZE", 2)
    monkeypatch.setattr(invoicing_runs, "BUDGET_SECONDS", 0)  # each part stops after its first chunk
    parts = []
    real_run = invoicing_runs.Part.run

    def counted(self, payload):
        report = real_run(self, payload)
        parts.append(report.stopped_after)
        return report

    monkeypatch.setattr(invoicing_runs.Part, "run", counted)
    regie = staff_client("regie")
    assert regie.post("/gestion/facturation", {"month": "2014-10", "confirm": "1"}).status_code == 303
    assert jobs.drain()

    assert len(parts) >= 3 and parts[-1] is None and all(parts[:-1])
    assert "Facturation du mois d'octobre 2014 terminée : 8 facture(s) émise(s)" in run_page(regie)
    assert numbers(storage) == [f"FAC-{n:06d}" for n in range(1, 9)]


def test_the_command_takes_the_same_lock(october, storage, commune, capsys):
    from portail.cli import main

    invoicing_runs.start(storage, commune, "2014-10", GUIDE_NOW, "regie")
    assert main(["invoices", "run", "2014-10"]) == 1
    assert "La facturation du mois d'octobre 2014 est déjà en cours" in capsys.readouterr().err
    assert numbers(storage) == []


def test_an_expired_lease_is_taken_over_once(october, storage, commune):
    first = invoicing_runs.start(storage, commune, "2014-10", GUIDE_NOW, "a", real_now=1_000_000)
    with pytest.raises(invoicing_runs.Refusal):  # its lease still runs
        invoicing_runs.start(storage, commune, "2014-10", GUIDE_NOW, "b", real_now=1_000_000 + 10)
    later = 1_000_000 + invoicing_runs.LEASE_SECONDS + 1
    second = invoicing_runs.start(storage, commune, "2014-10", GUIDE_NOW, "b", real_now=later)
    assert second["resumed"] and second["run_id"] != first["run_id"]
    # The first run, late, no longer writes: its part does nothing.
    assert invoicing_runs.Part(storage, commune).run(first) is None


# --- the invoices ------------------------------------------------------------------------------

@pytest.fixture
def invoiced(october, storage, staff_client):
    regie = staff_client("regie")
    assert regie.post("/gestion/facturation", {"month": "2014-10", "confirm": "1"}).status_code == 303
    assert jobs.drain()
    return regie


def listed(response) -> list[str]:
    return re.findall(r'<a href="/gestion/factures/(FAC-\d+)/">', response.body.decode())


def test_the_invoices_are_found_by_number_family_month_and_unpaid(invoiced, storage):
    regie = invoiced
    page = regie.get("/gestion/factures/")  # by default the last month over: October
    assert page.status_code == 200 and listed(page) == [f"FAC-{n:06d}" for n in range(1, 9)]
    assert "FAC-000004 503 Madame ANNE NOM503 octobre 2014 4,90 € 0,00 € (impayée) 04/12/2014" in words(page)
    assert listed(regie.get("/gestion/factures/?numero=fac-000005")) == ["FAC-000005"]
    assert listed(regie.get("/gestion/factures/?numero=FAC-999999")) == []
    assert listed(regie.get("/gestion/factures/?famille=503")) == ["FAC-000004", "FAC-000005"]
    assert listed(regie.get("/gestion/factures/?famille=503&mois=2014-09")) == []
    assert listed(regie.get("/gestion/factures/?mois=2014-10")) == [f"FAC-{n:06d}" for n in range(1, 9)]
    paid = next(i for i in invoices(storage) if i["number"] == "FAC-000002")
    storage.update_attributes(paid["pk"], paid["sk"], {"paid_amount": paid["total"]})
    unpaid = [f"FAC-{n:06d}" for n in range(1, 9) if n != 2]
    assert listed(regie.get("/gestion/factures/?mois=2014-10&impayees=1")) == unpaid
    assert listed(regie.get("/gestion/factures/?famille=501&impayees=1")) == []
    for query, sentence in (("numero=FAC%2F1", "Numéro de facture « FAC/1 » invalide"),
                            ("famille=50%201", "Numéro de famille « 50 1 » invalide"),
                            ("mois=10-2014", "Mois « 10-2014 » invalide")):
        response = regie.get(f"/gestion/factures/?{query}")
        assert response.status_code == 400 and sentence in words(response)


def test_a_month_of_many_invoices_is_listed_a_page_at_a_time(invoiced, monkeypatch):
    from chalicelib.staff import invoices as staff_invoices

    monkeypatch.setattr(staff_invoices, "PAGE_SIZE", 3)
    first = invoiced.get("/gestion/factures/?mois=2014-10")
    assert listed(first) == ["FAC-000001", "FAC-000002", "FAC-000003"]
    assert 'href="/gestion/factures/?mois=2014-10&amp;apres=FAC-000003">Factures suivantes' in first.body.decode()
    assert listed(invoiced.get("/gestion/factures/?mois=2014-10&apres=FAC-000006")) == ["FAC-000007", "FAC-000008"]


def test_an_invoices_page_shows_its_lines_its_pdf_and_the_credit_notes_link(invoiced, october):
    page = invoiced.get("/gestion/factures/FAC-000004/")
    assert page.status_code == 200
    text, body = words(page), page.body.decode()
    assert "Facture FAC-000004" in text and "Responsable facturé Madame ANNE NOM503" in text
    assert "Période octobre 2014 (01/10/2014 - 31/10/2014)" in text
    assert "LEA NOM503 RESTAURATION 2 2,45 € 4,90 €" in text
    assert '<a href="/gestion/factures/FAC-000004/avoir">Établir un avoir</a>' in body
    pdf = invoiced.get("/gestion/factures/FAC-000004/pdf")
    assert pdf.status_code == 302 and "factures/503/FAC-000004.pdf" in pdf.headers["Location"]
    assert int(re.search(r"X-Amz-Expires=(\d+)", pdf.headers["Location"]).group(1)) <= 300
    missing = invoiced.get("/gestion/factures/FAC-999999/")
    assert missing.status_code == 404 and "Aucune facture ne porte le numéro « FAC-999999 »" in words(missing)

    october.s3.delete_object(Bucket=bucket_name("documents"), Key="factures/503/FAC-000004.pdf")
    gone = invoiced.get("/gestion/factures/FAC-000004/pdf")
    assert gone.status_code == 404 and "Location" not in gone.headers
    assert "Le PDF de la facture FAC-000004 n'est pas encore enregistré" in words(gone)


def test_the_run_renders_the_families_pages(invoiced, storage):
    """The invoice is on its responsable's « Mes factures » page once the run is over (each
    of family 503's two responsables has their own pages)."""
    import boto3

    s3 = boto3.client("s3", region_name="eu-west-3")

    def invoices_page(key: str) -> str:
        return s3.get_object(Bucket=bucket_name("pages"),
                             Key=f"famille/{key}/factures/index.html")["Body"].read().decode()

    first = invoices_page(storage.get("FAMILY#503", "PROFILE")["page_key"])
    second = invoices_page(storage.get("FAMILY#503", "RESPONSABLE#2")["page_key"])
    assert 'href="/api/invoices/FAC-000004/pdf"' in first and "FAC-000005" not in first
    assert 'href="/api/invoices/FAC-000005/pdf"' in second and "FAC-000004" not in second
