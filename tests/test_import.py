"""`portail import`: CSV files as a commune's management software exports them."""

from __future__ import annotations

import pytest

from portail import cli
from portail.demo import DEMO_DIR, demo_rows, write_demo_files
from portail.importer import ImportRejected, import_directory, import_files
from tests.conftest import all_items

FAMILIES = "numero_famille;tranche_qf;adresse;code_postal;ville\n"
RESPONSABLES = "numero_famille;rang;civilite;nom;prenom;email;telephone;identifiant\n"
CHILDREN = "numero_famille;numero_enfant;nom;prenom;sexe;date_naissance;services\n"


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def files(tmp_path):
    return {
        "families": write(tmp_path / "familles.csv", FAMILIES + "100200;B;3 rue des Écoles;77124;Crégy-lès-Meaux\n"),
        "responsables": write(tmp_path / "responsables.csv", RESPONSABLES
                              + "100200;1;Mme;Durand;Hélène;helene@example.org;06 12 34 56 78;hdurand\n"
                              + "100200;2;M.;Martin;Paul;;;pmartin\n"),
        "children": write(tmp_path / "enfants.csv", CHILDREN
                          + "100200;7;DURAND;Léa;F;14/03/2010;GARDERIE MATIN, RESTAURATION\n"),
    }


def test_imports_a_family_its_responsables_and_children(storage, commune, files):
    report = import_files(storage, commune, **files)
    assert (report.families_created, report.responsables, report.children) == (1, 2, 1)
    state = storage.family_state("100200")
    assert state.profile["quotient_bracket"] == "B"
    assert [(r["civility"], r["last_name"], r["first_name"]) for r in state.responsables] == [
        ("Madame", "DURAND", "HÉLÈNE"), ("Monsieur", "MARTIN", "PAUL")]
    assert state.children[0]["services"] == ["GARDERIE_MATIN", "RESTAURATION"]
    assert state.children[0]["birth_date"] == "2010-03-14"
    assert storage.login("HDurand")["family_number"] == "100200"
    assert storage.login("pmartin")["rank"] == 2


def test_page_key_is_random_and_not_the_family_number(storage, commune, files):
    import_files(storage, commune, **files)
    key = storage.family_state("100200").profile["page_key"]
    assert len(key) == 32 and "100200" not in key


def test_importing_the_same_files_again_updates_and_never_duplicates(storage, commune, files):
    import_files(storage, commune, **files)
    before = all_items(storage)
    key = storage.family_state("100200").profile["page_key"]
    write(files["children"], CHILDREN + "100200;7;DURAND;Léa;F;14/03/2010;RESTAURATION\n")
    report = import_files(storage, commune, **files)
    assert (report.families_created, report.families_updated) == (0, 1)
    after = all_items(storage)
    assert len(after) == len(before)
    state = storage.family_state("100200")
    assert state.profile["page_key"] == key
    assert state.children[0]["services"] == ["RESTAURATION"]


def test_windows_1252_files_keep_their_accents(storage, commune, files):
    write(files["responsables"], RESPONSABLES + "100200;1;Madame;Lefèvre;Hélène;;;hlefevre\n", "cp1252")
    import_files(storage, commune, **files)
    responsable = storage.family_state("100200").responsables[0]
    assert (responsable["last_name"], responsable["first_name"]) == ("LEFÈVRE", "HÉLÈNE")


def test_a_bad_row_imports_nothing_and_every_bad_row_is_reported(storage, commune, files):
    write(files["children"], CHILDREN
          + "100200;7;DURAND;Léa;F;14/03/2010;RESTAURATION\n"
          + "100200;8;DURAND;Tom;X;31/02/2012;RESTAURATION\n"
          + "100200;9;DURAND;Max;M;01/02/2012;PISCINE\n"
          + "100200;7;DURAND;Léa;F;14/03/2010;\n")
    with pytest.raises(ImportRejected) as rejected:
        import_files(storage, commune, **files)
    messages = [str(e) for e in rejected.value.errors]
    assert messages == [
        "enfants.csv, ligne 3 : sexe « X » invalide (F ou M)",
        "enfants.csv, ligne 4 : service « PISCINE » inconnu "
        "(attendu : GARDERIE_MATIN, GARDERIE_MIDI, GARDERIE_SOIR, RESTAURATION)",
        "enfants.csv, ligne 5 : doublon de la ligne 2",
    ]
    assert all_items(storage) == []


