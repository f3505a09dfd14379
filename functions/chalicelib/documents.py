"""Documents in S3: medical certificates and invoice PDFs.

The only module that talks to S3 for documents (docs/architecture.md). It stays light: no import
beyond the standard library at module level, the S3 client is injected.

A parent never sends a file through the function: `POST /api/absences/certificate`
answers a presigned S3 POST whose policy fixes the object key, the content type and the
size (1 byte to 5 MB), so S3 itself refuses any other file. The key is
`certificats/<N° famille>/<child id>/<128 random bits, hex>.<ext>`: never guessable, and
under the family's own prefix. The certificate is recorded in the family's partition
(`CERTIFICATE#<child id>#<first date>#<id>`) as `awaited`: it excuses nothing until its
file is in the bucket and staff accepted it (chalicelib.certificates); billing then
leaves the covered absent days after the first one unbilled (docs/billing.md, absences).

Invoice PDFs are written by the invoicing run under `factures/<N° famille>/<number>.pdf`
and read back only through a presigned GET valid 5 minutes at most, which makes the
browser download `<number>.pdf` (attachment, application/pdf), after the function has
checked that the invoice is the session family's.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, date, datetime

from chalicelib.refusals import Refusal

# Content type → file extension of the stored object.
CONTENT_TYPES = {
    "application/pdf": "pdf",
    "image/jpeg": "jpg",
    "image/png": "png",
}
MAX_SIZE = 5 * 1024 * 1024  # 5 Mo
MAX_DATES = 31
UPLOAD_EXPIRES_IN = 300  # seconds: the form is used right away
# The page of the upload form without script (POST /api/absences/certificate/formulaire):
# the parent still has to find the file, or take its photo, after the page is shown.
FORM_EXPIRES_IN = 600
KEY_PREFIX = "certificats"
INVOICE_PREFIX = "factures"
DOWNLOAD_EXPIRES_IN = 300  # seconds: at most 5 minutes (the link is followed at once)
REVIEW_EXPIRES_IN = 300  # seconds: at most 5 minutes (staff open the file from the list they just opened)
SOURCES = ("parent", "staff")

BAD_FILE_MESSAGE = "Le certificat doit être un fichier PDF, JPEG ou PNG de 5 Mo au plus."
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class DocumentError(Refusal, ValueError):
    """A refusal with the HTTP contract's status, code and French message."""


# --- validation ------------------------------------------------------------------------

def parse_dates(values) -> list[date]:
    """The days a certificate covers: 1 to 31 ISO dates (AAAA-MM-JJ), sorted, once each."""
    if not isinstance(values, list) or not 1 <= len(values) <= MAX_DATES:
        raise DocumentError(400, "invalid_request",
                            f"Indiquez de 1 à {MAX_DATES} dates couvertes par le certificat (format AAAA-MM-JJ).")
    days = set()
    for value in values:
        try:
            if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
                raise ValueError(value)
            days.add(date.fromisoformat(value))
        except ValueError:
            shown = value if isinstance(value, str) else str(value)
            raise DocumentError(400, "invalid_request",
                                f"La date « {shown[:20]} » n'est pas valide : format attendu AAAA-MM-JJ.") from None
    return sorted(days)


def check_file(content_type, size, *, size_known: bool = True, message: str = BAD_FILE_MESSAGE) -> str:
    """The canonical content type of an acceptable file (a certificate's, a family's or the
    commune's document); DocumentError (`message`) otherwise. `size_known=False`: a form
    without script, chosen before the file (its size is S3's to check, by the policy's
    content-length-range)."""
    canonical = content_type.strip().lower() if isinstance(content_type, str) else ""
    if canonical not in CONTENT_TYPES:
        raise DocumentError(400, "bad_file", message)
    if size_known and (isinstance(size, bool) or not isinstance(size, int) or not 0 < size <= MAX_SIZE):
        raise DocumentError(400, "bad_file", message)
    return canonical


def certificate_key(family_number: str, child_id: str, content_type: str) -> str:
    return f"{KEY_PREFIX}/{family_number}/{child_id}/{secrets.token_hex(16)}.{CONTENT_TYPES[content_type]}"


