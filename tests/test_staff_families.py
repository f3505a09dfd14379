"""Staff and families: the search index (names, logins, e-mails, whatever the case and the
accents), the changes staff make in a family's file, and the days they book on the
family's behalf with the parents' rules (docs/data-model.md, chalicelib/staff/families.py)."""

from __future__ import annotations

from datetime import date

import pytest
from chalicelib import family_search
from chalicelib.refusals import Refusal

from portail.importer import import_files
from tests.conftest import GUIDE_NOW, race

FAMILIES = "numero_famille;tranche_qf;adresse;code_postal;ville\n"
RESPONSABLES = "numero_famille;rang;civilite;nom;prenom;email;telephone;identifiant\n"
CHILDREN = "numero_famille;numero_enfant;nom;prenom;sexe;date_naissance;services\n"
LATE_DAY = date(2014, 12, 2)  # its deadline passed before the guide's clock (28 November)
OPEN_DAY = date(2014, 12, 15)


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def imported(storage, commune, tmp_path):
    """Three families from CSV files, as a commune imports them."""
    import_files(
        storage, commune,
        families=write(tmp_path / "familles.csv", FAMILIES + "381623867924;C;;;\n4100;B;;;\n4200;A;;;\n"),
        responsables=write(tmp_path / "responsables.csv", RESPONSABLES
                           + "381623867924;1;Mme;ZTEST;PAYS;pays.ztest@example.org;;ztest\n"
                           + "4100;1;Mme;Lefèvre;Hélène;helene@example.org;;hlefevre\n"
                           + "4100;2;M.;Martin;Jean-Pierre;;;jpmartin\n"
                           + "4200;1;M.;Martin;Paul;paul@example.org;;pmartin\n"),
        children=write(tmp_path / "enfants.csv", CHILDREN
                       + "381623867924;1;ZTEST;Connie;F;01/01/2006;RESTAURATION\n"
                       + "4100;1;LEFEVRE;Zoé;F;14/03/2010;\n"
                       + "4200;1;MARTIN;Léa;F;14/03/2011;\n"),
    )
    return storage


def numbers(storage, query):
    from chalicelib.staff.families import search

    return [f["number"] for f in search(storage, query).families]


def test_search_by_number_names_login_and_email_ignoring_case_and_accents(imported):
    assert numbers(imported, "ztést") == ["381623867924"]  # the issue's own example
    assert numbers(imported, "381623867924") == ["381623867924"]
    assert numbers(imported, "LEFEVRE") == ["4100"]  # the responsable Lefèvre, the child LEFEVRE
    assert numbers(imported, "zoe") == ["4100"]  # a child's first name, typed without its accent
    assert numbers(imported, "martin") == ["4100", "4200"]
    assert numbers(imported, "Martin Léa") == ["4200"]  # several words: the families with all of them
    assert numbers(imported, "jean-pierre martin") == ["4100"]
    assert numbers(imported, "jeanpierre") == ["4100"]  # a compound first name written as one word
    assert numbers(imported, "jpmart") == ["4100"]  # a login's beginning
    assert numbers(imported, "PAUL@example.org") == ["4200"]  # an e-mail
    assert numbers(imported, "paul zoe") == []  # words of two families: none has both
    assert numbers(imported, "z") == []  # one letter looks nothing up


def test_the_list_shows_responsables_and_children_and_never_scans(imported, monkeypatch):
    from chalicelib.staff.families import search

    calls = []
    for name in ("query", "batch_get_item", "scan", "get_item"):
        original = getattr(imported.client, name)
        monkeypatch.setattr(imported.client, name,
                            lambda *a, _o=original, _n=name, **k: (calls.append(_n), _o(*a, **k))[1])
    result = search(imported, "martin léa")
    assert calls == ["query", "query", "batch_get_item"]  # one Query a word, one batch: never a Scan
    family = result.families[0]
    assert family["responsables"] == [{"rank": 1, "name": "Monsieur MARTIN PAUL", "login": "pmartin",
                                       "email": "paul@example.org"}]
    assert family["children"] == ["LÉA MARTIN"]


def test_index_tokens_are_not_part_of_the_family_state(imported):
    state = imported.family_state("4100")
    assert [r["sk"] for r in state.responsables] == ["RESPONSABLE#1", "RESPONSABLE#2"]
    assert not any(i["sk"].startswith("SEARCH#") for i in state.other)
    assert any(i["sk"].startswith("SEARCH#") for i in imported.query_partition("FAMILY#4100"))


def test_reimport_with_a_new_name_moves_the_tokens(imported, commune, tmp_path):
    import_files(imported, commune, responsables=write(tmp_path / "r.csv", RESPONSABLES
                                                       + "4100;2;M.;Durand;Jean-Pierre;;;jpmartin\n"))
    assert numbers(imported, "durand") == ["4100"]
    assert numbers(imported, "martin") == ["4200"]  # the old name is gone from the index
    from chalicelib.staff.families import search

    assert search(imported, "4100").families[0]["children"] == ["ZOÉ LEFEVRE"]  # the card kept its child