@pytest.mark.parametrize(("row", "reason"), [
    ("100200;1;Madame;DURAND;HÉLÈNE;pas-un-courriel;;hdurand", "adresse électronique « pas-un-courriel » invalide"),
    ("100200;1;Madame;DURAND;HÉLÈNE;;0612;hdurand", "téléphone « 0612 » invalide"),
    ("100200;3;Madame;DURAND;HÉLÈNE;;;hdurand", "rang « 3 » invalide (1 ou 2)"),
    ("100200;1;Docteur;DURAND;HÉLÈNE;;;hdurand", "civilité « Docteur » inconnue"),
    ("100200;1;Madame;DURAND;HÉLÈNE;;;h", "identifiant « h » invalide"),
    ("100200;1;Madame;;HÉLÈNE;;;hdurand", "valeur manquante : nom"),
    ("999999;1;Madame;DURAND;HÉLÈNE;;;hdurand", "famille 999999 inconnue"),
    ("ABC;1;Madame;DURAND;HÉLÈNE;;;hdurand", "numéro de famille « ABC » invalide"),
])
def test_each_bad_responsable_row_says_why(storage, commune, files, row, reason):
    write(files["responsables"], RESPONSABLES + row + "\n")
    with pytest.raises(ImportRejected) as rejected:
        import_files(storage, commune, **files)
    assert len(rejected.value.errors) == 1
    error = rejected.value.errors[0]
    assert (error.file, error.line) == ("responsables.csv", 2)
    assert reason in error.reason
    assert all_items(storage) == []


def test_a_login_cannot_belong_to_two_responsables(storage, commune, files):
    import_files(storage, commune, **files)
    other = write(files["families"].with_name("f2.csv"), FAMILIES + "100300;A;;;\n")
    thief = write(files["families"].with_name("r2.csv"), RESPONSABLES + "100300;1;Madame;ROBIN;ANNE;;;hdurand\n")
    with pytest.raises(ImportRejected) as rejected:
        import_files(storage, commune, families=other, responsables=thief)
    assert "identifiant « hdurand » déjà utilisé par la famille 100200" in str(rejected.value)
    assert storage.family_state("100300").profile is None


def test_a_changed_login_moves_and_keeps_what_the_login_held(storage, commune, files):
    import_files(storage, commune, **files)
    login = storage.login("hdurand")
    storage.put({**login, "password_hash": "$argon2id$kept"})
    write(files["responsables"], RESPONSABLES + "100200;1;Madame;DURAND;HÉLÈNE;;;helene.durand\n")
    report = import_files(storage, commune, responsables=files["responsables"])
    assert report.logins_moved == 1
    assert storage.login("hdurand") is None
    assert storage.login("helene.durand")["password_hash"] == "$argon2id$kept"


def test_comma_separated_file_is_refused_with_the_reason(storage, commune, files):
    write(files["families"], "numero_famille,tranche_qf,adresse,code_postal,ville\n100200,B,,,\n")
    with pytest.raises(ImportRejected, match="séparateur des colonnes doit être le point-virgule"):
        import_files(storage, commune, **files)


def test_missing_column_is_named(storage, commune, files):
    write(files["children"], "numero_famille;nom;prenom;sexe;date_naissance\n100200;A;B;F;01/01/2010\n")
    with pytest.raises(ImportRejected, match="colonne\\(s\\) manquante\\(s\\) : numero_enfant, services"):
        import_files(storage, commune, **files)


def test_demo_files_shipped_are_the_generated_ones(tmp_path):
    write_demo_files(tmp_path)
    for name in ("familles.csv", "responsables.csv", "enfants.csv"):
        assert (tmp_path / name).read_text(encoding="utf-8") == (DEMO_DIR / name).read_text(encoding="utf-8")


