"""CloudFront signed cookies: a family's access to its private pages (docs/architecture.md).

Login answers with three cookies, `CloudFront-Policy`, `CloudFront-Signature` and
`CloudFront-Key-Pair-Id`. Their custom policy covers only
`<site_url>/famille/<page_key>/*`, the pages of that one family at the portal's public
address, and ends (`DateLessThan`) PAGE_COOKIE_LIFETIME (5 minutes) after it was signed,
or with the session when that comes first (page_cookies_end). CloudFront checks them in
production; `portail serve` checks the very same cookies with `portail.cloudfront_gate`.
Logout clears them (`clear_cookie_headers`).

Why 5 minutes: the family pages are static files, CloudFront serves them without asking
the function, so a logout, a password change or a reset cannot recall cookies already
handed out. A short policy bounds how long cookies saved before such an event still open
pages; while the session lives, the family pages renew them (`/api/session/renew`,
docs/accounts.md). The renewal's way back to a page is return_path: a path of the
family's own pages, or nothing.

`<site_url>` is the exact scheme and host (and port) the browser uses,
`https://portail.example.fr` in production, `http://127.0.0.1:<port>` under
`portail serve`, never a wildcard: in a Resource, `*` matches any characters, `/`
included, so the former `http*://*/famille/<page_key>/*` also matched
`https://<host>/famille/<other key>/index.html?x=/famille/<page_key>/`, another
family's page (S3 ignores the query string). With the host written out, the Resource
can only match URLs whose path begins with `/famille/<page_key>/`. The cookies open
nothing on any other address (the distribution's `*.cloudfront.net` name included).

`<page_key>` is the family's random page key: 32 lowercase hex characters (128 bits),
never the family number.

The policy is signed with the stage's RSA private key: RSA, PKCS#1 v1.5 over SHA-1, as
CloudFront requires, with the pure-Python `rsa` package (no compiled code in the
function's package; imported only when a cookie is signed, so the import path stays
light). botocore's `CloudFrontSigner` builds the policy.

Signing configuration, from the function's environment:
  PORTAIL_CLOUDFRONT_KEY_PAIR_ID   the id CloudFront gave the public key (`K…`)
  PORTAIL_CLOUDFRONT_PRIVATE_KEY   the private key, PEM text (PKCS#1 `BEGIN RSA PRIVATE
                                   KEY` or PKCS#8 `BEGIN PRIVATE KEY`, unencrypted)
In production the deployment copies the private key from its secret (AWS Secrets
Manager or an SSM SecureString) into the Lambda's environment, encrypted at rest by
KMS; it is never committed. A PEM whose newlines were written as the two characters
`\\n` (a one-line variable) is accepted. Lambda allows 4 KB of environment in all: a
2048-bit key takes about 1.7 KB of it. `portail serve` exports a fresh key pair of its
own (portail.local_keys), so the function in that process signs with it.
"""

from __future__ import annotations

import base64
import ipaddress
import os
import re
from datetime import datetime, timedelta
from functools import lru_cache
from urllib.parse import urlsplit

KEY_PAIR_ID_ENV = "PORTAIL_CLOUDFRONT_KEY_PAIR_ID"
PRIVATE_KEY_ENV = "PORTAIL_CLOUDFRONT_PRIVATE_KEY"

POLICY_COOKIE = "CloudFront-Policy"
SIGNATURE_COOKIE = "CloudFront-Signature"
KEY_PAIR_ID_COOKIE = "CloudFront-Key-Pair-Id"
COOKIE_NAMES = (POLICY_COOKIE, SIGNATURE_COOKIE, KEY_PAIR_ID_COOKIE)

FAMILY_PREFIX = "/famille/"
# How long signed page cookies open pages at most: after a logout, a password change or
# a reset, cookies saved before it open nothing once this has passed (nothing renews
# them without a session).
PAGE_COOKIE_LIFETIME = timedelta(minutes=5)
# The no-script renewal's memory of where it last sent the browser (return_marker_header).
RETURN_MARKER_COOKIE = "portail-retour"
RENEWAL_PATH = "/api/session/renew"
RETURN_MARKER_SECONDS = 30
_RETURN_PATH_CHARS = re.compile(r"[A-Za-z0-9._/-]{1,300}", re.ASCII)
# Attributes after Path on every cookie. Chromium keeps and sends Secure cookies over
# plain http://127.0.0.1 and http://localhost (docs/architecture.md): the local server needs no TLS.
COOKIE_ATTRIBUTES = "Secure; HttpOnly; SameSite=Lax"

