"""A family's personal data: the copy it may ask for (RGPD right of access, article 15)
and the purge of what is past the retention periods (`[retention]` of commune.toml,
stated to families by content/pages/donnees-personnelles.md). docs/family-data.md.

- `export_family`: one ZIP archive: `famille.json` (every item of the family's
  partition, its logins without password or session hashes, its sessions' dates, its
  audit entries of the audit retention window), the invoice PDFs (`pdf_key`) and the
  certificate files (`document_key`), and a French `LISEZMOI.txt`. Only keys under the
  family's own prefixes are copied. Recorded in the audit trail (what, never the data).
- `plan_purge` decides (pure: the items and the clock in, the keys out); `purge` reads
  the table once (Scan), deletes the files first, then the items, and records counts.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from chalicelib import storage as st
from chalicelib.calendar_rules import (
    school_year,
    school_year_first_day,
    school_year_last_day,
    shift_months,
    shift_years,
)
from chalicelib.config import Commune, Retention
from chalicelib.formatting import short_date
from chalicelib.table import bucket_name

INVOICE_PREFIX = "factures"
CERTIFICATE_PREFIX = "certificats"
FAMILY_DOCUMENT_PREFIX = "pieces"  # chalicelib.family_documents.KEY_PREFIX
ACCOUNTING_PREFIXES = ("INVOICE#", "OPERATION#", "PAYMENT#")
# Never copied into an archive: secrets of the accounts, hashed or not.
SECRET_ATTRIBUTES = ("password_hash", "sessions")


class FamilyDataError(Exception):
    """An export refused: one French sentence, nothing written."""


# --- durations, as the « données personnelles » page writes them -------------------------------

def years_fr(count: int) -> str:
    return f"{count} an{'s' if count > 1 else ''}"


def retention_phrases(retention: Retention) -> dict[str, str]:
    """{key of [retention]: the words the page must use for its duration}."""
    years = retention.bookings_school_years
    school = ("l'année scolaire en cours" if years == 1 else
              "l'année scolaire en cours et la précédente" if years == 2 else
              f"l'année scolaire en cours et les {years - 1} précédentes")
    certificates = ("jusqu'à la fin de l'année scolaire de l'absence" if retention.certificates_years == 0 else
                    f"jusqu'à la fin de l'année scolaire de l'absence, puis {years_fr(retention.certificates_years)}")
    return {
        "bookings_school_years": school,
        "accounting_years": f"{years_fr(retention.accounting_years)} après la fin de l'année civile",
        "messages_years": f"{years_fr(retention.messages_years)} après leur envoi",
        "certificates_years": certificates,
        "family_documents_years": ("jusqu'à la fin de leur validité" if retention.family_documents_years == 0 else
                                   f"{years_fr(retention.family_documents_years)} après la fin de leur validité"),
        "audit_months": f"{retention.audit_months} mois",
        "inactive_family_years": f"{years_fr(retention.inactive_family_years)} après la dernière activité",
    }


# The row of the page's table of durations that states each one (its first cell).
RETENTION_ROWS = {
    "bookings_school_years": "Réservations, absences et demandes",
    "accounting_years": "Factures, règlements et relevé de compte",
    "messages_years": "Messages",
    "certificates_years": "Certificats médicaux",
    "family_documents_years": "Documents que vous fournissez",
    "audit_months": "Journal des connexions et des actions",
    "inactive_family_years": "Compte d'une famille sans activité",
}


# --- dates ---------------------------------------------------------------------------------------

def _instant(value) -> datetime | None:
    if not value:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _day(value) -> date | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


# --- export --------------------------------------------------------------------------------------

def _plain(value):
    """A stored value as JSON: Decimal amounts as exact strings, whole numbers as ints."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(_plain(v) for v in value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def _own_key(key: str, prefix: str, family_number: str) -> bool:
    """A document key under this family's own folder: nothing else is ever copied."""
    return key.startswith(f"{prefix}/{family_number}/") and ".." not in key.split("/")


@dataclass
class ExportReport:
    path: Path
    items: int
    files: int
    audit_entries: int
    missing: list[str] = field(default_factory=list)


