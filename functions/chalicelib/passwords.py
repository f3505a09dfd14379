"""Passwords: argon2id hashing and the password policy.

Hashing follows OWASP's Password Storage Cheat Sheet (argon2id, at least its
minimum parameters); the policy follows the CNIL's délibération n° 2022-100 for a
password protected by throttling (see `throttle`): at least 12 characters of any
kind, no composition rule, up to 128 accepted, never truncated, and the most
common passwords refused.

Passwords are normalised to Unicode NFC before they are counted, compared or
hashed, so the same password typed on two systems (composed or decomposed
accents) gives the same hash.

argon2 is imported on first use and the common-password list is read on first
use: importing this module costs nothing on the function's cold start.
"""

from __future__ import annotations

import string
import threading
import unicodedata
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from argon2 import PasswordHasher

# argon2id parameters: OWASP Password Storage Cheat Sheet, "Argon2id": "a minimum
# configuration of 19 MiB of memory, an iteration count of 2, and 1 degree of
# parallelism" (m=19456 KiB, t=2, p=1). Stronger values are fine; lowering them is not.
ARGON2_MEMORY_COST_KIB = 19456
ARGON2_TIME_COST = 2
ARGON2_PARALLELISM = 1
ARGON2_HASH_LEN = 32
ARGON2_SALT_LEN = 16

MIN_LENGTH = 12
MAX_LENGTH = 128

COMMON_PASSWORDS_PATH = Path(__file__).parent / "data" / "common-passwords.txt"

TOO_SHORT = f"Le mot de passe doit compter au moins {MIN_LENGTH} caractères."
TOO_LONG = f"Le mot de passe ne peut pas dépasser {MAX_LENGTH} caractères."
TOO_COMMON = "Ce mot de passe est trop courant : choisissez-en un autre, par exemple une phrase de plusieurs mots."
LIKE_LOGIN = ("Le mot de passe ne doit pas reprendre votre identifiant, votre adresse e-mail ni les noms de votre "
              "famille : choisissez-en un autre, par exemple une phrase de plusieurs mots.")
INVALID_CHARACTER = "Le mot de passe contient un caractère non valide : saisissez-le de nouveau."

# Digits, ASCII punctuation and spaces put before or after a common word
# (« motdepasse2024! », « 123soleil ») do not make it less common.
_AFFIXES = string.digits + string.punctuation + " "
# A personal word (login, address, a name) shorter than this is not looked for.
PERSONAL_WORD_MIN = 3
# Once the personal words, digits, punctuation and spaces are taken out of a password
# that holds one, at least this many characters must remain.
PERSONAL_REMAINDER_MIN = 6

# A hash of 32 random bytes that were thrown away, made with the parameters above.
# Verifying against it costs exactly what verifying a real hash costs, and it can
# never succeed. If the parameters change, a new one is made on first use.
_DUMMY_HASH_PRECOMPUTED = (
    "$argon2id$v=19$m=19456,t=2,p=1$YbmNp2fYKkOm9qoV28AivQ$lBWHdI1wbUpnZSQyVv/kS8daMdlv1jRpRKefYwYcmxM"
)
_dummy_lock = threading.Lock()
_dummy_hash: str | None = None


@cache
def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher, Type

    return PasswordHasher(
        time_cost=ARGON2_TIME_COST,
        memory_cost=ARGON2_MEMORY_COST_KIB,
        parallelism=ARGON2_PARALLELISM,
        hash_len=ARGON2_HASH_LEN,
        salt_len=ARGON2_SALT_LEN,
        type=Type.ID,
    )


def _normalise(password: str) -> str:
    return unicodedata.normalize("NFC", password)


def _secret(password: str) -> bytes:
    # "surrogatepass": a lone surrogate (possible in JSON) never raises here; the
    # policy refuses such a password, so it can only ever fail to verify.
    return _normalise(password).encode("utf-8", "surrogatepass")


def hash_password(password: str) -> str:
    """The encoded argon2id hash (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`)."""
    return _hasher().hash(_secret(password))


def _dummy() -> str:
    global _dummy_hash
    if _dummy_hash is None:
        with _dummy_lock:
            if _dummy_hash is None:
                import secrets

                if _hasher().check_needs_rehash(_DUMMY_HASH_PRECOMPUTED):
                    _dummy_hash = _hasher().hash(secrets.token_bytes(32))
                else:
                    _dummy_hash = _DUMMY_HASH_PRECOMPUTED
    return _dummy_hash