# --- items -----------------------------------------------------------------------------

def _iso_dates(dates) -> list[str]:
    return [d.isoformat() if isinstance(d, date) else str(d) for d in dates]


def certificate_item(family_number: str, child_id: str, dates, key: str, source: str, now: datetime,
                     content_type: str | None = None, identifier: str | None = None) -> dict:
    """The CERTIFICATE item of a family's partition (docs/data-model.md). A parent's is
    `awaited` (the upload form was handed out, no file yet) and on the staff's open index;
    staff record a certificate received on paper, `accepted` at once
    (chalicelib.certificates)."""
    from chalicelib import certificates

    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}")
    days = _iso_dates(dates)
    identifier = identifier or certificates.new_id()
    state = certificates.AWAITED if source == "parent" else certificates.ACCEPTED
    item = {
        "pk": f"FAMILY#{family_number}",
        "sk": f"CERTIFICATE#{child_id}#{days[0]}#{identifier}",
        "kind": "certificate",
        "certificate_id": identifier,
        "child_id": child_id,
        "dates": days,
        "document_key": key or None,
        "content_type": content_type,
        "recorded_at": now.astimezone(UTC).isoformat(),
        "recorded_by": source,
        "state": state,
    }
    if state in certificates.OPEN_STATES:
        item.update(certificates.open_index_keys(family_number, child_id, identifier, now))
    return {name: value for name, value in item.items() if value is not None}


def certificate_request_item(family_number: str, child_id: str, dates, responsable_rank: int,
                             now: datetime, certificate: dict | None = None) -> dict:
    """The submission as the « liste des demandes » shows it: one line per covered day.
    The page shows the certificate's current state (`certificate_id` links them), not
    the state at submission."""
    request_id = secrets.token_hex(8)
    instant = now.astimezone(UTC).isoformat()
    state = (certificate or {}).get("state", "awaited")
    item = {
        "pk": f"FAMILY#{family_number}",
        "sk": f"REQUEST#{instant}#{request_id}",
        "kind": "request",
        "request_id": request_id,
        "submitted_at": instant,
        "child_id": child_id,
        "responsable_rank": responsable_rank,
        "channel": "online",
        "type": "certificate",
        "items": [{"date": day, "action": "certificate", "status": state} for day in _iso_dates(dates)],
    }
    if certificate:
        item["certificate_id"] = certificate["certificate_id"]
    return item


# --- S3 --------------------------------------------------------------------------------

