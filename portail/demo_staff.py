"""The demo's staff accounts (`portail serve --demo`, docs/staff.md): `agent`, `regie`
and `admin`, the demo's password and one fixed TOTP secret that anyone can type into an
authenticator app. Both are accepted in demo mode only (`PORTAIL_DEMO=1`): the accounts
are marked `demo_only`, and the function refuses that secret and that password outside
demo mode (chalicelib/staff/accounts.py)."""

from __future__ import annotations

from datetime import datetime

from chalicelib import storage as st
from chalicelib.staff.accounts import DEMO_PASSWORD, DEMO_TOTP_SECRET, account_item
from chalicelib.staff.roles import ROLES

DEMO_STAFF = ROLES  # one account per role, named after it


def seed_staff(storage: st.Storage, now: datetime, site_url: str) -> str:
    """Writes the demo's staff accounts; returns the banner's French lines about them."""
    from chalicelib.passwords import hash_password

    password_hash = hash_password(DEMO_PASSWORD)
    storage.batch_write([account_item(login, login, DEMO_TOTP_SECRET, now, password_hash=password_hash,
                                      demo_only=True) for login in DEMO_STAFF])
    return staff_banner(site_url)


def staff_banner(site_url: str) -> str:
    """The banner's French lines about the demo's staff accounts."""
    return (f"Gestion (agents) : {site_url.rstrip('/')}/gestion/ ; comptes « agent », « regie », « admin », "
            f"mot de passe « {DEMO_PASSWORD} », code à 6 chiffres d'une application d'authentification "
            f"(TOTP) réglée sur le secret {DEMO_TOTP_SECRET}.")
