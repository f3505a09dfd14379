"""A family that can log in, for tests and benchmarks (the demo has its own, bigger)."""

from __future__ import annotations

from datetime import date

from chalicelib import family_search, passwords
from chalicelib.families import (
    Child,
    Family,
    Responsable,
    child_item,
    family_item,
    login_item,
    responsable_item,
)
from chalicelib.storage import Storage


def add_family(storage: Storage, number: str, login: str, password: str | None, *, last_name: str, child: str,
               email: str, services: tuple[str, ...] = ("RESTAURATION",)) -> dict:
    """One family with one responsable who can log in, and one child (id "1"); returns
    the family's PROFILE item."""
    profile = family_item(Family(number=number, quotient_bracket="B"))
    responsable = Responsable(family_number=number, rank=1, civility="Madame", last_name=last_name,
                              first_name="ANNE", login=login, email=email)
    credentials = {"password_hash": passwords.hash_password(password)} if password else {}
    person = responsable_item(responsable)
    kid = child_item(Child(family_number=number, child_id="1", last_name=last_name, first_name=child, sex="F",
                           birth_date=date(2010, 3, 14), services=services))
    storage.batch_write([
        profile, person, login_item(responsable, profile["page_key"], credentials), kid,
        *family_search.family_index(profile, [person], [kid]),
    ])
    return profile
