"""content/commune.toml: the shipped configuration and the errors staff see."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

import pytest
from chalicelib.config import ConfigError, load_commune, parse_commune

from portail import cli
from tests.conftest import ROOT

REAL = (ROOT / "content" / "commune.toml").read_text(encoding="utf-8")


def test_shipped_configuration_has_the_guides_four_services(commune):
    assert commune.commune.school_zone == "C"
    assert commune.commune.regie == "REGIE UNIQUE DE CREGY LES MEAUX"
    assert [(s.code, s.label) for s in commune.services] == [
        ("GARDERIE_MATIN", "GARDERIE MATIN"),
        ("GARDERIE_MIDI", "GARDERIE MIDI"),
        ("GARDERIE_SOIR", "GARDERIE SOIR"),
        ("RESTAURATION", "RESTAURATION"),
    ]
    # The guide's rule: 5 weekdays before, 23:59.
    rule = commune.deadline_rule(commune.service("RESTAURATION"))
    assert (rule.weekdays, rule.time) == (5, time(23, 59))
    assert commune.service("RESTAURATION").tariffs["A"] == Decimal("1.50")
    assert commune.service("GARDERIE_SOIR").weekdays == frozenset({0, 1, 3, 4})


def test_school_year_of_a_day(commune):
    from datetime import date

    from chalicelib.calendar_rules import school_year

    assert commune.year_start == (9, 1)
    assert school_year(date(2014, 12, 8), commune.year_start) == 2014
    assert school_year(date(2015, 6, 30), commune.year_start) == 2014
    assert school_year(date(2015, 9, 1), commune.year_start) == 2015


@pytest.mark.parametrize(("old", "new", "expected"), [
    ('weekdays = ["lundi", "mardi", "jeudi", "vendredi"]\nperiod', 'weekdays = ["lundi", "mardy"]\nperiod',
     "commune.toml : services[2].weekdays : jour inconnu « mardy »"),
    ('school_zone = "C"', 'school_zone = "D"', "commune.toml : commune.school_zone : "),
    ('regie = "REGIE UNIQUE DE CREGY LES MEAUX"\n', "", "commune.toml : commune.regie : clé obligatoire absente"),
    ('A = "1.50"', "A = 1.5", "services[3].tariffs : le tarif A doit être écrit entre guillemets"),
    ('A = "1.50"', 'Z = "1.50"', "services.RESTAURATION.tariffs : il manque le tarif de la tranche A"),
    ("capacity = 12", "capacity = 0", "commune.toml : services[1].capacity : "),
    ('deadline_time = "23:59"', 'deadline_time = "25:00"', "commune.toml : booking.deadline_time : "),
    ("due_days = 30", "due_days = 30\ncolour = 1", "commune.toml : invoicing.colour : clé inconnue"),
    ('timezone = "Europe/Paris"', 'timezone = "Europe/Crégy"', "fuseau horaire inconnu « Europe/Crégy »"),
    ("[invoicing]", "[invoicing", "commune.toml : syntaxe TOML invalide"),
])
def test_errors_name_the_file_the_key_and_the_reason(old, new, expected):
    assert old in REAL
    with pytest.raises(ConfigError) as error:
        parse_commune(REAL.replace(old, new, 1), "commune.toml")
    assert expected in str(error.value)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="commune.toml : fichier introuvable"):
        load_commune(tmp_path / "commune.toml")


def test_cli_stops_on_a_broken_configuration_before_starting(tmp_path, monkeypatch, capsys):
    broken = tmp_path / "commune.toml"
    broken.write_text(REAL.replace('school_zone = "C"', 'school_zone = "Z"'), encoding="utf-8")
    monkeypatch.setenv("PORTAIL_COMMUNE_FILE", str(broken))
    assert cli.main(["serve", "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert "Configuration invalide" in err and f"{broken} : commune.school_zone" in err
