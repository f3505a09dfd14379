"""Families, responsables and children: the records and their table items."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from chalicelib import storage

CIVILITIES = ("Madame", "Monsieur")

_EMAIL = re.compile(r"^[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+$")


def checked_email(value: str) -> str:
    """A plausible address, lower-cased; ValueError with a French reason otherwise."""
    value = value.strip()
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError(f"adresse électronique « {value} » invalide")
    return value.lower()


def checked_phone(value: str) -> str:
    """A French number written « 01 60 44 00 00 »; ValueError with a French reason otherwise."""
    digits = re.sub(r"[\s.\-]", "", value)
    if digits.startswith("+33"):
        digits = "0" + digits[3:]
    if not re.fullmatch(r"0\d{9}", digits):
        raise ValueError(f"téléphone « {value} » invalide (10 chiffres, par exemple 01 60 44 00 00)")
    return " ".join(digits[i : i + 2] for i in range(0, 10, 2))


@dataclass(frozen=True)
class Family:
    number: str
    quotient_bracket: str
    address: str = ""
    postal_code: str = ""
    city: str = ""
    # « compte commun »: both responsables share one account and one set of pages; else
    # each has their own (docs/family-pages.md, « Two responsables »).
    shared_account: bool = False


@dataclass(frozen=True)
class Responsable:
    family_number: str
    rank: int  # 1 or 2: a child may have two responsables (separated parents)
    civility: str
    last_name: str
    first_name: str
    login: str
    email: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Child:
    family_number: str
    child_id: str
    last_name: str
    first_name: str
    sex: str  # "F" or "M", as the guide shows it
    birth_date: date
    services: tuple[str, ...] = ()


def family_item(family: Family, existing: dict | None = None) -> dict:
    """The PROFILE item; keeps what others wrote (the page key above all)."""
    item = dict(existing or {})
    item.update(
        pk=storage.family_pk(family.number),
        sk=storage.PROFILE,
        kind="family",
        family_number=family.number,
        quotient_bracket=family.quotient_bracket,
        address=family.address,
        postal_code=family.postal_code,
        city=family.city,
        shared_account=family.shared_account,
        gsi1pk="FAMILIES",
        gsi1sk=family.number,
    )
    item.setdefault("page_key", storage.new_page_key())
    return item


def responsable_item(responsable: Responsable, existing: dict | None = None) -> dict:
    item = dict(existing or {})
    item.update(
        pk=storage.family_pk(responsable.family_number),
        sk=storage.responsable_sk(responsable.rank),
        kind="responsable",
        rank=responsable.rank,
        civility=responsable.civility,
        last_name=responsable.last_name,
        first_name=responsable.first_name,
        login=storage.normalise_login(responsable.login),
        email=responsable.email,
        phone=responsable.phone,
    )
    if responsable.rank > 1:
        # The folder of their own pages, used when the family is not « compte commun »
        # (pages.responsables); kept across imports, like the family's.
        item.setdefault("page_key", storage.new_page_key())
    return item


def login_item(responsable: Responsable, page_key: str, existing: dict | None = None) -> dict:
    """`LOGIN#<login>`: all a login needs in one read: who, the page key of the folder
    their pages are in (`pages.responsables.login_page_key`), and the credentials and
    session list the accounts module keeps here."""
    item = dict(existing or {})
    item.update(
        pk=storage.login_pk(responsable.login),
        sk=storage.LOGIN,
        kind="login",
        family_number=responsable.family_number,
        rank=responsable.rank,
        page_key=page_key,
    )
    return item


def child_item(child: Child, existing: dict | None = None) -> dict:
    item = dict(existing or {})
    item.update(
        pk=storage.family_pk(child.family_number),
        sk=storage.child_sk(child.child_id),
        kind="child",
        child_id=child.child_id,
        last_name=child.last_name,
        first_name=child.first_name,
        sex=child.sex,
        birth_date=child.birth_date,
        services=list(child.services),
    )
    return item
