"""The security headers of every answer: one definition for the function, the local
server and (later) CloudFront's response-headers policy, so they cannot drift apart."""

from __future__ import annotations

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; object-src 'none'"
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    # Two years, as HSTS preload lists ask; browsers ignore it over plain http (local).
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

# Every API answer: never stored by a browser or a cache (sessions, personal data).
API_HEADERS = {**SECURITY_HEADERS, "Cache-Control": "no-store"}
