"""The staff journal: every staff action (who, when, what, which family), newest first,
filtered by agent or by family, a page at a time; with the French words of each action
and a readable summary of its details.

Where it reads (docs/data-model.md, never a Scan): by agent, gsi1 `JOURNAL#<actor>`; by
family, gsi2 `JOURNAL#FAMILY#<N°>` (both filters: the family's, kept to the agent's); with
neither, the `AUDIT#<UTC date>` partitions of one local day, staff entries only. A page
resumes below a cursor: the sort key of the last entry shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from chalicelib.keys import audit_pk, journal_actor_pk, journal_family, journal_family_pk
from chalicelib.refusals import Refusal
from chalicelib.staff import journal_store

PARIS = ZoneInfo("Europe/Paris")
PAGE = 100
MAX_PAGE = 500

# What each action code says, in the staff's words. The codes staff commands and pages
# write, then the family's own (shown when an agent's login was also a family's, and by
# the family filter of older entries); a code missing here shows as it is.
ACTION_LABELS = {
    # staff accounts and sessions (/gestion/)
    "staff_login": "Connexion à la gestion",
    "staff_login_failed": "Échec de connexion à la gestion",
    "staff_login_throttled": "Connexion à la gestion bloquée (trop d'essais)",
    "staff_logout": "Déconnexion de la gestion",
    "staff_enrolled": "Second facteur enregistré",
    "staff_added": "Compte agent créé",
    "staff_disabled": "Compte agent désactivé",
    "staff_enabled": "Compte agent réactivé",
    "staff_listed": "Comptes agents consultés",
    "staff_role_changed": "Rôle d'un agent changé",
    "staff_totp_reset": "Second facteur d'un agent réinitialisé",
    # requests and plannings
    "requests_listed": "Demandes en attente consultées",
    "request_accepted": "Demande acceptée",
    "request_refused": "Demande refusée",
    "requests_decided": "Demandes décidées",
    "plannings_imported": "Plannings papier importés",
    # a family's file (/gestion/familles/)
    "family_contact_changed": "Coordonnées d'un responsable modifiées",
    "family_address_changed": "Adresse d'une famille modifiée",
    "family_bracket_changed": "Tranche de quotient familial modifiée",
    "family_services_changed": "Inscriptions d'un enfant modifiées",
    "staff_booking": "Jours saisis pour la famille",
    "staff_booking_override": "Jours saisis pour la famille, date limite passée outre",
    "password_link_sent": "Lien de mot de passe envoyé à un responsable",
    "headcount_viewed": "Effectifs consultés",
    "headcount_exported": "Effectifs téléchargés (CSV)",
    # the public site (/gestion/informations/)
    "content_published": "Page du site publiée",
    "content_restored": "Version d'une page du site rétablie",
    # certificates
    "certificates_listed": "Certificats à examiner consultés",
    "certificate_received": "Certificat médical reçu",
    "certificate_accepted": "Certificat médical accepté",
    "certificate_refused": "Certificat médical refusé",
    "certificate_recorded": "Certificat papier enregistré",
    # messages, billing, the family's data
    "messages_sent": "Message envoyé",
    "invoices_issued": "Factures émises",
    "credit_note_issued": "Avoir émis",
    "invoicing_started": "Facturation d'un mois lancée",
    "invoicing_resumed": "Facturation d'un mois reprise",
    "payment_imported": "Règlement importé",
    "payment_recorded": "Règlement enregistré au guichet (reçu)",
    "payments_file_imported": "Fichier de règlements importé",
    "family_export": "Données d'une famille exportées",
    "retention_purge": "Données anciennes supprimées (durées de conservation)",
    # the family's own actions
    "login": "Connexion (famille)",
    "login_failed": "Échec de connexion (famille)",
    "login_throttled": "Connexion bloquée, trop d'essais (famille)",
    "logout": "Déconnexion (famille)",
    "password_changed": "Mot de passe changé (famille)",
    "password_change_failed": "Échec du changement de mot de passe (famille)",
    "password_change_throttled": "Changement de mot de passe bloqué (famille)",
    "password_reset_requested": "Lien de mot de passe demandé (famille)",
    "password_reset_throttled": "Lien de mot de passe bloqué, trop de demandes (famille)",
    "password_reset": "Mot de passe réinitialisé (famille)",
    "contact_changed": "Coordonnées modifiées (famille)",
    "contact_change_failed": "Échec de la modification des coordonnées (famille)",
    "certificate_upload": "Certificat médical déposé (famille)",
}

# The words of the details, in the order a reader wants them; any other detail follows.
_DETAIL_LABELS = {
    "child_id": "enfant", "service": "service", "services": "services", "date": "jour", "dates": "jours", "week": "semaine",
    "month": "mois", "certificate_id": "certificat", "reference": "référence", "amount": "montant",
    "mode": "mode", "unallocated": "non affecté", "operation_number": "opération", "first": "première",
    "last": "dernière", "total": "total", "count": "nombre", "received": "reçus", "target": "destinataires",
    "families": "familles", "file": "fichier", "rows": "lignes", "booked": "réservées",
    "duplicate": "déjà réservées", "waiting": "en liste d'attente", "refused": "refusées", "late": "en retard",
    "items": "éléments", "files": "fichiers", "audit_entries": "entrées du journal",
    "missing_files": "fichiers manquants", "files_kept_after_error": "fichiers gardés après une erreur",
    "role": "rôle", "login": "identifiant", "reason": "motif", "source": "adresse", "retry_after": "attente (s)",
    "email_changed": "courriel changé",
    "rank": "responsable", "changed": "changé", "enrolled": "inscrit à", "left": "quitte", "before": "avant",
    "after": "après", "days": "jours", "invoice": "facture", "number": "numéro",
}
# Never shown, whatever a writer put there: a secret has no place in the journal.
_SECRET = re.compile(r"password|passwd|token|cookie|secret|totp|otp|hash", re.IGNORECASE)
# Shown elsewhere (the family column) or of no use to a reader (a storage key).
_HIDDEN = {"family_number", "document_key", "allocations", "counts", "cutoffs"}
_MAX_LISTED = 5

# An entry's sort key: its UTC instant, then 8 random hex digits (Storage.audit_item).
CURSOR = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?\+00:00#[0-9a-f]{8}")


class JournalError(Refusal):
    pass


@dataclass(frozen=True)
class Entry:
    sk: str
    at: datetime  # in the commune's time zone
    actor: str
    action: str
    label: str
    family: str | None
    summary: str


@dataclass(frozen=True)
class JournalPage:
    entries: list[Entry]
    next_cursor: str | None  # `before` of the page of older entries; None: no older one
    day: date | None  # the local day shown (the unfiltered journal), else the day filter


def label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


def _value(key: str, value) -> str:
    if isinstance(value, bool):
        return "oui" if value else "non"
    if key in ("amount", "unallocated", "total") and isinstance(value, Decimal | int | str):
        from chalicelib.formatting import euros

        try:
            return euros(value)
        except (ArithmeticError, TypeError, ValueError):
            return str(value)
    if key in ("date", "dates"):
        from chalicelib.formatting import short_date

        values = value if isinstance(value, list | tuple | set) else [value]
        shown = [short_date(str(v)) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(v)) else str(v) for v in values]
        return _listed(shown)
    if isinstance(value, list | tuple | set):
        return _listed([str(v) for v in value])
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return str(value)


def _listed(values: list[str]) -> str:
    if len(values) > _MAX_LISTED:
        return f"{', '.join(values[:_MAX_LISTED])}… ({len(values)})"
    return ", ".join(values)


def summary(details: dict) -> str:
    """« enfant 2 ; service CANTINE ; jour 08/12/2014 ; motif : … »: the details a reader
    needs, in French, never a secret nor a storage key."""
    shown = [key for key in _DETAIL_LABELS if key in details]
    shown += sorted(key for key in details if key not in _DETAIL_LABELS)
    parts = []
    for key in shown:
        value = details[key]
        if key in _HIDDEN or _SECRET.search(key) or value in (None, "", [], {}):
            continue
        if key == "families" and isinstance(value, list | tuple | set) and len(value) > _MAX_LISTED:
            parts.append(f"{len(value)} familles")
            continue
        parts.append(f"{_DETAIL_LABELS.get(key, key)} : {_value(key, value)}")
    return " ; ".join(parts)


def entry(item: dict, tz: ZoneInfo = PARIS) -> Entry:
    details = item.get("details") or {}
    return Entry(sk=item["sk"], at=datetime.fromisoformat(item["at"]).astimezone(tz), actor=item.get("actor", ""),
                 action=item.get("action", ""), label=label(item.get("action", "")),
                 family=journal_family(details), summary=summary(details))


def check_cursor(before: str | None) -> str | None:
    if before in (None, ""):
        return None
    if not CURSOR.fullmatch(before):
        raise JournalError(400, "invalid_cursor", "Le lien vers les entrées plus anciennes n'est pas valable : "
                                                  "rouvrez le journal.")
    return before


def day_bounds(day: date, tz: ZoneInfo = PARIS) -> tuple[str, str]:
    """The sort keys that bound a local day: its first instant in UTC, and the next day's."""
    def start(d: date) -> str:
        return datetime.combine(d, time(0), tz).astimezone(UTC).isoformat()
    return start(day), start(day + timedelta(days=1))