def audit_entries(storage: st.Storage, family_number: str, logins: set[str], today: date,
                  retention: Retention) -> list[dict]:
    """The audit entries about the family still kept: by its logins (their logins,
    changes, uploads) or naming it (staff decisions, messages). The trail is filed by
    day, not by family: one Query per day of the audit window (366 for 12 months)."""
    found = []
    day = shift_months(today, -retention.audit_months)
    while day <= today:
        for entry in storage.audit_entries(day):
            details = entry.get("details") or {}
            if (entry.get("actor") in logins or details.get("family_number") == family_number
                    or family_number in (details.get("families") or [])):
                found.append(entry)
        day += timedelta(days=1)
    return found


def collect(storage: st.Storage, commune: Commune, family_number: str, now: datetime) -> tuple[dict, dict[str, str]]:
    """(the content of famille.json, {name in the archive: document key})."""
    items = storage.query_partition(st.family_pk(family_number))
    if not any(i["sk"] == st.PROFILE for i in items):
        raise FamilyDataError(f"Famille {family_number} inconnue : aucune archive n'est écrite.")
    logins = {i["login"] for i in items if i["sk"].startswith("RESPONSABLE#") and i.get("login")}
    # Failed-login counters are not copied: keyed by a keyed hash of the login, kept a
    # day at most, and every failure they count is in the journal below.
    login_keys = [(st.login_pk(login), st.LOGIN) for login in sorted(logins)]
    found = storage.batch_get(login_keys) if login_keys else {}
    login_items = [found[k] for k in login_keys if k in found]
    session_hashes = sorted({h for i in login_items if i["sk"] == st.LOGIN for h in i.get("sessions", ())})
    sessions = storage.batch_get([(st.session_pk(h), st.SESSION) for h in session_hashes]) if session_hashes else {}
    today = now.astimezone(commune.tz).date()
    journal = audit_entries(storage, family_number, logins, today, commune.retention)

    documents: dict[str, str] = {}
    for item in items:
        key = item.get("pdf_key")
        if key and _own_key(key, INVOICE_PREFIX, family_number):
            documents[f"factures/{key.rsplit('/', 1)[-1]}"] = key
        key = item.get("document_key")
        if key and _own_key(key, CERTIFICATE_PREFIX, family_number):
            documents["certificats/" + key.removeprefix(f"{CERTIFICATE_PREFIX}/{family_number}/")] = key
        if key and _own_key(key, FAMILY_DOCUMENT_PREFIX, family_number):
            documents["documents/" + key.removeprefix(f"{FAMILY_DOCUMENT_PREFIX}/{family_number}/")] = key
    data = {
        "famille": family_number,
        "exporte_le": now.astimezone(UTC).isoformat(),
        "elements": [_plain(i) for i in items],
        "identifiants": [_plain({k: v for k, v in i.items() if k not in SECRET_ATTRIBUTES}) for i in login_items],
        # The session's key is the hash of its token: left out, its dates kept.
        "sessions": [_plain({k: v for k, v in s.items() if k not in ("pk", "sk")}) for s in sessions.values()],
        "journal": [_plain(e) for e in journal],
        "fichiers": sorted(documents),
    }
    return data, documents


README = """Vos données personnelles au Portail Famille de {commune}
(copie remise le {day}, famille n° {number})

famille.json contient :
- « elements » : tout ce que le portail garde de votre famille : le dossier de la
  famille (PROFILE), les responsables (RESPONSABLE#), les enfants (CHILD#), les jours
  réservés (DAY#), les demandes (REQUEST#), les factures (INVOICE#), les opérations du
  relevé de compte (OPERATION#), les règlements (PAYMENT#), les messages (MESSAGE#), les
  certificats médicaux enregistrés (CERTIFICATE#), et l'index de recherche (SEARCH# :
  vos noms, identifiants et adresses électroniques écrits sans accents ni majuscules,
  pour que le service enfance retrouve votre dossier) ;
- « identifiants » : vos identifiants de connexion (sans les mots de passe, que le
  portail ne connaît pas : il n'en garde qu'une empreinte, qui n'est pas copiée) ;
- « sessions » : les dates de vos connexions encore ouvertes ;
- « journal » : les entrées du journal des connexions et des actions qui vous
  concernent (conservées {audit}) ;
- « fichiers » : la liste des fichiers joints.

Les dossiers factures/, certificats/ et documents/ contiennent les factures en PDF,
les certificats médicaux et les documents (attestations, carnet de vaccinations…) que
vous avez transmis.

Les montants sont en euros. Les dates sont écrites AAAA-MM-JJ, les instants en temps
universel (UTC). Les durées de conservation et vos droits sont expliqués sur la page
« Données personnelles » du portail : {url}/donnees-personnelles/
"""


