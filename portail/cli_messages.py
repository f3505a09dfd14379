"""The `portail` commands of messages and the family's data: `messages send` (docs/messages.md), `family export`
and `family purge` (docs/family-data.md). Registered by portail/cli.py.

A message file is Markdown with a front matter:

    ---
    subject: Sortie au cirque le 12 décembre
    sender: Service enfance
    ---
    Le texte, en **Markdown**.

The send is chalicelib/staff/messages.py's, as on the page `/gestion/messages/`: the same
checks, the same Markdown renderer (`chalicelib.safe_markdown`, what the families' pages
show), the same writes; the command then delivers the notice mails and the inbox pages
itself, where the page hands them to deferred jobs.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

FRONT_MATTER_KEYS = ("subject", "sender")
_FAMILY_NUMBER = re.compile(r"^\d{1,20}$")


class CommandError(Exception):
    """A refusal of these commands: one French sentence, status 1, nothing written."""


# --- the message file ---------------------------------------------------------------------

class MessageFile:
    def __init__(self, subject: str, body_markdown: str, sender: str | None):
        self.subject = subject
        self.body_markdown = body_markdown
        self.sender = sender


def parse_message_file(path: Path) -> MessageFile:
    """The file's subject, optional sender and Markdown body; CommandError otherwise."""
    name = path.name
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CommandError(f"{path} : fichier introuvable. Aucun message n'est envoyé.") from None
    except OSError as error:
        raise CommandError(f"{path} : fichier illisible ({error.strerror}). Aucun message n'est envoyé.") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CommandError(f"{name} : le fichier doit être enregistré en UTF-8. Aucun message n'est envoyé.") from None
    return parse_message_text(text, name)


