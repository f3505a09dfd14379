"""commune.toml: how it reads and the errors staff see.

The tests read their own commune (tests/commune.toml, the `commune` fixture). The file
the commune's staff edit, content/commune.toml, is checked against the demo that runs on
it in tests/test_demo.py (test_the_shipped_configuration_is_valid_and_fits_the_demo).
"""

from __future__ import annotations

import dataclasses
from datetime import date, time
from decimal import Decimal

import pytest
from chalicelib.config import ConfigError, load_commune, parse_commune

from portail import cli
from tests.conftest import COMMUNE_FILE, commune_toml, commune_with


def test_the_fixture_commune_reads_as_written(commune):
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
    assert commune.service("RESTAURATION").tariffs["A"] == Decimal("1.40")
    assert commune.service("GARDERIE_SOIR").weekdays == frozenset({0, 1, 3, 4})
    assert [s.capacity for s in commune.services] == [None, 3, None, 40]


def test_a_commune_with_another_capacity_changes_only_that(commune):
    assert commune_toml() and parse_commune(commune_toml()) == commune  # the helper writes the file back as it reads
    roomier = commune_with(capacity=10)
    assert roomier.service("GARDERIE_MIDI").capacity == 10
    assert roomier.service("RESTAURATION").capacity == commune.service("RESTAURATION").capacity
    assert dataclasses.replace(roomier, services=commune.services) == commune


def test_school_year_of_a_day(commune):

    from chalicelib.calendar_rules import school_year

    assert commune.year_start == (9, 1)
    assert school_year(date(2014, 12, 8), commune.year_start) == 2014
    assert school_year(date(2015, 6, 30), commune.year_start) == 2014
    assert school_year(date(2015, 9, 1), commune.year_start) == 2015


def _set(section: str, **values):
    return lambda data: data[section].update(values)


def _service(index: int, **values):
    return lambda data: data["services"][index].update(values)


def _tariff_renamed(data: dict) -> None:
    tariffs = data["services"][3]["tariffs"]
    tariffs["Z"] = tariffs.pop("A")


# A staff member's mistakes in commune.toml, each made on the fixture commune's data.
MISTAKES = {
    "unknown weekday": (_service(2, weekdays=["lundi", "mardy"]),
                        "commune.toml : services[2].weekdays : jour inconnu « mardy »"),
    "unknown zone": (_set("commune", school_zone="D"), "commune.toml : commune.school_zone : valeur inattendue « D » (attendu : A, B ou C)"),
    "missing régie": (lambda data: data["commune"].pop("regie"),
                      "commune.toml : commune.regie : clé obligatoire absente"),
    "unquoted tariff": (lambda data: data["services"][3]["tariffs"].update(A=1.5),
                        "services[3].tariffs : le tarif A doit être écrit entre guillemets"),
    "missing tariff": (_tariff_renamed, "services.RESTAURATION.tariffs : il manque le tarif de la tranche A"),
    "zero capacity": (_service(1, capacity=0), "commune.toml : services[1].capacity : doit être au moins 1"),
    "impossible time": (_set("booking", deadline_time="25:00"), "commune.toml : booking.deadline_time : heure invalide « 25:00 »"),
    "unknown key": (_set("invoicing", colour=1), "commune.toml : invoicing.colour : clé inconnue"),
    "unknown time zone": (_set("commune", timezone="Europe/Crégy"), "fuseau horaire inconnu « Europe/Crégy »"),
    "holidays backwards": (_set("calendar", school_holidays=[{"start": "2014-12-20", "end": "2014-12-01"}]),
                           "commune.toml : calendar.school_holidays[0] : la fin de la période précède son début"),
    "impossible date": (_set("calendar", closed_days=["2014-11-31"]),
                        "commune.toml : calendar.closed_days[0] : date invalide « 2014-11-31 »"),
    "a number for a time": (_set("booking", deadline_time=12),
                            "commune.toml : booking.deadline_time : heure invalide « 12 »"),
    "a number for a date": (_set("calendar", closed_days=[20141110]),
                            "commune.toml : calendar.closed_days[0] : date invalide « 20141110 »"),
}


@pytest.mark.parametrize(("edit", "expected"), MISTAKES.values(), ids=MISTAKES.keys())
def test_errors_name_the_file_the_key_and_the_reason(edit, expected):
    with pytest.raises(ConfigError) as error:
        parse_commune(commune_toml(edit), "commune.toml")
    assert expected in str(error.value)


def test_every_mistake_is_named_at_once():
    def three_mistakes(data: dict) -> None:
        data["commune"].pop("name")
        data["invoicing"]["invoice_day"] = 31
        data["retention"]["audit_months"] = "douze"

    with pytest.raises(ConfigError) as error:
        parse_commune(commune_toml(three_mistakes), "commune.toml")
    assert str(error.value).splitlines() == [
        "commune.toml : commune.name : clé obligatoire absente",
        "commune.toml : invoicing.invoice_day : doit être compris entre 1 et 28 (lu : 31)",
        "commune.toml : retention.audit_months : un nombre entier est attendu (lu : 'douze')",
    ]


def test_a_syntax_error_is_named():
    with pytest.raises(ConfigError, match="commune.toml : syntaxe TOML invalide"):
        parse_commune(COMMUNE_FILE.read_text(encoding="utf-8") + "\n[invoicing\n", "commune.toml")


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="commune.toml : fichier introuvable"):
        load_commune(tmp_path / "commune.toml")


def test_cli_stops_on_a_broken_configuration_before_starting(tmp_path, monkeypatch, capsys):
    broken = tmp_path / "commune.toml"
    broken.write_text(commune_toml(_set("commune", school_zone="Z")), encoding="utf-8")
    monkeypatch.setenv("PORTAIL_COMMUNE_FILE", str(broken))
    assert cli.main(["serve", "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert "Configuration invalide" in err and f"{broken} : commune.school_zone" in err