def export_family(storage: st.Storage, s3_client, commune: Commune, family_number: str, now: datetime,
                  output: Path, documents_bucket: str | None = None, actor: str = "staff") -> ExportReport:
    """Writes the family's archive to `output` (atomically, readable by its owner only)
    and records the export in the audit trail."""
    data, documents = collect(storage, commune, family_number, now)
    bucket = documents_bucket or bucket_name("documents")
    files, missing = {}, []
    for name, key in sorted(documents.items()):
        try:
            files[name] = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except s3_client.exceptions.NoSuchKey:
            missing.append(key)
    data["fichiers_absents"] = missing
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".famille-", suffix=".zip", dir=output.parent)
    try:
        with os.fdopen(handle, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("famille.json", json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False))
            archive.writestr("LISEZMOI.txt", README.format(
                commune=commune.commune.name, day=short_date(now.astimezone(commune.tz)),
                number=family_number, audit=f"{commune.retention.audit_months} mois",
                url=commune.commune.site_url.rstrip("/")))
            for name, content in files.items():
                archive.writestr(name, content)
        os.chmod(temporary, 0o600)
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    storage.audit(now, actor, "family_export", {
        "family_number": family_number, "items": len(data["elements"]), "files": len(files),
        "audit_entries": len(data["journal"]), "missing_files": len(missing)})
    return ExportReport(output, len(data["elements"]), len(files), len(data["journal"]), missing)


# --- purge ---------------------------------------------------------------------------------------

CATEGORY_LABELS = {
    "days": "jours réservés",
    "requests": "demandes",
    "service_days": "compteurs et listes d'attente",
    "invoices": "factures",
    "operations": "opérations du relevé",
    "payments": "règlements",
    "messages": "messages",
    "certificates": "certificats médicaux",
    "family_documents": "documents fournis par les familles",
    "audit": "entrées du journal",
    "families": "familles sans activité (dossier, responsables, enfants, identifiants)",
    "family_items": "autres éléments de ces familles",
    "expired": "éléments expirés (sessions, jetons, compteurs de tentatives)",
}


@dataclass
class PurgePlan:
    deletes: list[tuple[str, str]] = field(default_factory=list)
    documents: dict[str, tuple[str, str]] = field(default_factory=dict)  # file key → the item pointing to it
    page_keys: list[str] = field(default_factory=list)  # famille/<key>/ folders to empty
    feeds: list[str] = field(default_factory=list)  # agenda/<key>.ics: the responsables' calendar feeds
    counts: Counter = field(default_factory=Counter)
    families_removed: list[str] = field(default_factory=list)
    cutoffs: dict = field(default_factory=dict)

    def delete(self, item: dict, category: str) -> None:
        key = (item["pk"], item["sk"])
        if key in self._seen:
            return
        self._seen.add(key)
        self.deletes.append(key)
        self.counts[category] += 1
        for attribute in ("pdf_key", "document_key"):
            if item.get(attribute):
                self.documents[item[attribute]] = key

    def __post_init__(self):
        self._seen: set[tuple[str, str]] = set()

    def summary_lines(self) -> list[str]:
        lines = [f"{CATEGORY_LABELS[c]} : {self.counts.get(c, 0)}" for c in CATEGORY_LABELS]
        if self.documents:
            lines.append(f"fichiers (factures PDF, certificats, documents fournis) : {len(self.documents)}")
        return lines


def _cutoffs(commune: Commune, now: datetime) -> dict:
    retention = commune.retention
    today = now.astimezone(commune.tz).date()
    return {
        # Kept: booked days and requests from the first day of this school year's
        # (bookings_school_years - 1) predecessors.
        "bookings_from": school_year_first_day(
            school_year(today, commune.year_start) - (retention.bookings_school_years - 1), commune.year_start),
        # Kept: accounting items of this civil year and the `accounting_years` before it.
        "accounting_from_year": today.year - retention.accounting_years,
        # Kept: messages sent at most `messages_years` before this very instant.
        "messages_from": datetime.combine(shift_years(now.date(), -retention.messages_years), now.timetz()),
        "audit_from": shift_months(today, -retention.audit_months),
        "active_from": shift_years(today, -retention.inactive_family_years),
        "today": today,
    }