_PAGE_KEY = re.compile(r"[0-9a-f]{32}")
# The portal's public address: scheme, host, optional port, nothing else. The host is a
# DNS name or IPv4 address (dot-separated labels) or a bracketed IPv6 address; no `*`
# or `?` (wildcards in a policy), no `/` `@` `#` `%` or space, no trailing dot.
_SITE_URL = re.compile(
    r"(?P<scheme>https?)://"
    r"(?P<host>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*"
    r"|\[[0-9a-f:.]+\])"
    r"(?::(?P<port>[0-9]{1,5}))?",
    re.IGNORECASE | re.ASCII,  # ASCII: no Kelvin sign for a `k`
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_KEY_PAIR_ID = re.compile(r"[A-Za-z0-9]{1,128}")


class SigningConfigMissing(RuntimeError):
    """The function's environment lacks the CloudFront signing key."""


def _check_page_key(page_key: str) -> str:
    # The key goes into a policy (where `*` and `?` are wildcards), a cookie Path and a
    # URL: anything but the 32 hex characters would widen or break one of them.
    if not isinstance(page_key, str) or not _PAGE_KEY.fullmatch(page_key):
        raise ValueError("page_key : 32 caractères hexadécimaux minuscules attendus")
    return page_key


def family_path(page_key: str) -> str:
    """`/famille/<page_key>/`: the family's pages, and the cookies' Path."""
    return f"{FAMILY_PREFIX}{_check_page_key(page_key)}/"


def site_origin(site_url: str) -> str:
    """The portal's public address as the policy names it: `scheme://host[:port]`.

    `site_url`: http or https, a host, an optional port; one trailing `/` is dropped.
    Scheme and host are lowercased and a default port (`:443` for https, `:80` for http)
    is dropped, as a browser writes the URL CloudFront matches. Anything else (a path, a
    query, a fragment, `user@`, a `*` or `?`, another scheme) raises ValueError: it
    would widen the policy or never match.
    """
    text = site_url[:-1] if isinstance(site_url, str) and site_url.endswith("/") else site_url
    match = _SITE_URL.fullmatch(text) if isinstance(text, str) else None
    port = match["port"] if match else None
    if match is None or (port is not None and not 0 < int(port) <= 65535):
        raise ValueError(
            f"site_url : adresse publique du portail invalide ({site_url!r}) ; attendu "
            "http(s)://hôte ou http(s)://hôte:port, sans chemin, requête, fragment, "
            "identifiants, ni caractère * ou ?"
        )
    scheme, host = match["scheme"].lower(), match["host"].lower()
    if host.startswith("["):
        try:
            host = f"[{ipaddress.IPv6Address(host[1:-1]).compressed}]"
        except ValueError:
            raise ValueError(f"site_url : adresse IPv6 invalide ({site_url!r})") from None
    if port is None or int(port) == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{int(port)}"


def family_resource(page_key: str, site_url: str) -> str:
    """The policy's Resource: every URL under the family's pages at the portal's address.

    `<site_url>/famille/<page_key>/*`, `site_url` being the exact scheme and host the
    browser uses (see site_origin). Not `http*://*/famille/<page_key>/*`: the `*`
    standing for the host also matched `/`, so a query string holding
    `/famille/<page_key>/` opened another family's page
    (`/famille/<other>/index.html?x=/famille/<page_key>/`; S3 ignores the query).
    """
    return f"{site_origin(site_url)}{family_path(page_key)}*"


def url_b64encode(data: bytes) -> str:
    """CloudFront's base64: `+` → `-`, `=` → `_`, `/` → `~` (as botocore's signer)."""
    return (
        base64.b64encode(data).replace(b"+", b"-").replace(b"=", b"_").replace(b"/", b"~")
    ).decode("ascii")


def _epoch_seconds(moment: datetime) -> int:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("expires_at : une date avec son décalage horaire est attendue")
    return int(moment.timestamp())


def _der_element(data: bytes) -> tuple[int, bytes, bytes]:
    """One DER element: (tag, content, what follows)."""
    if len(data) < 2:
        raise ValueError("DER tronqué")
    tag, length, offset = data[0], data[1], 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or len(data) < 2 + count:
            raise ValueError("DER : longueur invalide")
        length = int.from_bytes(data[2 : 2 + count], "big")
        offset = 2 + count
    if len(data) < offset + length:
        raise ValueError("DER tronqué")
    return tag, data[offset : offset + length], data[offset + length :]


_RSA_ENCRYPTION_OID = bytes.fromhex("2a864886f70d010101")  # 1.2.840.113549.1.1.1


def _pkcs1_from_pkcs8(der: bytes) -> bytes:
    """The RSAPrivateKey inside a PKCS#8 PrivateKeyInfo (what `openssl genrsa` writes)."""
    tag, info, _ = _der_element(der)
    if tag != 0x30:
        raise ValueError("PKCS#8 : SEQUENCE attendue")
    tag, _version, rest = _der_element(info)
    if tag != 0x02:
        raise ValueError("PKCS#8 : version attendue")
    tag, algorithm, rest = _der_element(rest)
    oid_tag, oid, _ = _der_element(algorithm)
    if tag != 0x30 or oid_tag != 0x06 or oid != _RSA_ENCRYPTION_OID:
        raise ValueError("PKCS#8 : seule une clé RSA convient à CloudFront")
    tag, private_key, _ = _der_element(rest)
    if tag != 0x04:
        raise ValueError("PKCS#8 : clé attendue")
    return private_key


@lru_cache(maxsize=4)
def _private_key(private_key_pem: str):
    """The parsed key (cached: a warm Lambda parses it once)."""
    import rsa

    pem = private_key_pem.strip().encode("ascii")
    if b"-----BEGIN RSA PRIVATE KEY-----" in pem:
        return rsa.PrivateKey.load_pkcs1(pem, format="PEM")
    if b"-----BEGIN PRIVATE KEY-----" in pem:
        der = rsa.pem.load_pem(pem, "PRIVATE KEY")
        return rsa.PrivateKey.load_pkcs1(_pkcs1_from_pkcs8(der), format="DER")
    raise ValueError(
        "clé privée CloudFront : PEM RSA non chiffré attendu "
        "(BEGIN RSA PRIVATE KEY ou BEGIN PRIVATE KEY)"
    )


def _rsa_signer(private_key_pem: str):
    key = _private_key(private_key_pem)

    def sign(message: bytes) -> bytes:
        import rsa

        return rsa.sign(message, key, "SHA-1")  # CloudFront: RSA-SHA1, PKCS#1 v1.5

    return sign


def signed_cookie_values(
    page_key: str,
    expires_at: datetime,
    key_pair_id: str,
    private_key_pem: str,
    *,
    site_url: str,
) -> dict[str, str]:
    """The three cookies' values for the family's pages until `expires_at` (aware).

    The policy's Resource is `family_resource(page_key, site_url)`: the cookies open the
    family's pages at `site_url` (the portal's public address, `scheme://host[:port]`)
    and nowhere else. The policy's DateLessThan is `expires_at` in whole epoch seconds
    (truncated).
    """
    from botocore.signers import CloudFrontSigner

    if not isinstance(key_pair_id, str) or not _KEY_PAIR_ID.fullmatch(key_pair_id):
        raise ValueError("key_pair_id : identifiant de clé CloudFront invalide")
    resource = family_resource(page_key, site_url)
    _epoch_seconds(expires_at)  # refuses a naive date (botocore would take it as UTC)
    signer = CloudFrontSigner(key_pair_id, _rsa_signer(private_key_pem))
    policy = signer.build_policy(resource, expires_at).encode("utf-8")
    return {
        POLICY_COOKIE: url_b64encode(policy),
        SIGNATURE_COOKIE: url_b64encode(signer.rsa_signer(policy)),
        KEY_PAIR_ID_COOKIE: key_pair_id,
    }


def set_cookie_headers(
    page_key: str,
    expires_at: datetime,
    key_pair_id: str,
    private_key_pem: str,
    *,
    site_url: str,
) -> list[str]:
    """Three `Set-Cookie` values, in the order CloudFront-Policy, -Signature, -Key-Pair-Id:

    `<name>=<value>; Path=/famille/<page_key>/; Secure; HttpOnly; SameSite=Lax`. No
    Domain: the cookies belong to the host that answered (the portal's domain, or
    127.0.0.1 locally), which must be `site_url`'s: the policy names that exact scheme
    and host (signed_cookie_values). The browser sends them only under the family's
    path. No Expires (as AWS advises): the policy's DateLessThan (`expires_at`, see
    page_cookies_end) ends them, by the portal's clock; an Expires date would be read by
    the browser's own clock, and a portal running at a frozen date (`--now`) would see
    them dropped.
    """
    values = signed_cookie_values(
        page_key, expires_at, key_pair_id, private_key_pem, site_url=site_url
    )
    attributes = f"Path={family_path(page_key)}; {COOKIE_ATTRIBUTES}"
    return [f"{name}={values[name]}; {attributes}" for name in COOKIE_NAMES]


def page_cookies_end(session_end: datetime, now: datetime) -> datetime:
    """The policy's end for cookies signed at `now`: PAGE_COOKIE_LIFETIME later, or the
    session's end when that comes first."""
    return min(now + PAGE_COOKIE_LIFETIME, session_end)


def return_path(candidate: object, page_key: str) -> str | None:
    """`candidate` when it is a path of the family's own pages, else None.

    A path (no scheme, host, query or fragment) under `/famille/<page_key>/`, made of
    letters, digits, `.`, `_`, `-` and `/` only (no CR/LF, `%`, `\\` or space: nothing
    that could split a header or be decoded into something else), without an empty,
    `.` or `..` segment, at most 300 characters. Whatever else a request names is
    ignored, never reflected: the renewal sends the browser nowhere but the family's
    pages (no open redirect).
    """
    home = family_path(page_key)
    if not isinstance(candidate, str) or not _RETURN_PATH_CHARS.fullmatch(candidate):
        return None
    if not candidate.startswith(home):
        return None
    segments = candidate[len(home):].split("/")
    if any(segment in ("", ".", "..") for segment in segments[:-1]) or segments[-1] in (".", ".."):
        return None
    return candidate


def return_path_from_referer(referer: object, page_key: str, site_url: str) -> str | None:
    """The family page a `Referer` names, when it is one at the portal's address
    (`site_url`) with no query: its path (see return_path); else None."""
    if not isinstance(referer, str) or len(referer) > 2000:
        return None
    if any(not "!" <= char <= "~" for char in referer):  # urlsplit would drop CR, LF and tabs
        return None
    try:
        parts = urlsplit(referer)
        origin = site_origin(f"{parts.scheme}://{parts.netloc}")
    except ValueError:
        return None
    if origin != site_origin(site_url) or parts.query or "?" in referer:
        return None
    return return_path(parts.path, page_key)


def return_marker_header(path: str) -> str:
    """The cookie by which the no-script renewal remembers, for RETURN_MARKER_SECONDS,
    the page it just sent the browser back to: sent only to the renewal itself. Should
    the same page come back at once (it still answers 403: a page that does not exist
    answers 403 on CloudFront too), the renewal sends the browser elsewhere, not round
    again. `path` comes from return_path (cookie-safe characters only)."""
    return (f"{RETURN_MARKER_COOKIE}={path}; Path={RENEWAL_PATH}; Max-Age={RETURN_MARKER_SECONDS}; "
            f"{COOKIE_ATTRIBUTES}")


def clear_return_marker_header() -> str:
    return f"{RETURN_MARKER_COOKIE}=; Path={RENEWAL_PATH}; Max-Age=0; {COOKIE_ATTRIBUTES}"


def clear_cookie_headers(page_key: str) -> list[str]:
    """The same three cookies, emptied and expired now (`Max-Age=0`), for logout."""
    attributes = f"Path={family_path(page_key)}; Max-Age=0; {COOKIE_ATTRIBUTES}"
    return [f"{name}=; {attributes}" for name in COOKIE_NAMES]


def signing_config_from_environment(env=None) -> tuple[str, str]:
    """(key_pair_id, private_key_pem) from the function's environment.

    Raises SigningConfigMissing naming the missing variable. `env`: a mapping (default
    os.environ).
    """
    if env is None:
        env = os.environ
    key_pair_id = (env.get(KEY_PAIR_ID_ENV) or "").strip()
    private_key_pem = (env.get(PRIVATE_KEY_ENV) or "").strip()
    missing = [
        name for name, value in ((KEY_PAIR_ID_ENV, key_pair_id), (PRIVATE_KEY_ENV, private_key_pem))
        if not value
    ]
    if missing:
        raise SigningConfigMissing(
            "cookies signés CloudFront impossibles : variable(s) d'environnement "
            f"{', '.join(missing)} absente(s). En production le déploiement les renseigne "
            "depuis le secret de la clé ; `portail serve` exporte une paire de clés locale."
        )
    if "\n" not in private_key_pem and "\\n" in private_key_pem:
        private_key_pem = private_key_pem.replace("\\n", "\n")
    return key_pair_id, private_key_pem + "\n"