def test_demo_directory_imports_51_families(storage, commune):
    report = import_directory(storage, commune, DEMO_DIR)
    families, responsables, children = demo_rows()
    assert report.families_created == len(families) == 51
    assert report.responsables == len(responsables)
    assert len(storage.family_numbers()) == 51


def test_cli_reports_bad_rows_with_line_numbers_and_fails(storage, files, capsys):
    write(files["children"], CHILDREN + "100200;7;DURAND;Léa;F;2010-13-01;\n")
    status = cli.main(["import", "--families", str(files["families"]), "--responsables", str(files["responsables"]),
                       "--children", str(files["children"])])
    err = capsys.readouterr().err
    assert status == 1
    assert "Import refusé, rien n'a été écrit (1 erreur(s))" in err
    assert "enfants.csv, ligne 2 : date « 2010-13-01 » invalide (attendu JJ/MM/AAAA)" in err
    assert all_items(storage) == []


def test_cli_dry_run_checks_without_writing(storage, files, capsys):
    status = cli.main(["import", "--dry-run", "--families", str(files["families"])])
    assert status == 0
    assert "Vérification seule, rien n'est écrit : 1 famille(s) créée(s)" in capsys.readouterr().out
    assert all_items(storage) == []


def test_cli_unknown_option_is_refused(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["import", "--famillles", "x.csv"])
    assert exit_.value.code == 2
    assert "unrecognized arguments: --famillles" in capsys.readouterr().err


def test_format_errors_and_unknown_families_are_reported_together(storage, commune, files):
    write(files["responsables"], RESPONSABLES
          + "100200;1;Madame;DURAND;HÉLÈNE;;;hdurand\n"
          + "100200;2;Madame;DURAND;ANNE;;;x\n"
          + "777;1;Madame;ROBIN;ANNE;;;arobin\n")
    with pytest.raises(ImportRejected) as rejected:
        import_files(storage, commune, **files)
    assert [(e.file, e.line) for e in rejected.value.errors] == [("responsables.csv", 3), ("responsables.csv", 4)]
    assert "famille 777 inconnue" in rejected.value.errors[1].reason
    assert all_items(storage) == []


def test_each_responsable_has_their_folder_unless_compte_commun(storage, commune, files):
    """Two responsables: each login opens their own folder (responsable 1 the family's);
    « compte commun » (familles.csv alone, re-imported) gives responsable 2 the family's
    folder and ends their open sessions; « non » gives their own folder back."""
    import_files(storage, commune, **files)
    key = storage.family_state("100200").profile["page_key"]
    second = storage.family_state("100200").responsables[1]["page_key"]
    assert storage.login("hdurand")["page_key"] == key
    assert storage.login("pmartin")["page_key"] == second != key
    storage.put({"pk": "SESSION#abc", "sk": "SESSION", "family_number": "100200"})
    storage.update_attributes("LOGIN#pmartin", "LOGIN", {"sessions": {"abc"}})
    shared = FAMILIES.strip() + ";compte_commun\n100200;B;3 rue des Écoles;77124;Crégy-lès-Meaux;oui\n"
    report = import_files(storage, commune, families=write(files["families"], shared))
    assert report.folders_moved == ["100200"]
    assert storage.login("pmartin")["page_key"] == key == storage.login("hdurand")["page_key"]
    assert storage.session("abc") is None and not storage.login("pmartin").get("sessions")
    import_files(storage, commune, families=write(files["families"], shared.replace(";oui", ";non")))
    assert storage.login("pmartin")["page_key"] == second


def test_compte_commun_must_say_oui_or_non(storage, commune, files):
    write(files["families"], FAMILIES.strip() + ";compte_commun\n100200;B;;;;peut-être\n")
    with pytest.raises(ImportRejected) as rejected:
        import_files(storage, commune, **files)
    assert "compte commun « peut-être » invalide (oui, non ou vide)" in rejected.value.errors[0].reason