def certificate_end(item: dict, commune: Commune) -> date:
    """The last day a certificate is kept: the end of the school year of the last day it
    covers, plus `certificates_years`."""
    last = max(_day(d) for d in item.get("dates") or [item["sk"].split("#")[2]])
    return school_year_last_day(school_year(last, commune.year_start) + commune.retention.certificates_years,
                                commune.year_start)


def family_document_end(item: dict, commune: Commune) -> date:
    """The last day a family's document is kept: `family_documents_years` after the end of
    its validity; a refused one, or one whose file never came, after the day it was sent."""
    end = _day(item.get("valid_until")) or _day(item.get("recorded_at")) or date.min
    return shift_years(end, commune.retention.family_documents_years) if end != date.min else end


def _accounting_day(item: dict) -> date | None:
    return _day(item.get("invoice_date") or item.get("date") or item.get("period_end"))


def last_activity(items: list[dict], logins: list[dict]) -> date | None:
    """The last day the family did something (or something was done for it): a booked
    day (past or to come), a request, an invoice, a payment, a message read, a
    certificate, a password chosen. A message only sent is not activity: a message to
    every family must not keep a family that has left."""
    days = []
    for item in items:
        sk = item["sk"]
        if sk.startswith("DAY#"):
            days.append(_day(sk.split("#")[2]))
        elif sk.startswith("REQUEST#"):
            days.append(_day(item.get("submitted_at") or sk.split("#")[1]))
        elif sk.startswith(ACCOUNTING_PREFIXES):
            days.append(_accounting_day(item))
        elif sk.startswith("MESSAGE#"):
            days.append(_day(item.get("read_at")))
        elif sk.startswith(("CERTIFICATE#", "FAMILYDOC#")):
            days.append(_day(item.get("recorded_at")))
    days += [_day(i.get("password_changed_at")) for i in logins]
    days = [d for d in days if d]
    return max(days) if days else None


def plan_purge(items: list[dict], commune: Commune, now: datetime) -> PurgePlan:
    """What is past its retention period at `now`, from every item of the table. Pure."""
    cut = _cutoffs(commune, now)
    plan = PurgePlan(cutoffs={k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in cut.items()})
    epoch = int(now.timestamp())
    by_family: dict[str, list[dict]] = {}
    logins_of: dict[str, list[dict]] = {}
    sessions_of: dict[str, list[dict]] = {}
    for item in items:
        pk, sk = item["pk"], item["sk"]
        if pk.startswith("FAMILY#"):
            by_family.setdefault(pk.removeprefix("FAMILY#"), []).append(item)
        elif pk.startswith("LOGIN#") and sk == st.LOGIN:
            logins_of.setdefault(str(item.get("family_number")), []).append(item)
        elif pk.startswith("SESSION#"):
            sessions_of.setdefault(str(item.get("family_number")), []).append(item)
    # A staff sending (its head, text and recipients) goes with its families' messages.
    sent_at = {i["pk"]: i.get("sent_at") for i in items if i["pk"].startswith("SENT#") and i["sk"] == "SENT"}

    for item in items:
        pk, sk = item["pk"], item["sk"]
        expires = item.get("expires_at")
        if pk.startswith("FAMILY#"):
            if sk.startswith("DAY#"):
                if _day(sk.split("#")[2]) < cut["bookings_from"]:
                    plan.delete(item, "days")
            elif sk.startswith("REQUEST#"):
                if _day(_instant(item.get("submitted_at") or sk.split("#")[1]).astimezone(commune.tz)) \
                        < cut["bookings_from"]:
                    plan.delete(item, "requests")
            elif sk.startswith(ACCOUNTING_PREFIXES):
                day = _accounting_day(item)
                if day and day.year < cut["accounting_from_year"]:
                    category = {"INVOICE#": "invoices", "OPERATION#": "operations", "PAYMENT#": "payments"}
                    plan.delete(item, category[sk.split("#")[0] + "#"])
            elif sk.startswith("MESSAGE#"):
                if _instant(item.get("sent_at") or sk.split("#")[1]) < cut["messages_from"]:
                    plan.delete(item, "messages")
            elif sk.startswith("CERTIFICATE#"):
                if certificate_end(item, commune) < cut["today"]:
                    plan.delete(item, "certificates")
            elif sk.startswith("FAMILYDOC#"):
                if family_document_end(item, commune) < cut["today"]:
                    plan.delete(item, "family_documents")
            elif expires is not None and int(expires) <= epoch:
                plan.delete(item, "expired")
        elif pk.startswith("SERVICEDAY#"):
            if _day(pk.split("#")[2]) < cut["bookings_from"]:
                plan.delete(item, "service_days")
        elif pk.startswith("AUDIT#"):
            if _day(pk.removeprefix("AUDIT#")) < cut["audit_from"]:
                plan.delete(item, "audit")
        elif pk.startswith("SENT#"):
            if sent_at.get(pk) and _instant(sent_at[pk]) < cut["messages_from"]:
                plan.delete(item, "messages")
        elif expires is not None and int(expires) <= epoch:
            plan.delete(item, "expired")

    for number, family_items in sorted(by_family.items()):
        profile = next((i for i in family_items if i["sk"] == st.PROFILE), None)
        if profile is None:
            continue  # only accounting items left: they follow their own period
        logins = logins_of.get(number, [])
        last = last_activity(family_items, logins)
        if last is None or last >= cut["active_from"]:
            continue  # a family with nothing dated yet (just imported) is never taken for gone
        unpaid = any(i["sk"].startswith("INVOICE#") and (i.get("paid_amount") or 0) < (i.get("total") or 0)
                     and (i["pk"], i["sk"]) not in plan._seen for i in family_items)
        if unpaid:
            continue  # an invoice still to pay keeps the family's file
        plan.families_removed.append(number)
        plan.counts["families"] += 1
        if profile.get("page_key"):
            plan.page_keys.append(profile["page_key"])
        # A second responsable's own folder of pages (docs/family-pages.md, « Two responsables »).
        plan.page_keys += [i["page_key"] for i in family_items
                           if i["sk"].startswith("RESPONSABLE#") and i.get("page_key")]
        plan.feeds += [f"agenda/{i['feed_key']}.ics" for i in family_items
                       if i["sk"].startswith("AGENDA#") and i.get("feed_key")]
        for item in family_items:
            if item["sk"].startswith(ACCOUNTING_PREFIXES):
                continue  # invoices stay for the accounting period
            plan.delete(item, "family_items")
        for item in logins:  # its counters (THROTTLE#<digest>) expire within a day
            plan.delete(item, "family_items")
        for item in sessions_of.get(number, []):
            plan.delete(item, "family_items")
    return plan