@pytest.fixture
def desk(client, enrolled):
    from chalicelib import dependencies

    return dependencies.family_desk()


def test_staff_contact_change_keeps_the_index_current(desk, storage):
    assert numbers(storage, "alice@example.org") == ["100"]
    message = desk.set_contact("100", 1, "Anne.Nouvelle@Example.org", "01 60 44 00 00", "agent1", GUIDE_NOW)
    assert message == "Coordonnées du responsable 1 enregistrées."
    assert numbers(storage, "alice@example.org") == []
    assert numbers(storage, "anne.nouvelle") == ["100"]
    assert storage.get("FAMILY#100", "RESPONSABLE#1")["email"] == "anne.nouvelle@example.org"
    entry = next(e for e in storage.audit_entries(GUIDE_NOW.date()) if e["action"] == "family_contact_changed")
    assert (entry["actor"], entry["details"]["family_number"]) == ("agent1", "100")
    with pytest.raises(Refusal) as refused:
        desk.set_contact("100", 1, "pas-une-adresse", "", "agent1", GUIDE_NOW)
    assert refused.value.status == 400 and "invalide" in refused.value.message
    assert storage.get("FAMILY#100", "RESPONSABLE#1")["email"] == "anne.nouvelle@example.org"


def test_a_parents_own_contact_change_keeps_the_index_current(desk, storage):
    from chalicelib import dependencies

    accounts = dependencies.accounts()
    _, session = accounts.login("alice", "une phrase de passe tres longue", "192.0.2.1", GUIDE_NOW)
    accounts.update_contact(session, "alice.neuve@example.org", "", "une phrase de passe tres longue",
                            "192.0.2.1", GUIDE_NOW)
    assert numbers(storage, "alice.neuve") == ["100"]
    assert numbers(storage, "alice@") == []


def test_unknown_family_is_a_french_404(desk):
    for number in ("999", "abc", "1" * 40):
        with pytest.raises(Refusal) as refused:
            desk.state(number)
        assert refused.value.status == 404 and "introuvable" in refused.value.message


def day(storage, when, family="100", service="RESTAURATION"):
    return storage.get(f"FAMILY#{family}", f"DAY#1#{when.isoformat()}#{service}")


def test_a_staff_booking_past_the_deadline_needs_the_override_and_its_reason(desk, storage):
    late = [f"{LATE_DAY.isoformat()}|RESTAURATION|reserve"]
    [result] = desk.book("100", "1", late, 1, False, "", "agent1", GUIDE_NOW)
    assert (result["status"], result["reason"]) == ("refused", "deadline_passed")
    assert day(storage, LATE_DAY) is None
    with pytest.raises(Refusal) as refused:
        desk.book("100", "1", late, 1, True, "  ", "agent1", GUIDE_NOW)
    assert refused.value.message == "Indiquez la raison pour passer outre la date limite."
    [result] = desk.book("100", "1", late, 1, True, "Planning papier déposé en retard", "agent1", GUIDE_NOW)
    assert result["status"] == "validated"
    booked = day(storage, LATE_DAY)
    assert (booked["channel"], booked["override_reason"], booked["staff_login"]) == (
        "staff", "Planning papier déposé en retard", "agent1")
    [entry] = [e for e in storage.audit_entries(GUIDE_NOW.date()) if e["action"] == "staff_booking_override"]
    assert entry["details"]["reason"] == "Planning papier déposé en retard"
    assert entry["details"]["family_number"] == "100"
    assert entry["details"]["days"] == ["2014-12-02 RESTAURATION réserver : validée"]
    # The same rules otherwise: a closed day stays closed, even with the override.
    [closed] = desk.book("100", "1", ["2014-12-25|RESTAURATION|reserve"], 1, True, "test", "agent1", GUIDE_NOW)
    assert closed["status"] == "refused"


def test_the_family_sees_the_staffs_booking_on_its_month_page(desk, storage):
    import boto3
    from chalicelib.table import bucket_name

    desk.book("100", "1", [f"{OPEN_DAY.isoformat()}|RESTAURATION|reserve"], 1, False, "", "agent1", GUIDE_NOW)
    key = storage.get("FAMILY#100", "PROFILE")["page_key"]
    page = boto3.client("s3", region_name="eu-west-3").get_object(
        Bucket=bucket_name("pages"), Key=f"famille/{key}/enfants/1/2014-12/index.html")["Body"].read().decode()
    assert f'value="{OPEN_DAY.isoformat()}|RESTAURATION|cancel"' in page  # the day booked: the parent may cancel it
    assert "(par le service enfance)" in page  # « Votre dernière demande » says who made it


