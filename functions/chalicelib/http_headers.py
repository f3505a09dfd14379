"""The security headers of every answer: one definition for the function, the local
server and CloudFront's response-headers policy, so they cannot drift apart.

The pages post a medical certificate's file straight to the documents bucket (a form
without script, `fetch` with it: docs/billing.md), so `form-action` and `connect-src`
name that bucket's origin, and no other: `https://<bucket>.s3.<region>.amazonaws.com`
(the address `chalicelib.documents` has botocore write, virtual-hosted and regional),
or the embedded AWS's own address locally (AWS_ENDPOINT_URL, path-style). The template
writes the same policy with the bucket's name resolved by CloudFormation
(portail/deploy.py).
"""

from __future__ import annotations

import os


def content_security_policy(upload_origin: str | None = None) -> str:
    """The policy; `upload_origin`: the documents bucket's origin, the one other place a
    page may post a form to or fetch from."""
    uploads = f" {upload_origin}" if upload_origin else ""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"font-src 'self'; connect-src 'self'{uploads}; form-action 'self'{uploads}; frame-ancestors 'none'; "
        "base-uri 'self'; object-src 'none'"
    )


def documents_origin(bucket: str, region: str, endpoint_url: str | None = None) -> str:
    """Where the browser posts a certificate: the endpoint's origin when one is set (the
    embedded AWS, path-style), else the bucket's regional virtual-hosted address."""
    if endpoint_url:
        from urllib.parse import urlsplit

        parts = urlsplit(endpoint_url)
        return f"{parts.scheme}://{parts.netloc}".lower()
    return f"https://{bucket}.s3.{region}.amazonaws.com"


def current_documents_origin() -> str:
    """The documents bucket's origin of this process's environment (the function's, or
    `portail serve`'s once the embedded AWS configured it)."""
    from chalicelib import table

    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "eu-west-3"
    return documents_origin(table.bucket_name("documents"), region,
                            os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL"))


def security_headers(upload_origin: str | None = None) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(upload_origin),
        # Two years, as HSTS preload lists ask; browsers ignore it over plain http (local).
        "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    }


def current_security_headers() -> dict[str, str]:
    """The headers of this process's answers (the documents bucket read from the environment)."""
    return security_headers(current_documents_origin())


def api_headers() -> dict[str, str]:
    """Every API answer: never stored by a browser or a cache (sessions, personal data)."""
    return {**current_security_headers(), "Cache-Control": "no-store"}