def _delete_objects(s3_client, bucket: str, keys: list[str]) -> list[str]:
    """Deletes the keys (1,000 per request); returns those S3 refused."""
    refused = []
    for start in range(0, len(keys), 1000):
        chunk = keys[start:start + 1000]
        answer = s3_client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True})
        refused += [e["Key"] for e in answer.get("Errors", [])]
    return refused


def purge(storage: st.Storage, s3_client, commune: Commune, now: datetime, dry_run: bool = False,
          actor: str = "operator") -> PurgePlan:
    """Removes what `plan_purge` finds (one Scan of the table). Files go first: an item
    is deleted only once its file is, so a failure leaves something the next run finds
    again, never a file nothing points to."""
    plan = plan_purge(storage.all_items(), commune, now)
    if dry_run:
        return plan
    refused = set(_delete_objects(s3_client, bucket_name("documents"), sorted(plan.documents))) if plan.documents else set()
    if refused:
        kept = {plan.documents[key] for key in refused}
        plan.deletes = [key for key in plan.deletes if key not in kept]
    pages = bucket_name("pages")
    for page_key in plan.page_keys:
        listed = s3_client.list_objects_v2(Bucket=pages, Prefix=f"famille/{page_key}/")
        keys = [o["Key"] for o in listed.get("Contents", [])]
        while listed.get("IsTruncated"):
            listed = s3_client.list_objects_v2(Bucket=pages, Prefix=f"famille/{page_key}/",
                                               ContinuationToken=listed["NextContinuationToken"])
            keys += [o["Key"] for o in listed.get("Contents", [])]
        if keys:
            _delete_objects(s3_client, pages, keys)
    if plan.feeds:  # the feeds live outside the family's folder
        _delete_objects(s3_client, pages, plan.feeds)
    # The audit entry says how much and up to when, never what.
    audit = storage.audit_item(now, actor, "retention_purge", {
        "counts": dict(plan.counts), "files": len(plan.documents) - len(refused),
        "files_kept_after_error": len(refused), "cutoffs": plan.cutoffs})
    storage.batch_write([audit], plan.deletes)
    return plan
