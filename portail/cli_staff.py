"""`portail staff …`: the staff accounts' administration from the command line
(docs/staff.md, docs/cli.md), registered by portail/cli.py. The same functions as the
page `/gestion/agents/` (chalicelib/staff/accounts.py); each command writes an audit
entry, by the actor of the other staff commands. Refusals: one French sentence, status 1.

`add` and `reset-2fa` print the one-time enrolment link and its end: the operator hands
it to the agent, who chooses a password and sets up the authenticator app there.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime

ROLE_HELP = "agent, regie ou admin"


def register(commands, endpoint_help: str) -> None:
    """Adds `portail staff` and its actions to `portail`'s parser."""
    staff = commands.add_parser("staff", help="comptes des agents de la gestion : création, désactivation, rôle, "
                                              "second facteur")
    actions = staff.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="crée un compte et affiche son lien d'inscription (valable 7 jours, une fois)")
    add.add_argument("login", metavar="IDENTIFIANT", help="2 à 64 caractères : a-z, 0-9, « . », « _ », « - »")
    add.add_argument("--role", required=True, metavar="RÔLE", help=ROLE_HELP)
    add.set_defaults(handler=_guarded(add_account))
    for name, text, command in (("disable", "désactive un compte : ses sessions prennent fin aussitôt", disable),
                                ("enable", "réactive un compte désactivé", enable),
                                ("reset-2fa", "nouveau secret TOTP (téléphone perdu) et nouveau lien d'inscription ; "
                                              "les sessions prennent fin", reset_second_factor)):
        action = actions.add_parser(name, help=text)
        action.add_argument("login", metavar="IDENTIFIANT", help="l'identifiant du compte")
        action.set_defaults(handler=_guarded(command))
    role = actions.add_parser("role", help="change le rôle d'un compte (effectif à sa prochaine connexion)")
    role.add_argument("login", metavar="IDENTIFIANT", help="l'identifiant du compte")
    role.add_argument("role", metavar="RÔLE", help=ROLE_HELP)
    role.set_defaults(handler=_guarded(set_role))
    listing = actions.add_parser("list", help="les comptes : rôle, état, dernière connexion, inscription faite ou non")
    listing.set_defaults(handler=_guarded(list_accounts))
    for action in (add, listing, role, *(actions.choices[n] for n in ("disable", "enable", "reset-2fa"))):
        action.add_argument("--endpoint-url", metavar="URL", help=endpoint_help)


def _guarded(command):
    def handler(args) -> int:
        from chalicelib.staff.accounts import StaffError

        try:
            return command(_Accounts.open(args.endpoint_url), args)
        except StaffError as error:
            print(error.message, file=sys.stderr)
            return 1
    return handler


class _Accounts:
    """The accounts, the instant and the commune of one command."""

    def __init__(self, accounts, storage, commune, now):
        self.accounts, self.storage, self.commune, self.now = accounts, storage, commune, now
        # Staff authentication is on the real clock (docs/staff.md): an enrolment link
        # made at a frozen PORTAIL_NOW would be expired already. Audit: the portal's clock.
        self.real_now = datetime.now(UTC)

    @classmethod
    def open(cls, endpoint_url: str | None) -> _Accounts:
        from chalicelib.clock import now
        from chalicelib.config import get_commune
        from chalicelib.staff.accounts import StaffAccounts

        from portail import aws

        storage = aws.storage(endpoint_url)
        # The stage's secret keys the login throttles' digests only, which administration
        # never computes: any value serves when it is not set.
        accounts = StaffAccounts(storage, secret=os.environ.get("PORTAIL_SECRET") or "portail-staff-cli")
        return cls(accounts, storage, get_commune(), now())

    def audit(self, action: str, **details) -> None:
        from portail.staff import ACTOR

        self.storage.audit(self.now, ACTOR, action, details)

    def instant(self, when) -> str:
        return when.astimezone(self.commune.tz).strftime("%d/%m/%Y à %H:%M")

    def print_link(self, account) -> None:
        from chalicelib.staff.accounts import enrolment_link

        site_url = os.environ.get("PORTAIL_SITE_URL") or self.commune.commune.site_url
        print(f"Lien d'inscription, à remettre à l'agent (une seule utilisation, valable jusqu'au "
              f"{self.instant(account.enrolment_expires_at)}) :")
        print(enrolment_link(site_url, account.enrolment_token))


def add_account(staff: _Accounts, args) -> int:
    account, _ = staff.accounts.create(args.login, args.role, staff.real_now)
    staff.audit("staff_added", login=account.login, role=account.role)
    print(f"Compte « {account.login} » créé (rôle {account.role}).")
    staff.print_link(account)
    return 0


def reset_second_factor(staff: _Accounts, args) -> int:
    account, _ = staff.accounts.reset_second_factor(args.login, staff.real_now)
    staff.audit("staff_totp_reset", login=account.login)
    print(f"Second facteur de « {account.login} » réinitialisé : l'ancienne application ne donne plus de code "
          "valable et ses sessions ont pris fin.")
    staff.print_link(account)
    return 0


def disable(staff: _Accounts, args) -> int:
    login = _login(args.login)
    staff.accounts.disable(login, staff.real_now)
    staff.audit("staff_disabled", login=login)
    print(f"Compte « {login} » désactivé : ses sessions ont pris fin.")
    return 0


def enable(staff: _Accounts, args) -> int:
    login = _login(args.login)
    staff.accounts.enable(login, staff.real_now)
    staff.audit("staff_enabled", login=login)
    print(f"Compte « {login} » réactivé.")
    return 0


def set_role(staff: _Accounts, args) -> int:
    login = _login(args.login)
    staff.accounts.set_role(login, args.role, staff.real_now)
    staff.audit("staff_role_changed", login=login, role=args.role)
    print(f"Rôle de « {login} » : {args.role} (effectif à sa prochaine connexion ; ses sessions ont pris fin).")
    return 0


def list_accounts(staff: _Accounts, args) -> int:
    accounts = staff.accounts.accounts()
    staff.audit("staff_listed", count=len(accounts))
    if not accounts:
        print("Aucun compte d'agent.")
        return 0
    for account in accounts:
        state = "désactivé" if account.disabled else "actif"
        last = f"dernière connexion le {staff.instant(account.last_login_at)}" if account.last_login_at \
            else "jamais connecté"
        enrolled = "inscription faite" if account.enrolled else "inscription en attente"
        print(f"{account.login}  {account.role}, {state}, {last}, {enrolled}")
    print(f"{len(accounts)} compte(s).")
    return 0


def _login(text: str) -> str:
    from chalicelib import storage as st

    return st.normalise_login(text)
