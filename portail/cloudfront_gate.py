"""The check CloudFront makes of signed cookies with a custom policy, for `portail serve`.

Login signs the cookies in the function (chalicelib.signed_cookies); CloudFront verifies
them in production; locally portail.devserver verifies the same cookies here, so the
gate is tested, not assumed (docs/architecture.md).

`verify_signed_cookies` says yes only when:
  - `CloudFront-Policy`, `CloudFront-Signature` and `CloudFront-Key-Pair-Id` are present;
  - the key pair id is one of `public_keys` (CloudFront: the distribution's key group);
  - policy and signature decode from CloudFront's base64 (`-` `_` `~` for `+` `=` `/`);
  - the signature is RSA PKCS#1 v1.5 over the exact policy bytes, with SHA-1 (or SHA-256
    when a `CloudFront-Hash-Algorithm=SHA256` cookie says so);
  - the policy is JSON with exactly one Statement, holding a Resource and a Condition and
    nothing else; the Resource (`*`: any characters, `/` included; `?`: one character)
    matches the whole request URL, `scheme://host/path?query`, as received;
  - `DateLessThan.AWS:EpochTime` (required) is after now; `DateGreaterThan` (optional)
    is not after now; `IpAddress.AWS:SourceIp` (optional) is a CIDR block holding the
    client's address.
Anything else is a no. A policy without Resource (which CloudFront reads as "every file
of the distribution") is refused here: the portal never signs one.

Why the portal signs the exact scheme and host (`<site_url>/famille/<key>/*`,
chalicelib.signed_cookies.family_resource): a `*` standing for the host, as in
`http*://*/famille/<key>/*`, also matches `/`, so
`/famille/<other>/index.html?x=/famille/<key>/` would match the policy of `<key>` here
and on CloudFront (S3 ignores the query and serves `<other>`'s page). With the host
written out, the Resource matches only URLs whose path begins with `/famille/<key>/`.
The dev server still refuses every query string on family pages (defence in depth);
the URL it matches is built from the request's Host header (request_url), which must be
the address the cookies were signed for.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from urllib.parse import quote

from chalicelib.signed_cookies import KEY_PAIR_ID_COOKIE, POLICY_COOKIE, SIGNATURE_COOKIE

HASH_ALGORITHM_COOKIE = "CloudFront-Hash-Algorithm"

_CONDITIONS = {"DateLessThan", "DateGreaterThan", "IpAddress"}
# A Host header as a browser sends it: a name or IPv4 address, or a bracketed IPv6
# address, then an optional port. Nothing that could put a `/` into the URL.
_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def parse_cookie_header(header: str | None) -> dict[str, str]:
    """`a=1; b=2` → {"a": "1", "b": "2"}; values as sent, pieces without `=` skipped.

    When a name comes twice, the first one wins: browsers send the cookie with the
    longest Path first (RFC 6265 §5.4), the family's own.
    """
    cookies: dict[str, str] = {}
    for piece in (header or "").split(";"):
        name, equals, value = piece.partition("=")
        name = name.strip()
        if equals and name and name not in cookies:
            cookies[name] = value.strip()
    return cookies


def cloudfront_b64decode(text: str) -> bytes | None:
    """The bytes of CloudFront's base64 variant, or None when it is not one."""
    if not isinstance(text, str) or not text:
        return None
    standard = text.replace("-", "+").replace("_", "=").replace("~", "/")
    try:
        return base64.b64decode(standard.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None


@lru_cache(maxsize=64)
def _wildcard_regex(resource: str) -> re.Pattern:
    parts = []
    for char in resource:
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL)


def resource_matches(resource: str, url: str) -> bool:
    """Whether a policy's Resource (`*` any characters, `?` one) matches the whole URL."""
    return _wildcard_regex(resource).fullmatch(url) is not None


@lru_cache(maxsize=16)
def _public_key(public_key_pem: str):
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    key = load_pem_public_key(public_key_pem.encode("ascii"))
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA public key")
    return key


