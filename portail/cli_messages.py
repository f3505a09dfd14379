"""The `portail` commands of messages and the family's data: `messages send` (docs/messages.md), `family export`
and `family purge` (docs/family-data.md). Registered by portail/cli.py.

A message file is Markdown with a front matter:

    ---
    subject: Sortie au cirque le 12 décembre
    sender: Service enfance
    ---
    Le texte, en **Markdown**.

The family pages are rendered by the function, which cannot import `markdown`: the text
is rendered here, once, without raw HTML (escaped, never passed through), links limited
to http(s), mailto, tel and the site's own paths, and the result checked against a short list
of tags before anything is written.
"""

from __future__ import annotations

import re
import sys
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

FRONT_MATTER_KEYS = ("subject", "sender")
MAX_SUBJECT = 150
MAX_SENDER = 80
MAX_BODY = 50_000  # characters: the Markdown and its HTML both fit a DynamoDB item (400 KB)
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
    if len(subject) > MAX_SUBJECT:
        raise CommandError(f"{name} : l'objet dépasse {MAX_SUBJECT} caractères. {refused}")
    sender = header.get("sender") or None
    if sender is not None and len(sender) > MAX_SENDER:
        raise CommandError(f"{name} : l'expéditeur dépasse {MAX_SENDER} caractères. {refused}")
    body = "\n".join(lines[end:]).strip()
    if not body:
        raise CommandError(f"{name} : le message est vide (rien après l'en-tête). {refused}")
    if len(body) > MAX_BODY:
        raise CommandError(f"{name} : le message dépasse {MAX_BODY} caractères. {refused}")
    return MessageFile(subject, body, sender)


# --- Markdown, safely -----------------------------------------------------------------------

ALLOWED_TAGS = {
    "p": (), "br": (), "hr": (), "em": (), "strong": (), "code": (), "pre": (), "blockquote": (),
    "ul": (), "ol": (), "li": (), "h2": (), "h3": (), "h4": (), "h5": (), "h6": (), "span": (),
    "a": ("href", "title"),
}
# A message's headings sit under its page's title, the subject (h1), as chalicelib.safe_markdown's do.
HEADING_SHIFT = 1


def safe_url(url: str) -> bool:
    """http(s), mailto, tel, or a path of the portal itself; never javascript:, data: and such
    (browsers ignore control characters and blanks inside a scheme: so do we)."""
    plain = re.sub(r"[\x00-\x20\x7f]", "", unescape(url)).lower()
    if plain.startswith(("http://", "https://", "mailto:", "tel:", "#")):
        return True
    return plain.startswith("/") and not plain.startswith(("//", "/\\"))


def _extension():
    from markdown.extensions import Extension
    from markdown.treeprocessors import Treeprocessor
    from markdown.util import AMP_SUBSTITUTE

    class Sanitise(Treeprocessor):
        def run(self, root):
            for element in root.iter():
                if element.tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
                    element.tag = f"h{min(6, int(element.tag[1]) + HEADING_SHIFT)}"
                elif element.tag == "img":
                    # No image from elsewhere in a private page: a link to it, with its text.
                    src, alt = element.get("src", ""), element.get("alt") or "image"
                    element.attrib.clear()
                    element.tag, element.text = "a", alt
                    element.set("href", src)
                if element.tag == "a":
                    # Automatic mail links come entity-encoded: the plain address is kept.
                    href = unescape((element.get("href") or "").replace(AMP_SUBSTITUTE, "&"))
                    title = element.get("title")
                    element.attrib.clear()
                    if href and safe_url(href):
                        element.set("href", href)
                        if title:
                            element.set("title", title)
                    else:
                        element.tag = "span"

    class NoRawHtml(Extension):
        def extendMarkdown(self, md):  # noqa: N802 - Markdown's name
            # Raw HTML (blocks and inline tags) is no longer recognised: it stays text,
            # escaped on output like any text.
            md.preprocessors.deregister("html_block")
            md.inlinePatterns.deregister("html")
            md.treeprocessors.register(Sanitise(md), "portail_sanitise", 1)

    return NoRawHtml()