def test_send_password_link_mails_the_reset_link(desk, storage, mails):
    message = desk.send_password_link("100", 1, "agent1", GUIDE_NOW)
    assert message.startswith("Lien de mot de passe envoyé à alice@example.org")
    [mail] = [m for m in mails() if m["To"] == "alice@example.org"]
    assert mail["Subject"] == "Portail Famille : choisir un nouveau mot de passe"
    assert "/mot-de-passe/nouveau/#" in mail["Body"]
    assert any(e["action"] == "password_link_sent" and e["details"]["family_number"] == "100"
               for e in storage.audit_entries(GUIDE_NOW.date()))


def test_enrol_leave_and_bracket(desk, storage):
    desk.book("100", "1", [f"{OPEN_DAY.isoformat()}|GARDERIE_SOIR|reserve"], 1, False, "", "agent1", GUIDE_NOW)
    message = desk.set_services("100", "1", ["GARDERIE_MATIN", "RESTAURATION"], "agent1", GUIDE_NOW)
    assert message == ("Inscriptions de ANNA enregistrées. 1 jour(s) déjà réservé(s) dans un service quitté le "
                       "restent : annulez-les dans la grille si besoin.")
    assert storage.get("FAMILY#100", "CHILD#1")["services"] == ["GARDERIE_MATIN", "RESTAURATION"]
    assert desk.set_services("100", "1", ["RESTAURATION", "GARDERIE_MATIN"], "agent1", GUIDE_NOW).endswith("inchangées.")
    with pytest.raises(Refusal):
        desk.set_services("100", "1", ["PISCINE"], "agent1", GUIDE_NOW)
    assert storage.get("FAMILY#100", "CHILD#1")["services"] == ["GARDERIE_MATIN", "RESTAURATION"]
    desk.set_bracket("100", "D", "agent1", GUIDE_NOW)
    assert storage.get("FAMILY#100", "PROFILE")["quotient_bracket"] == "D"
    with pytest.raises(Refusal):
        desk.set_bracket("100", "Z", "agent1", GUIDE_NOW)


def test_tokens_of_names():
    assert family_search.tokens("Jean-Pierre", "O'Brien", "Zoé") == {"jean", "pierre", "jeanpierre", "brien",
                                                                       "obrien", "zoe"}
    assert family_search.query_words("  Ztést  z ") == ["ztest"]
    assert family_search.normalise("Œuvre ÇA") == "oeuvre ca"


@pytest.mark.server
def test_capacity_still_holds_when_staff_and_parents_race(embedded_aws, embedded_resources):
    """Staff overriding the deadline take seats through the same conditional counter."""
    from chalicelib.booking_requests import Item
    from chalicelib.bookings import Bookings
    from chalicelib.staff.families import FamilyDesk

    from tests.conftest import commune_with
    from tests.test_bookings_race import add_children, storage_for

    commune = commune_with(capacity=3, service="GARDERIE_MIDI")
    storage = storage_for(embedded_aws, 10)
    add_children(storage, 10)
    storage.put({"pk": "FAMILY#100", "sk": "RESPONSABLE#1", "rank": 1, "last_name": "X", "first_name": "Y"})

    class Quiet:
        def export(self, *args, **kwargs):
            return 0

    bookings = Bookings(storage, commune)
    staff = FamilyDesk(storage, commune, Quiet(), bookings=bookings, messages=Quiet())
    when = date(2014, 12, 11)

    def book(n):
        if n % 2:
            return staff.book("100", str(n), [f"{when.isoformat()}|GARDERIE_MIDI|reserve"], 1, True, "guichet",
                              "agent1", GUIDE_NOW)[0]["status"]
        return bookings.submit("100", str(n), 1, [Item(when, "GARDERIE_MIDI", "reserve")], GUIDE_NOW)[0][0]["status"]

    statuses = race(10, book)
    assert statuses.count("validated") == 3 and statuses.count("pending") == 7
    assert storage.get(f"SERVICEDAY#GARDERIE_MIDI#{when}", "COUNTER")["validated"] == 3


def test_reindex_writes_the_index_of_a_table_imported_before_it(families, storage, capsys):
    from portail import cli_families

    stale = family_search.token_item("100", "R1", "ancien")
    storage.batch_write([stale], [(i["pk"], i["sk"]) for i in storage.query_partition("FAMILY#200", "SEARCH#")])
    assert numbers(storage, "bravo") == [] and numbers(storage, "ancien") == ["100"]
    report = cli_families.reindex(storage)
    assert (report.families, report.deleted) == (2, 1)
    assert numbers(storage, "bravo") == ["200"] and numbers(storage, "bruno") == ["200"]
    assert numbers(storage, "ancien") == []
    assert cli_families.reindex(storage).deleted == 0  # idempotent
