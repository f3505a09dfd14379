"""Passwords: argon2id with OWASP's parameters, constant-cost failures, the policy."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time

import pytest
from chalicelib import passwords
from chalicelib.passwords import (
    INVALID_CHARACTER,
    LIKE_LOGIN,
    TOO_COMMON,
    TOO_LONG,
    TOO_SHORT,
    check_password_policy,
    common_passwords,
    hash_password,
    needs_rehash,
    verify_against_dummy,
    verify_password,
)

from tests.conftest import ROOT


@pytest.fixture(autouse=True)
def real_argon2(monkeypatch):
    """This module times and checks argon2 itself: no outcome kept from another test
    (tests/conftest.py keeps them elsewhere)."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(PasswordHasher, "verify", getattr(PasswordHasher.verify, "__wrapped__", PasswordHasher.verify))

LONG = "Une phrase de passe longue pour la cantine et la garderie du matin, " * 2
LONG = LONG[:128]
assert len(LONG) == 128
LONG_OTHER = LONG[:-1] + ("x" if LONG[-1] != "x" else "y")


@pytest.fixture(scope="module")
def long_hash() -> str:
    # Each hash costs tens of milliseconds: this module makes very few.
    return hash_password(LONG)


def _parameters(encoded: str) -> tuple[str, str, dict[str, int]]:
    _, variant, version, params, salt, digest = encoded.split("$")
    assert salt and digest
    return variant, version, {k: int(v) for k, v in (p.split("=") for p in params.split(","))}


# hashing -----------------------------------------------------------------------


def test_hash_is_argon2id_with_owasp_minimum_parameters(long_hash):
    assert long_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    variant, version, params = _parameters(long_hash)
    assert (variant, version) == ("argon2id", "v=19")
    assert params["m"] >= 19456 and params["t"] >= 2 and params["p"] >= 1
    assert (params["m"], params["t"], params["p"]) == (
        passwords.ARGON2_MEMORY_COST_KIB,
        passwords.ARGON2_TIME_COST,
        passwords.ARGON2_PARALLELISM,
    )
    assert LONG not in long_hash


def test_verify_right_and_wrong_without_truncation(long_hash):
    assert verify_password(long_hash, LONG) is True
    # Two 128-character passwords differing only in the last character.
    assert LONG_OTHER != LONG and LONG_OTHER[:-1] == LONG[:-1]
    assert verify_password(long_hash, LONG_OTHER) is False
    assert needs_rehash(long_hash) is False


def test_verify_never_raises_on_unusable_hashes():
    for stored in ["", "not a hash", "$argon2id$v=19$m=19456,t=2,p=1$broken", None]:
        assert verify_password(stored, "peu importe le mot de passe") is False
    assert needs_rehash("not a hash") is True


def test_weaker_parameters_need_a_rehash():
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash("une phrase de passe")
    assert needs_rehash(weak) is True
    assert verify_password(weak, "une phrase de passe") is True


def test_composed_and_decomposed_accents_are_the_same_password():
    composed = "étés à la mer, été à la montagne"
    decomposed = composed.replace("é", "e\u0301").replace("à", "a\u0300")
    assert composed != decomposed
    assert verify_password(hash_password(decomposed), composed) is True


def test_dummy_has_the_same_parameters_and_never_matches():
    assert not needs_rehash(passwords._DUMMY_HASH_PRECOMPUTED)
    assert passwords._dummy() == passwords._DUMMY_HASH_PRECOMPUTED
    assert verify_against_dummy("") is False
    assert verify_against_dummy(LONG) is False


def test_unknown_login_costs_one_real_verification(long_hash):
    """Median of 5 each, interleaved: the dummy costs what a wrong password costs."""
    verify_against_dummy("échauffement")
    verify_password(long_hash, "échauffement")
    real, dummy = [], []
    for _ in range(5):
        start = time.perf_counter()
        verify_password(long_hash, "mauvais mot de passe de test")
        real.append(time.perf_counter() - start)
        start = time.perf_counter()
        verify_against_dummy("mauvais mot de passe de test")
        dummy.append(time.perf_counter() - start)
    ratio = statistics.median(dummy) / statistics.median(real)
    assert 0.5 <= ratio <= 2, (real, dummy)


def test_importing_the_module_loads_neither_argon2_nor_the_list():
    code = (
        "import json, sys, chalicelib.passwords as p;"
        "print(json.dumps(['argon2' in sys.modules, p.common_passwords.cache_info().currsize]))"
    )
    output = subprocess.check_output([sys.executable, "-c", code], cwd=ROOT / "functions")
    assert json.loads(output) == [False, 0]


# the common-password list ------------------------------------------------------


def test_common_list_is_large_lower_case_deduplicated_and_documented():
    lines = passwords.COMMON_PASSWORDS_PATH.read_text(encoding="utf-8").splitlines()
    header = [line for line in lines if line.startswith("#")]
    entries = [line for line in lines if line and not line.startswith("#")]
    assert len(entries) >= 10_000
    assert len(set(entries)) == len(entries)
    assert all(entry == entry.lower() for entry in entries)
    assert any("BSD" in line and "Django" in line for line in header)
    readme = (passwords.COMMON_PASSWORDS_PATH.parent / "README.md").read_text(encoding="utf-8")
    assert "BSD" in readme and "common-passwords.txt" in readme
    loaded = common_passwords()
    assert isinstance(loaded, frozenset) and len(loaded) == len(entries)
    assert common_passwords() is loaded
    for french in ["azerty", "motdepasse", "soleil", "doudou", "loulou", "marseille", "chouchou"]:
        assert french in loaded