def verify_against_dummy(password: str) -> bool:
    """Always False, at the cost of one real verification (an unknown login)."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        _hasher().verify(_dummy(), _secret(password))
    except (VerificationError, InvalidHashError):
        pass
    return False


def verify_password(stored_hash: str, password: str) -> bool:
    """True when `password` matches; False otherwise, never raising.

    A missing or unreadable stored hash still costs one verification, so an account
    without a usable hash answers in the same time as a wrong password.
    """
    from argon2.exceptions import InvalidHashError, VerificationError

    if not isinstance(stored_hash, str) or not stored_hash.startswith("$argon2"):
        return verify_against_dummy(password)
    try:
        return _hasher().verify(stored_hash, _secret(password))
    except VerificationError:
        return False
    except InvalidHashError:
        return verify_against_dummy(password)


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with other parameters (or is not argon2id at all)."""
    from argon2.exceptions import InvalidHashError

    try:
        return _hasher().check_needs_rehash(stored_hash)
    except (InvalidHashError, ValueError, TypeError):
        return True


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list (lower-case), read once on first use."""
    with COMMON_PASSWORDS_PATH.open(encoding="utf-8") as lines:
        return frozenset(
            entry
            for entry in (line.rstrip("\r\n") for line in lines)
            if entry and not entry.startswith("#")
        )


def _forms(text: str) -> set[str]:
    """The lower-case text and what remains once digits, punctuation and spaces around it go."""
    lowered = text.lower()
    forms = {lowered}
    core = lowered.strip(_AFFIXES)
    if core:
        forms.add(core)
    return forms


def _is_repetition(lowered: str) -> str | None:
    """The repeated unit when the text is one unit repeated (« soleilsoleil »)."""
    for size in range(1, len(lowered) // 2 + 1):
        if len(lowered) % size == 0 and lowered[:size] * (len(lowered) // size) == lowered:
            return lowered[:size]
    return None


def _fold(text: str) -> str:
    """Lower case without accents: « Hélène » and « HELENE » are the same word here."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _personal_words(login: str, email: str, names) -> list[str]:
    """The words a password must not be built on, longest first: the address, and the
    login, the address's local part and the names, each whole and each run of letters or
    digits in it."""
    # The address's domain is nobody's in particular (« orange », « free »): whole only.
    words = {_fold(_normalise(email).strip())}
    for whole in (login, email.rsplit("@", 1)[0], *names):
        folded = _fold(_normalise(whole or "").strip())
        words.add(folded)
        words.update("".join(c if c.isalnum() else " " for c in folded).split())
    return sorted((w for w in words if len(w) >= PERSONAL_WORD_MIN), key=len, reverse=True)


def _built_on(text: str, words: list[str]) -> bool:
    """True when the password holds a personal word and, once every occurrence of each is
    taken out with the digits, punctuation and spaces, fewer than 6 characters remain:
    « famille43!2024 », « Anna-ALPHA-2014 »; a long phrase that merely holds a name is not."""
    rest = _fold(text)
    found = False
    for word in words:
        if word in rest:
            found = True
            rest = rest.replace(word, " ")
    if not found:
        return False
    remainder = [c for c in rest if not (c.isspace() or c.isdigit() or c in string.punctuation
                                         or unicodedata.category(c).startswith(("P", "Z", "N")))]
    return len(remainder) < PERSONAL_REMAINDER_MIN


def check_password_policy(password: str, *, login: str = "", email: str = "", names=()) -> str | None:
    """None when the password is acceptable, else the French sentence telling why not.

    Length counts Unicode code points after NFC normalisation; any character counts,
    spaces and emoji included. No composition rule. The password is compared with
    the common-password list case-insensitively, also with the digits, punctuation
    and spaces around it removed; a password that only repeats a short unit or a
    common word is common too. It must not be built on the login, the e-mail address
    or the family's `names` (first and last names of responsables and children).
    """
    text = _normalise(password)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return INVALID_CHARACTER
    if len(text) < MIN_LENGTH:
        return TOO_SHORT
    if len(text) > MAX_LENGTH:
        return TOO_LONG

    forms = _forms(text)
    unit = _is_repetition(text.lower())
    if unit is not None:
        if len(unit) <= 4:
            return TOO_COMMON
        forms |= _forms(unit)

    if _built_on(text, _personal_words(login, email, names)):
        return LIKE_LOGIN

    if forms & common_passwords():
        return TOO_COMMON
    return None
