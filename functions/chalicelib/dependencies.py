"""The function's collaborators, built on first use, then kept for the life of the Lambda
container (its cold start): the routes (chalicelib/routes/), the middleware and the
scheduled functions of app.py all reach them here. Each getter imports what it needs
when first called, so that a route imports only what it uses."""

from __future__ import annotations

import os

from chalicelib import clock

_dependencies: dict = {}


def reset_dependencies() -> None:
    """Forgets the clients (tests switch AWS between cases)."""
    _dependencies.clear()


def commune():
    from chalicelib.config import get_commune

    return get_commune()


def storage():
    if "storage" not in _dependencies:
        import boto3

        from chalicelib import table
        from chalicelib.storage import Storage

        _dependencies["storage"] = Storage(boto3.client("dynamodb"), table.table_name())
    return _dependencies["storage"]


def mailer():
    if "mailer" not in _dependencies:
        import boto3

        from chalicelib.mail import Mailer

        # The SES client (about 30 ms) is made by the first mail sent, not by the first
        # request that reads a session.
        _dependencies["mailer"] = Mailer(lambda: boto3.client("ses"), commune().commune.contact_email)
    return _dependencies["mailer"]


def accounts():
    if "accounts" not in _dependencies:
        from chalicelib.accounts import Accounts

        info = commune().commune
        _dependencies["accounts"] = Accounts(
            storage(), mailer(), secret=secret(), site_url=site_url(),
            demo_mode=os.environ.get("PORTAIL_DEMO") == "1", commune_name=info.name,
            contact_email=info.contact_email, contact_phone=info.contact_phone,
        )
    return _dependencies["accounts"]


def staff_accounts():
    """The staff accounts (chalicelib/staff/accounts.py): built on the first /gestion/ call."""
    if "staff_accounts" not in _dependencies:
        from chalicelib.staff.accounts import StaffAccounts

        _dependencies["staff_accounts"] = StaffAccounts(storage(), secret=secret(),
                                                        demo_mode=os.environ.get("PORTAIL_DEMO") == "1")
    return _dependencies["staff_accounts"]


def staff_templates():
    """The Jinja2 environment of the staff pages: the portal's templates and layout."""
    if "staff_templates" not in _dependencies:
        from jinja2 import Environment, FileSystemLoader, select_autoescape

        from chalicelib.layout import TEMPLATES_DIR, layout_globals

        environment = Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=select_autoescape(default=True),
                                  trim_blocks=True, lstrip_blocks=True)
        environment.globals["portail"] = layout_globals(commune())
        _dependencies["staff_templates"] = environment
    return _dependencies["staff_templates"]


def password_reset():
    if "password_reset" not in _dependencies:
        from chalicelib import jobs
        from chalicelib.password_reset import PasswordReset

        _dependencies["password_reset"] = PasswordReset(accounts(), defer=jobs.defer)
    return _dependencies["password_reset"]


def bookings():
    if "bookings" not in _dependencies:
        from chalicelib.bookings import Bookings

        _dependencies["bookings"] = Bookings(storage(), commune())
    return _dependencies["bookings"]


def messages():
    if "messages" not in _dependencies:
        from chalicelib.messages import Messages

        _dependencies["messages"] = Messages(storage(), mailer(), site_url(), commune().commune.name)
    return _dependencies["messages"]


def family_pages():
    if "pages" not in _dependencies:
        import boto3

        from chalicelib import table
        from chalicelib.pages.export import FamilyPages

        # The S3 client (about 40 ms: S3's service model) is made by the first page written,
        # not on the cold start: the session refreshes and most reads never write a page.
        _dependencies["pages"] = FamilyPages(lambda: boto3.client("s3"), table.bucket_name("pages"), commune(),
                                             secret(), frozen=clock.is_frozen(), site_url=site_url())
    return _dependencies["pages"]


def documents():
    if "documents" not in _dependencies:
        import boto3
        from botocore.config import Config

        from chalicelib import table
        from chalicelib.documents import Documents

        # Virtual-hosted and regional: the presigned POST's address is
        # https://<bucket>.s3.<region>.amazonaws.com, the origin the CSP names
        # (chalicelib/http_headers.py); the global address would answer a fresh bucket's
        # POST with a redirect. An endpoint given (the embedded AWS) stays path-style.
        _dependencies["documents"] = Documents(boto3.client("s3", config=Config(s3={"addressing_style": "virtual"})),
                                               table.bucket_name("documents"))
    return _dependencies["documents"]


def secret() -> str:
    from chalicelib.secret_parameters import load_secrets

    load_secrets()  # production: from SSM, once per container
    return os.environ["PORTAIL_SECRET"]


def site_url() -> str:
    """The address parents use: the stage's (PORTAIL_SITE_URL), else commune.toml's."""
    return (os.environ.get("PORTAIL_SITE_URL") or commune().commune.site_url).rstrip("/")


def family_desk():
    """The staff's handling of families (`/gestion/familles/`)."""
    if "family_desk" not in _dependencies:
        from chalicelib.staff.families import FamilyDesk

        _dependencies["family_desk"] = FamilyDesk(storage(), commune(), family_pages(), bookings=bookings(),
                                                  messages=messages(), password_reset=password_reset())
    return _dependencies["family_desk"]