def parse_message_text(text: str, name: str = "message") -> MessageFile:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    refused = "Aucun message n'est envoyé."
    if not lines or lines[0].strip() != "---":
        raise CommandError(f"{name} : le fichier doit commencer par un en-tête entre deux lignes « --- », "
                           f"avec au moins « subject: <objet du message> ». {refused}")
    header: dict[str, str] = {}
    for number, line in enumerate(lines[1:], start=2):
        if line.strip() == "---":
            end = number
            break
        if not line.strip():
            continue
        key, colon, value = line.partition(":")
        key = key.strip().lower()
        if not colon or not key:
            raise CommandError(f"{name}, ligne {number} : « {line.strip()[:60]} » n'est pas de la forme "
                               f"« clé: valeur ». {refused}")
        if key not in FRONT_MATTER_KEYS:
            raise CommandError(f"{name}, ligne {number} : clé « {key} » inconnue dans l'en-tête "
                               f"(attendu : {', '.join(FRONT_MATTER_KEYS)}). {refused}")
        if key in header:
            raise CommandError(f"{name}, ligne {number} : « {key} » est donné deux fois. {refused}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1].strip()
        header[key] = value
    else:
        raise CommandError(f"{name} : l'en-tête n'est pas fermé par une ligne « --- ». {refused}")
    subject = header.get("subject", "")
    if not subject:
        raise CommandError(f"{name} : l'objet du message manque (« subject: … » dans l'en-tête). {refused}")
    sender = header.get("sender") or None
    body = "\n".join(lines[end:]).strip()
    if not body:
        raise CommandError(f"{name} : le message est vide (rien après l'en-tête). {refused}")
    from chalicelib.messages import MessageError
    from chalicelib.staff.messages import draft

    try:  # the page's own checks (lengths)
        draft(subject, body, sender)
    except MessageError as error:
        raise CommandError(f"{name} : {error.message[:1].lower()}{error.message[1:]}") from None
    return MessageFile(subject, body, sender)


# --- portail messages send -------------------------------------------------------------------

def page_secret(endpoint_url: str | None) -> str:
    """The stage's secret (form tokens of the rendered pages): PORTAIL_SECRET, or the
    local portal's own when the AWS is the embedded one; "" when neither."""
    import os

    from portail import aws

    secret = os.environ.get("PORTAIL_SECRET", "")
    if not secret and aws.is_local_endpoint(endpoint_url):
        from portail.local_keys import local_secret

        secret = local_secret()
    return secret


def _notices(staff):
    import os

    from chalicelib.mail import Mailer
    from chalicelib.messages import Messages

    from portail import aws

    info = staff.commune.commune
    site_url = os.environ.get("PORTAIL_SITE_URL") or info.site_url
    return Messages(staff.storage, Mailer(aws.client("ses", staff.endpoint_url), info.contact_email),
                    site_url, info.name)


def _pages(staff):
    """The families' pages (FamilyPages), or None with the reason on stderr: without the
    stage's secret they cannot be rendered (the next action or the nightly export will)."""
    secret = page_secret(staff.endpoint_url)
    if not secret:
        print("Pages des familles non régénérées : PORTAIL_SECRET n'est pas défini "
              "(elles le seront à leur prochaine action ou au prochain export).", file=sys.stderr)
        return None
    from chalicelib.clock import is_frozen
    from chalicelib.pages import FamilyPages
    from chalicelib.table import bucket_name

    from portail import aws

    return FamilyPages(aws.client("s3", staff.endpoint_url), bucket_name("pages"), staff.commune, secret,
                       frozen=is_frozen())


def send(args) -> int:
    from chalicelib.staff.messages import MessageDesk, describe, draft, target

    from portail.staff import Staff

    message = parse_message_file(Path(args.file))
    if args.date is not None and args.service is None:
        raise CommandError("--date ne s'emploie qu'avec --service. Aucun message n'est envoyé.")
    if args.service is not None and args.date is None:
        raise CommandError("--service demande aussi --date (le jour des réservations). Aucun message n'est envoyé.")
    checked = draft(message.subject, message.body_markdown, message.sender)
    staff = Staff.open(args.endpoint_url)
    if args.family:
        chosen = target("family", staff.commune, families=",".join(args.family))
    elif args.all:
        chosen = target("all", staff.commune)
    else:
        chosen = target("service_day", staff.commune, service=args.service, day=args.date)
    desk = MessageDesk(staff.storage, staff.commune)
    recipients = desk.recipients(chosen)
    head = desk.send(checked, chosen, recipients, staff.now, "staff", details={"file": Path(args.file).name})
    notices, pages = _notices(staff), _pages(staff)
    failed, stale, told = [], [], 0
    for chunk in range(head["chunks"]):
        delivery = desk.deliver(head["sending_id"], chunk, notices, pages, staff.now)
        failed += delivery.failed
        stale += [] if pages is None else delivery.stale
        told += delivery.notices
    for address, error in failed:
        print(f"Courriel non envoyé à {address} : {error}", file=sys.stderr)
    if stale:
        print(f"Pages non régénérées pour {len(stale)} famille(s) : elles le seront à leur prochaine action "
              "ou au prochain export.", file=sys.stderr)
    print(f"Message « {checked.subject} » déposé dans la messagerie de "
          f"{describe(chosen, len(recipients), staff.commune)} ; {told} courriel(s) d'avis envoyé(s).")
    return 0


# --- portail family export | purge --------------------------------------------------------------

def export(args) -> int:
    from portail.family_data import FamilyDataError, export_family
    from portail.staff import Staff

    if not _FAMILY_NUMBER.match(args.family):
        raise CommandError(f"« {args.family} » n'est pas un numéro de famille (chiffres uniquement).")
    staff = Staff.open(args.endpoint_url)
    output = Path(args.output) if args.output else Path(f"famille-{args.family}-{staff.today:%Y%m%d}.zip")
    from portail import aws

    try:
        report = export_family(staff.storage, aws.client("s3", args.endpoint_url), staff.commune, args.family,
                               staff.now, output)
    except FamilyDataError as error:
        raise CommandError(str(error)) from None
    for key in report.missing:
        print(f"Fichier absent du bucket des documents, non copié : {key}", file=sys.stderr)
    print(f"Données de la famille {args.family} écrites dans {output} : {report.items} élément(s), "
          f"{report.files} fichier(s) (factures, certificats), {report.audit_entries} entrée(s) du journal.")
    return 0


def purge(args) -> int:
    from portail import aws
    from portail.family_data import purge as run_purge
    from portail.staff import Staff

    staff = Staff.open(args.endpoint_url)
    plan = run_purge(staff.storage, aws.client("s3", args.endpoint_url), staff.commune, staff.now,
                     dry_run=args.dry_run)
    print(("Vérification seule, rien n'est supprimé. " if args.dry_run else "")
          + "Données au-delà des durées de conservation :")
    for line in plan.summary_lines():
        print(f"  {line}")
    total = len(plan.deletes)
    if args.dry_run:
        print(f"{total} élément(s) et {len(plan.documents)} fichier(s) seraient supprimés.")
    else:
        print(f"{total} élément(s) et {len(plan.documents)} fichier(s) supprimés.")
    return 0


def _run(command):
    def handler(args) -> int:
        from botocore.exceptions import BotoCoreError, ClientError
        from chalicelib.messages import MessageError

        try:
            return command(args)
        except (CommandError, MessageError) as error:
            print(str(error), file=sys.stderr)
        except (BotoCoreError, ClientError) as error:
            print(f"AWS a refusé l'opération : {error}", file=sys.stderr)
        return 1
    return handler


def register(commands, endpoint_help: str) -> None:
    """Adds this module's sub-commands to `portail`'s parser."""
    from portail.staff import parse_day

    messages = commands.add_parser("messages", help="messages aux familles (messagerie du portail)")
    actions = messages.add_subparsers(dest="action", required=True, metavar="ACTION")
    sending = actions.add_parser(
        "send", help="dépose un message Markdown dans la messagerie des familles et les prévient par courriel",
        description="Le fichier : un en-tête entre deux lignes « --- » (subject: l'objet ; sender: facultatif), "
                    "puis le texte en Markdown.")
    target = sending.add_mutually_exclusive_group(required=True)
    target.add_argument("--family", action="append", metavar="N",
                        help="numéro de famille (option répétable, ou numéros séparés par des virgules)")
    target.add_argument("--all", action="store_true", help="toutes les familles")
    target.add_argument("--service", metavar="S",
                        help="les familles ayant un enfant réservé (validé) pour ce service le jour --date")
    sending.add_argument("--date", type=parse_day, metavar="DATE", help="le jour, avec --service (JJ/MM/AAAA ou AAAA-MM-JJ)")
    sending.add_argument("file", metavar="FICHIER.md", help="le message (UTF-8)")
    sending.add_argument("--endpoint-url", metavar="URL", help=endpoint_help)
    sending.set_defaults(handler=_run(send))

    family = commands.add_parser("family", help="données personnelles d'une famille : copie et purge")
    family_actions = family.add_subparsers(dest="action", required=True, metavar="ACTION")
    copy = family_actions.add_parser("export", help="écrit une archive ZIP de toutes les données d'une famille "
                                                    "(droit d'accès) : JSON, factures et certificats")
    copy.add_argument("family", metavar="N", help="numéro de famille")
    copy.add_argument("--output", metavar="FICHIER", help="l'archive à écrire (défaut : famille-<N>-<AAAAMMJJ>.zip)")
    copy.add_argument("--endpoint-url", metavar="URL", help=endpoint_help)
    copy.set_defaults(handler=_run(export))

    removal = family_actions.add_parser("purge", help="supprime ce qui dépasse les durées de conservation "
                                                      "([retention] de commune.toml)")
    removal.add_argument("--dry-run", action="store_true", help="compte ce qui serait supprimé, sans rien supprimer")
    removal.add_argument("--endpoint-url", metavar="URL", help=endpoint_help)
    removal.set_defaults(handler=_run(purge))