def entries(storage, *, actor: str | None = None, family: str | None = None, day: date | None = None,
            before: str | None = None, limit: int = PAGE, tz: ZoneInfo = PARIS) -> JournalPage:
    """A page of the staff journal, newest first: an agent's entries (`actor`), a family's,
    both, or (neither) one local `day`'s (the day of `before` when not given); `day`
    narrows a filter to that day. `before` is the cursor of the page before."""
    before = check_cursor(before)
    limit = max(1, min(limit, MAX_PAGE))
    if day is None and not (actor or family):
        if before is None:
            raise ValueError("the unfiltered journal shows one day: give `day` or `before`")
        day = datetime.fromisoformat(before.split("#")[0]).astimezone(tz).date()
    since, until = day_bounds(day, tz) if day else (None, None)
    upper = min(before, until) if before and until else before or until
    if since and upper <= since:
        return JournalPage([], None, day)  # a cursor before the day asked
    if family:
        items, more = journal_store.newest(storage, journal_family_pk(family), index="gsi2", since=since,
                                           before=upper, limit=limit, actor=actor or None)
    elif actor:
        items, more = journal_store.newest(storage, journal_actor_pk(actor), index="gsi1", since=since,
                                           before=upper, limit=limit)
    else:
        items, more = _one_day(storage, since, upper, limit)
    shown = [entry(item, tz) for item in items]
    return JournalPage(shown, shown[-1].sk if more and shown else None, day)


def _one_day(storage, since: str, upper: str, limit: int) -> tuple[list[dict], bool]:
    """A local day's staff entries lie in one or two `AUDIT#<UTC date>` partitions (the
    local midnight is not UTC's): the later one first, the earlier one if the page has room."""
    first = datetime.fromisoformat(since).date()
    last = (datetime.fromisoformat(upper.split("#")[0]) - timedelta(microseconds=1)).date()
    days = [last - timedelta(days=n) for n in range((last - first).days + 1)]
    items: list[dict] = []
    for index, utc_day in enumerate(days):
        pk = audit_pk(datetime.combine(utc_day, time(0), UTC))
        found, more = journal_store.newest(storage, pk, since=since, before=upper, limit=limit - len(items),
                                           staff_only=True)
        items += found
        if more:
            return items, True
        if len(items) >= limit:
            # Full at the end of a partition: the next page (one Query) says whether the
            # earlier one holds more; at worst it is empty.
            return items, index + 1 < len(days)
    return items, False
