"""S3's checks of a browser upload (POST Object with a SigV4 POST policy), for the
embedded AWS: moto stores whatever is posted, S3 does not. The portal's certificate
upload (chalicelib.documents) relies on the policy to fix the key, the content type and
the size: the local portal must refuse what S3 refuses, so its tests prove it.

What S3 checks, in the order it reports them
(https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html):
one file and a `key` field; the policy and its SigV4 signature (`x-amz-algorithm`,
`x-amz-credential`, `x-amz-date`, `x-amz-signature`); the policy's `expiration`
against the real clock (botocore signs with it); every condition (exact match `{"f":
"v"}` or `["eq", "$f", "v"]`, `["starts-with", "$f", "prefix"]`,
`["content-length-range", min, max]` on the file's size, `{"bucket": ...}` on the URL's
bucket); and every form field but `x-amz-signature`, `file`, `policy` and `x-ignore-*`
covered by a condition. Field names are compared without case, values exactly.

Refusals are S3's own codes, statuses and (English) messages.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

ALGORITHM = "AWS4-HMAC-SHA256"
EXEMPT_FIELDS = ("x-amz-signature", "file", "policy")
_EXPIRATION = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,6})?Z")


@dataclass
class PolicyRefused(Exception):
    """S3's answer to a refused upload: status, code, message and extra XML elements."""

    status: int
    code: str
    message: str
    extra: tuple[tuple[str, str], ...] = ()

    def xml(self) -> bytes:
        from xml.sax.saxutils import escape

        extra = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in self.extra)
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{self.code}</Code>'
                f"<Message>{escape(self.message)}</Message>{extra}</Error>").encode()


def _denied(detail: str) -> PolicyRefused:
    return PolicyRefused(403, "AccessDenied", f"Invalid according to Policy: {detail}")


def _invalid_policy(detail: str) -> PolicyRefused:
    return PolicyRefused(400, "InvalidPolicyDocument", f"Invalid Policy: {detail}")


def _missing(field: str) -> PolicyRefused:
    return PolicyRefused(400, "InvalidArgument", f"Bucket POST must contain a field named '{field}'.  If it is "
                                                 "specified, please check the order of the fields.")


def signing_key(secret: str, day: str, region: str, service: str) -> bytes:
    key = ("AWS4" + secret).encode()
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def signature(secret: str, credential: str, policy_b64: str) -> str:
    """The SigV4 signature of a POST policy: HMAC-SHA256 of the base64 policy under the
    key derived from the credential's scope (day, region, service)."""
    _, day, region, service, _ = credential.split("/")
    return hmac.new(signing_key(secret, day, region, service), policy_b64.encode(), hashlib.sha256).hexdigest()


def _expiration(text) -> datetime:
    match = _EXPIRATION.fullmatch(text) if isinstance(text, str) else None
    if not match:
        raise _invalid_policy("Invalid 'expiration' value: " + json.dumps(text))
    return datetime.fromisoformat(match.group(1)).replace(tzinfo=UTC)


def _field_name(text) -> str:
    if not isinstance(text, str) or not text.startswith("$"):
        raise _invalid_policy("Invalid Condition: field names must begin with '$': " + json.dumps(text))
    return text[1:].lower()


def _size(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).lstrip("-").isdigit():
        raise _invalid_policy("Invalid content-length-range: " + json.dumps(value))
    return int(value)


def check_upload(fields: list[tuple[str, str]], file_size: int | None, bucket: str,
                 credentials: dict[str, str], now: datetime) -> None:
    """Raises PolicyRefused unless S3 would store this POST upload. `fields` are the form's
    fields in order (not the file), `file_size` the file part's size (None: no file),
    `credentials` the access key ids the server knows with their secrets, `now` the real
    clock."""
    names = [name.lower() for name, _ in fields]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise PolicyRefused(400, "InvalidArgument", f"POST form fields may be specified only once: {repeated[0]}")
    form = {name.lower(): value for name, value in fields}
    if file_size is None:
        raise PolicyRefused(400, "InvalidArgument", "POST requires exactly one file upload per request.")
    if "key" not in form:
        raise _missing("key")
    if "policy" not in form:
        # No policy: an anonymous upload, refused by the portal's private buckets.
        raise PolicyRefused(403, "AccessDenied", "Access Denied")
    for name in ("x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature"):
        if name not in form:
            raise _missing(name)
    if form["x-amz-algorithm"] != ALGORITHM:
        raise PolicyRefused(400, "InvalidArgument", "Only AWS4-HMAC-SHA256 is supported for POST policies.")
    credential = form["x-amz-credential"]
    parts = credential.split("/")
    if len(parts) != 5 or parts[3] != "s3" or parts[4] != "aws4_request" or not re.fullmatch(r"\d{8}", parts[1]):
        raise PolicyRefused(400, "InvalidArgument", f"Invalid credential: {credential}")
    secret = credentials.get(parts[0])
    if secret is None:
        raise PolicyRefused(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our "
                                                       "records.", (("AWSAccessKeyId", parts[0]),))
    if not hmac.compare_digest(signature(secret, credential, form["policy"]), form["x-amz-signature"]):
        raise PolicyRefused(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the "
                                                          "signature you provided. Check your key and signing method.")
    try:
        policy = json.loads(base64.b64decode(form["policy"], validate=True))
    except (binascii.Error, ValueError):
        raise _invalid_policy("Invalid JSON.") from None
    if not isinstance(policy, dict) or "expiration" not in policy:
        raise _invalid_policy("Policy missing expiration.")
    conditions = policy.get("conditions")
    if not isinstance(conditions, list):
        raise _invalid_policy("Policy missing conditions.")
    if now >= _expiration(policy["expiration"]):
        raise _denied("Policy expired.")

    covered = set()
    for condition in conditions:
        if isinstance(condition, dict) and len(condition) == 1:
            [(name, expected)] = condition.items()
            operator, field = "eq", name.lower()
        elif isinstance(condition, list) and len(condition) == 3 and isinstance(condition[0], str):
            operator = condition[0].lower()
            if operator == "content-length-range":
                low, high = _size(condition[1]), _size(condition[2])
                if file_size > high:
                    raise PolicyRefused(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size",
                                        (("ProposedSize", str(file_size)), ("MaxSizeAllowed", str(high))))
                if file_size < low:
                    raise PolicyRefused(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum "
                                                               "allowed size",
                                        (("ProposedSize", str(file_size)), ("MinSizeAllowed", str(low))))
                continue
            field, expected = _field_name(condition[1]), condition[2]
        else:
            raise _invalid_policy("Invalid Condition: " + json.dumps(condition))
        if not isinstance(expected, str):
            raise _invalid_policy("Invalid Condition: " + json.dumps(condition))
        actual = bucket if field == "bucket" else form.get(field, "")
        covered.add(field)
        if operator == "eq":
            ok = actual == expected
        elif operator == "starts-with":
            # A Content-Type may list several types: each must start with the prefix.
            values = actual.split(",") if field == "content-type" else [actual]
            ok = all(v.strip().startswith(expected) for v in values)
        else:
            raise _invalid_policy("Invalid Condition: " + json.dumps(condition))
        if not ok:
            shown = "$" + (name if isinstance(condition, dict) else condition[1].lstrip("$"))
            raise _denied(f'Policy Condition failed: ["{operator}", "{shown}", {json.dumps(expected)}]')

    for name in names:
        if name in EXEMPT_FIELDS or name.startswith("x-ignore-") or name in covered:
            continue
        raise _denied(f"Extra input fields: {name}")