def _signature_holds(public_key_pem: str, signature: bytes, policy: bytes, algorithm: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        key = _public_key(public_key_pem)
    except (ValueError, TypeError, UnicodeEncodeError):
        return False
    digest = hashes.SHA256() if algorithm == "SHA256" else hashes.SHA1()
    try:
        key.verify(signature, policy, padding.PKCS1v15(), digest)
    except InvalidSignature:
        return False
    return True


def _unique_keys(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _epoch(condition: object) -> int | None:
    """`{"AWS:EpochTime": <integer>}` → the integer; anything else → None."""
    if not isinstance(condition, dict) or set(condition) != {"AWS:EpochTime"}:
        return None
    value = condition["AWS:EpochTime"]
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def _address_allowed(condition: object, client_address: str | None) -> bool:
    if not isinstance(condition, dict) or set(condition) != {"AWS:SourceIp"}:
        return False
    block = condition["AWS:SourceIp"]
    if not isinstance(block, str) or "/" not in block or client_address is None:
        return False
    try:
        network = ipaddress.ip_network(block, strict=False)
        address = ipaddress.ip_address(client_address)
    except ValueError:
        return False
    return address.version == network.version and address in network


def verify_signed_cookies(
    cookies: Mapping[str, str],
    url: str,
    now: datetime,
    public_keys: Mapping[str, str],
    client_address: str | None = None,
) -> bool:
    """Whether CloudFront would serve `url` to a viewer sending `cookies` at `now`.

    url: the request's URL as received, `scheme://host/path?query`.
    now: an aware datetime. public_keys: {key pair id: public key PEM}.
    client_address: the viewer's IP address (needed only by a policy with IpAddress).
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now : une date avec son décalage horaire est attendue")
    encoded_policy = cookies.get(POLICY_COOKIE)
    encoded_signature = cookies.get(SIGNATURE_COOKIE)
    key_pair_id = cookies.get(KEY_PAIR_ID_COOKIE)
    if not encoded_policy or not encoded_signature or not key_pair_id:
        return False
    public_key_pem = public_keys.get(key_pair_id)
    if not public_key_pem:
        return False
    algorithm = cookies.get(HASH_ALGORITHM_COOKIE, "SHA1")
    if algorithm not in ("SHA1", "SHA256"):
        return False
    policy = cloudfront_b64decode(encoded_policy)
    signature = cloudfront_b64decode(encoded_signature)
    if not policy or not signature:
        return False
    if not _signature_holds(public_key_pem, signature, policy, algorithm):
        return False

    try:
        document = json.loads(policy.decode("utf-8"), object_pairs_hook=_unique_keys)
    except (UnicodeDecodeError, ValueError):
        return False
    if not isinstance(document, dict) or set(document) != {"Statement"}:
        return False
    statements = document["Statement"]
    if not isinstance(statements, list) or len(statements) != 1:
        return False
    statement = statements[0]
    if not isinstance(statement, dict) or set(statement) != {"Resource", "Condition"}:
        return False
    resource, condition = statement["Resource"], statement["Condition"]
    if not isinstance(resource, str) or not resource_matches(resource, url):
        return False
    if not isinstance(condition, dict) or "DateLessThan" not in condition:
        return False
    if not set(condition) <= _CONDITIONS:
        return False

    moment = now.timestamp()
    date_less_than = _epoch(condition["DateLessThan"])
    if date_less_than is None or not moment < date_less_than:
        return False
    if "DateGreaterThan" in condition:
        date_greater_than = _epoch(condition["DateGreaterThan"])
        if date_greater_than is None or moment < date_greater_than:
            return False
    if "IpAddress" in condition and not _address_allowed(condition["IpAddress"], client_address):
        return False
    return True


def request_url(environ: Mapping[str, object], scheme: str | None = None) -> str | None:
    """The URL CloudFront would match for this WSGI request: `scheme://host/path?query`.

    The path and query as the client sent them (werkzeug's RAW_URI / REQUEST_URI), else
    rebuilt from PATH_INFO and QUERY_STRING. The host from the Host header. None when the
    Host header is absent or malformed, or the request target is not a path: such a
    request gets no private page.
    """
    host = environ.get("HTTP_HOST")
    if not isinstance(host, str) or not _HOST.fullmatch(host):
        return None
    scheme = scheme or str(environ.get("wsgi.url_scheme") or "http")
    target = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if isinstance(target, str) and target:
        if not target.startswith("/") or target.startswith("//"):
            return None
    else:
        path = str(environ.get("PATH_INFO") or "/")
        try:
            target = quote(path.encode("latin-1"), safe=_PATH_SAFE)
        except UnicodeEncodeError:
            return None
        query = str(environ.get("QUERY_STRING") or "")
        if query:
            target += "?" + query
    return f"{scheme}://{host}{target}"