class _AllowList(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        allowed = ALLOWED_TAGS.get(tag)
        if allowed is None:
            self.problems.append(f"<{tag}>")
            return
        for name, value in attrs:
            if name not in allowed or (name == "href" and not safe_url(value or "")):
                self.problems.append(f"{name}= sur <{tag}>")

    handle_startendtag = handle_starttag

    def handle_comment(self, data):
        self.problems.append("commentaire")

    def handle_decl(self, decl):
        self.problems.append("déclaration")

    def handle_pi(self, data):
        self.problems.append("instruction")


def render_markdown(text: str) -> str:
    """The message's HTML: Markdown without raw HTML, checked tag by tag."""
    import markdown

    html = markdown.markdown(text, extensions=[_extension()], output_format="html")
    checker = _AllowList()
    checker.feed(html)
    checker.close()
    if checker.problems:  # the sanitiser let something through: refuse rather than publish it
        raise CommandError(f"Le message contient une mise en forme refusée ({', '.join(checker.problems)}). "
                           "Aucun message n'est envoyé.")
    return html


# --- portail messages send -------------------------------------------------------------------

def family_numbers(values: list[str]) -> list[str]:
    """--family given once or more, each maybe « 100,200 »; every number checked."""
    numbers = []
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            if not _FAMILY_NUMBER.match(part):
                raise CommandError(f"--family : « {part} » n'est pas un numéro de famille (chiffres uniquement). "
                                   "Aucun message n'est envoyé.")
            numbers.append(part)
    if not numbers:
        raise CommandError("--family : indiquez au moins un numéro de famille. Aucun message n'est envoyé.")
    return list(dict.fromkeys(numbers))


def _messages(staff):
    from chalicelib.mail import Mailer
    from chalicelib.messages import Messages

    from portail import aws

    info = staff.commune.commune
    import os

    site_url = os.environ.get("PORTAIL_SITE_URL") or info.site_url
    return Messages(staff.storage, Mailer(aws.client("ses", staff.endpoint_url), info.contact_email),
                    site_url, info.name)


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


def rerender_inboxes(staff, families: list[str]) -> int:
    """Renders again the pages that show messages (dashboard count, inbox) of these
    families: one Query per family, the state must include the new message. A failure is
    reported; the messages stand (the pages follow at the family's next action or the
    nightly export)."""
    secret = page_secret(staff.endpoint_url)
    if not secret:
        print("Pages des familles non régénérées : PORTAIL_SECRET n'est pas défini "
              "(elles le seront à leur prochaine action ou au prochain export).", file=sys.stderr)
        return 0
    try:
        from chalicelib.clock import is_frozen
        from chalicelib.pages import FamilyPages, pages_showing_messages
        from chalicelib.table import bucket_name

        from portail import aws

        pages = FamilyPages(aws.client("s3", staff.endpoint_url), bucket_name("pages"), staff.commune, secret,
                            frozen=is_frozen())
        only = pages_showing_messages()
        return sum(pages.export(staff.storage, family, staff.now, only=only) for family in families)
    except Exception as error:  # noqa: BLE001 - the messages are written; say why the pages are not
        print(f"Pages des familles non régénérées : {error}", file=sys.stderr)
        return 0


def send(args) -> int:
    from chalicelib.formatting import short_date
    from chalicelib.messages import SENDER

    from portail.staff import Staff, service_code

    message = parse_message_file(Path(args.file))
    if args.date is not None and args.service is None:
        raise CommandError("--date ne s'emploie qu'avec --service. Aucun message n'est envoyé.")
    if args.service is not None and args.date is None:
        raise CommandError("--service demande aussi --date (le jour des réservations). Aucun message n'est envoyé.")
    numbers = family_numbers(args.family) if args.family else None
    body_html = render_markdown(message.body_markdown)
    staff = Staff.open(args.endpoint_url)
    messages = _messages(staff)
    if numbers is not None:
        recipients = messages.recipients(numbers)
        details = {"target": "families"}
        described = f"{len(recipients)} famille(s)"
    elif args.all:
        recipients = messages.all_recipients()
        details = {"target": "all"}
        described = f"toutes les familles ({len(recipients)})"
    else:
        try:
            service = service_code(args.service, staff.commune)
        except ValueError as error:
            text = str(error)
            raise CommandError(f"{text[:1].upper()}{text[1:]}. Aucun message n'est envoyé.") from None
        booked = messages.families_booked(service, args.date)
        if not booked:
            raise CommandError(f"Aucun enfant n'est réservé (validé) en {staff.commune.service(service).label} "
                               f"le {short_date(args.date)} : aucun message n'est envoyé.")
        recipients = messages.recipients(booked)
        details = {"target": "service", "service": service, "date": args.date.isoformat()}
        described = (f"{len(recipients)} famille(s) ayant un enfant réservé en "
                     f"{staff.commune.service(service).label} le {short_date(args.date)}")
    details["file"] = Path(args.file).name
    items, failed = messages.send_many(recipients, message.subject, message.body_markdown, staff.now,
                                       body_html=body_html, sender=message.sender or SENDER,
                                       audit_details=details)
    for address, error in failed:
        print(f"Courriel non envoyé à {address} : {error}", file=sys.stderr)
    rerender_inboxes(staff, list(recipients))
    notices = sum(len(set(a)) for a in recipients.values()) - len(failed)
    print(f"Message « {message.subject} » déposé dans la messagerie de {described} ; "
          f"{notices} courriel(s) d'avis envoyé(s).")
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