@pytest.mark.parametrize(
    "password",
    [
        "motdepasse123",
        "MotDePasse123",
        "azertyuiop123",
        "AZERTYUIOP123",
        "123456789012",
        "motdepasse2024!",  # a common word with digits and punctuation around it
        "Marseille2024!",
        "soleilsoleil",  # a common word repeated
        "abababababab",  # a short unit repeated
        "            ",
        "qwertyuiop123",
    ],
)
def test_common_passwords_are_refused(password):
    assert check_password_policy(password) == TOO_COMMON


def test_listed_long_entries_are_refused_whatever_the_case():
    long_entries = [entry for entry in common_passwords() if len(entry) >= 12][:50]
    assert long_entries
    for entry in long_entries:
        assert check_password_policy(entry.upper()) is not None, entry


# the policy --------------------------------------------------------------------


def test_length_is_twelve_to_128_code_points_of_any_kind():
    assert check_password_policy("un chat gri") == TOO_SHORT  # 11
    assert check_password_policy("un chat gris") is None  # 12, spaces count
    assert check_password_policy("ma 🐱 et 🐶 ok") is None  # 12 code points, emoji and spaces
    assert check_password_policy("🐱🐶🦊🐻🐼🐨🐯🦁🐮🐷🐸🐵") is None  # 12 emoji
    # Counted after NFC: « e » + combining acute is one character once composed.
    decomposed = "cafe\u0301 au lait"[:-1]  # 12 code points as typed, 11 once composed
    assert len(decomposed) == 12
    assert check_password_policy(decomposed) == TOO_SHORT
    assert check_password_policy("tres tres ete".replace("e", "e\u0301")) is None
    assert check_password_policy(LONG) is None
    assert check_password_policy(LONG + "x") == TOO_LONG  # 129: refused, never truncated


def test_no_composition_rule():
    for password in [
        "la cantine du jeudi",  # lower case and spaces only
        "vingt-sept cerises rouges",
        "739184625037",  # digits only, not a known sequence
        "Ñandú pájaro rápido",
    ]:
        assert check_password_policy(password) is None, password


def test_login_and_email_are_refused():
    email = "Jean.Dupont@example.fr"
    assert check_password_policy("famille01famille01", login="famille01") == LIKE_LOGIN
    assert check_password_policy("381623867924", login="381623867924") == LIKE_LOGIN
    assert check_password_policy("Jean.Dupont2024", email=email) == LIKE_LOGIN
    assert check_password_policy("jean.dupont@example.fr", email=email) == LIKE_LOGIN
    assert check_password_policy("FAMILLE01 2024!", login="famille01") == LIKE_LOGIN
    assert check_password_policy("la cantine du jeudi", login="famille01", email=email) is None


def test_passwords_built_on_the_login_are_refused():
    assert check_password_policy("famille43-famille43", login="famille43") == LIKE_LOGIN
    assert check_password_policy("famille43!2024", login="famille43") == LIKE_LOGIN
    assert check_password_policy("2024 FAMILLE43 !!", login="famille43") == LIKE_LOGIN
    assert check_password_policy("jean.dupont.1985", email="Jean.Dupont@example.fr") == LIKE_LOGIN
    # The address's domain is nobody's: « orange » is a fine word.
    assert check_password_policy("orange mecanique 1972", email="x@orange.fr") is None


def test_passwords_built_on_the_familys_names_are_refused():
    names = ["Hélène", "DUPONT-MARTIN", "Léo", "DUPONT-MARTIN"]  # responsable and child, first and last
    for password in ("Helene.Dupont.1985", "leo-dupont-2014!", "DUPONTMARTIN2024", "martin dupont 75",
                     "hélène et léo 2019"):
        assert check_password_policy(password, names=names) == LIKE_LOGIN, password
    assert LIKE_LOGIN == ("Le mot de passe ne doit pas reprendre votre identifiant, votre adresse e-mail ni les "
                          "noms de votre famille : choisissez-en un autre, par exemple une phrase de plusieurs mots.")


def test_a_long_phrase_that_merely_holds_a_name_is_accepted():
    names = ["HELENE", "DUPONT", "LEO"]
    assert check_password_policy("la cantine de Léo est délicieuse", names=names) is None
    assert check_password_policy("famille dupont partie en vacances", login="famille43", names=names) is None
    # Nothing personal in it: a password of emoji only is still fine.
    assert check_password_policy("🐱🐶🦊🐻🐼🐨🐯🦁🐮🐷🐸🐵", login="famille43", names=names) is None


def test_a_lone_surrogate_is_refused_and_never_crashes():
    assert check_password_policy("\ud800" * 12) == INVALID_CHARACTER
    assert verify_against_dummy("\ud800") is False


def test_messages_are_french_sentences():
    for message in [TOO_SHORT, TOO_LONG, TOO_COMMON, LIKE_LOGIN, INVALID_CHARACTER]:
        assert message[0].isupper() and message.endswith(".")
    assert TOO_SHORT == "Le mot de passe doit compter au moins 12 caractères."
    assert TOO_COMMON == (
        "Ce mot de passe est trop courant : choisissez-en un autre, par exemple une phrase de plusieurs mots."
    )