class Documents:
    """Presigned uploads of the documents bucket; `s3_client` is a boto3 S3 client."""

    def __init__(self, s3_client, bucket: str):
        self.s3 = s3_client
        self.bucket = bucket

    def certificate_upload(self, family_number: str, child_id: str, dates, content_type, size,
                           now: datetime, *, redirect: str | None = None, size_known: bool = True,
                           expires_in: int = UPLOAD_EXPIRES_IN) -> dict:
        """A presigned POST for one certificate file. S3 enforces the policy: this key only,
        this content type only, 1 byte to 5 MB, for `expires_in` seconds. `redirect`: the
        address S3 sends the browser to after a form post without script
        (`success_action_redirect`, fixed by the policy too); without it S3 answers 204 to
        the script's upload."""
        canonical = check_file(content_type, size, size_known=size_known)
        return self.presigned_upload(certificate_key(family_number, child_id, canonical), canonical,
                                     redirect=redirect, expires_in=expires_in)

    def presigned_upload(self, key: str, canonical: str, *, redirect: str | None = None,
                         expires_in: int = UPLOAD_EXPIRES_IN) -> dict:
        """The presigned POST of one file at `key` (its type already checked: `check_file`),
        shared by certificates, the families' documents and the commune's: this key, this
        content type, 1 byte to 5 MB, for `expires_in` seconds; `redirect` as above."""
        fields = {"Content-Type": canonical}
        conditions: list = [{"Content-Type": canonical}, ["content-length-range", 1, MAX_SIZE]]
        if redirect:
            fields["success_action_redirect"] = redirect
            conditions.append({"success_action_redirect": redirect})
        # botocore adds the bucket and key conditions itself (its documentation asks not
        # to repeat them), and the key field.
        post = self.s3.generate_presigned_post(
            Bucket=self.bucket, Key=key, Fields=fields, Conditions=conditions, ExpiresIn=expires_in)
        return {"url": post["url"], "fields": post["fields"], "key": key, "expires_in": expires_in}

    def has_object(self, key: str) -> bool:
        """Whether the object is in the bucket (a HEAD: its content is not read)."""
        from botocore.exceptions import ClientError

        try:
            self.s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def certificate_download_url(self, key: str) -> str:
        """A presigned GET of a certificate's file (or a family's document) for staff:
        valid REVIEW_EXPIRES_IN seconds, downloaded as a file (never rendered by the
        browser as a page)."""
        filename = key.rsplit("/", 1)[-1]
        return self.s3.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": key,
                    "ResponseContentDisposition": f'attachment; filename="{filename}"'},
            ExpiresIn=REVIEW_EXPIRES_IN,
        )

    def public_download_url(self, key: str, filename: str, content_type: str) -> str:
        """A presigned GET of one of the commune's published documents (a menu, the
        règlement): shown in the browser (inline, its own type), valid 5 minutes."""
        return self.s3.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": key, "ResponseContentType": content_type,
                    "ResponseContentDisposition": f'inline; filename="{filename}"'},
            ExpiresIn=DOWNLOAD_EXPIRES_IN,
        )

    def delete_object(self, key: str) -> None:
        """A file withdrawn (a commune's document taken off the site)."""
        self.s3.delete_object(Bucket=self.bucket, Key=key)

    def put_invoice_pdf(self, key: str, pdf: bytes) -> None:
        filename = key.rsplit("/", 1)[-1]
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=pdf, ContentType="application/pdf",
                           ContentDisposition=f'attachment; filename="{filename}"')

    def invoice_download_url(self, key: str) -> str:
        """A presigned GET of an invoice PDF: valid DOWNLOAD_EXPIRES_IN seconds, and S3
        answers it as a download of `<number>.pdf` in application/pdf."""
        filename = key.rsplit("/", 1)[-1]
        return self.s3.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": key,
                    "ResponseContentDisposition": f'attachment; filename="{filename}"',
                    "ResponseContentType": "application/pdf"},
            ExpiresIn=DOWNLOAD_EXPIRES_IN,
        )

    def record_certificate_item(self, family_number: str, child_id: str, dates, key: str, source: str,
                                now: datetime, content_type: str | None = None,
                                identifier: str | None = None) -> dict:
        return certificate_item(family_number, child_id, dates, key, source, now, content_type, identifier)


def invoice_key(family_number: str, number: str) -> str:
    """Where an invoice's PDF is kept in the documents bucket."""
    return f"{INVOICE_PREFIX}/{family_number}/{number}.pdf"


def record_staff_certificate(storage, family_number: str, child_id: str, dates, now: datetime,
                             document_key: str = "", actor: str = "staff") -> dict:
    """Staff record a certificate they received (paper, mail): the CERTIFICATE item with
    `recorded_by="staff"`, accepted at once, its request line and an audit entry, in one write. `dates` are ISO strings or
    dates (1 to 31); the child must belong to the family. Returns the item."""
    days = parse_dates(_iso_dates(dates))
    if storage.get(f"FAMILY#{family_number}", f"CHILD#{child_id}") is None:
        raise DocumentError(404, "not_found", "Enfant inconnu.")
    item = certificate_item(family_number, child_id, days, document_key, "staff", now)
    request = certificate_request_item(family_number, child_id, days, 1, now, item)
    request["channel"] = "staff"  # recorded by the service, shown in the family's list of requests
    storage.batch_write([item, request, storage.audit_item(now, actor, "certificate_recorded", {
        "family_number": family_number, "child_id": child_id, "dates": item["dates"],
        "document_key": document_key or None})])
    return item
