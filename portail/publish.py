"""`portail publish`: the built public site (`portail build`) to the stage's site bucket.

Every file is sent with its Content-Type (the local server's table, one definition) and
a Cache-Control chosen by kind:

- pages and feeds (`.html`, `.xml`, `.txt`, `.json`): `public, max-age=0, s-maxage=300`:
  a browser asks again each time (a cheap 304 from CloudFront when nothing changed);
  CloudFront keeps them 5 minutes, so a publication is everywhere within 5 minutes;
- the theme's CSS and JavaScript: `public, max-age=3600, s-maxage=300`: their names
  carry no version, so a browser keeps them one hour only (never `immutable`);
- images, fonts and other files: `public, max-age=86400, s-maxage=300`.

Files are sent first, then the objects the new build no longer has are deleted (a
withdrawn notice disappears; nothing is ever missing while the upload runs). The bucket
holds the public site only: the family pages and documents have buckets of their own.
Hidden files (the build's marker) are not sent.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from pathlib import Path

from portail.build import MARKER
from portail.content_types import CONTENT_TYPES

CDN_SECONDS = 300
PAGE_CACHE_CONTROL = f"public, max-age=0, s-maxage={CDN_SECONDS}"
CODE_CACHE_CONTROL = f"public, max-age=3600, s-maxage={CDN_SECONDS}"
MEDIA_CACHE_CONTROL = f"public, max-age=86400, s-maxage={CDN_SECONDS}"
PAGE_SUFFIXES = {".html", ".htm", ".xml", ".txt", ".json"}
CODE_SUFFIXES = {".css", ".js", ".mjs"}
EXTRA_TYPES = {".woff": "font/woff", ".atom": "application/atom+xml; charset=utf-8"}


class PublishError(Exception):
    """Nothing was published: the message says why (in French)."""


@dataclass(frozen=True)
class PublishReport:
    bucket: str
    uploaded: int
    deleted: int


def content_type(path: Path) -> str:
    suffix = path.suffix.lower()
    known = CONTENT_TYPES.get(suffix) or EXTRA_TYPES.get(suffix)
    if known:
        return known
    guessed = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"{guessed}; charset=utf-8" if guessed.startswith("text/") else guessed


def cache_control(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in PAGE_SUFFIXES:
        return PAGE_CACHE_CONTROL
    if suffix in CODE_SUFFIXES:
        return CODE_CACHE_CONTROL
    return MEDIA_CACHE_CONTROL


def site_files(output: Path) -> dict[str, Path]:
    """{object key: file} of a folder `portail build` made; refuses any other folder."""
    output = Path(output)
    if not (output / MARKER).is_file():
        raise PublishError(
            f"{output} n'est pas un site construit par « portail build » : construisez-le "
            "d'abord (portail build --output DOSSIER --site-url https://…).")
    if not (output / "index.html").is_file():
        raise PublishError(f"{output}/index.html manque : le site construit est incomplet.")
    files = {}
    for path in sorted(output.rglob("*")):
        relative = path.relative_to(output)
        if path.is_file() and not any(part.startswith(".") for part in relative.parts):
            files[relative.as_posix()] = path
    return files


def site_bucket(stage: str, cloudformation) -> str:
    """The site bucket named by the stage's stack output `SiteBucketName`."""
    from botocore.exceptions import ClientError

    from portail.deploy import stack_name

    name = stack_name(stage)
    try:
        stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            raise PublishError(
                f"La pile CloudFormation {name} n'existe pas : déployez d'abord l'étape "
                f"« {stage} » (docs/deployment.md) ou donnez --bucket.") from None
        raise
    for output in stacks[0].get("Outputs", []):
        if output["OutputKey"] == "SiteBucketName":
            return output["OutputValue"]
    raise PublishError(f"La pile {name} n'a pas de sortie SiteBucketName : est-ce bien une pile du portail ?")


def publish(output: Path, bucket: str, s3) -> PublishReport:
    """Uploads the built site in `output` to `bucket`, then deletes stale objects."""
    from botocore.exceptions import ClientError

    files = site_files(output)
    try:
        for key, path in files.items():
            s3.put_object(
                Bucket=bucket, Key=key, Body=path.read_bytes(),
                ContentType=content_type(path), CacheControl=cache_control(path),
            )
        stale = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            stale += [item["Key"] for item in page.get("Contents", []) if item["Key"] not in files]
        for start in range(0, len(stale), 1000):
            s3.delete_objects(Bucket=bucket, Delete={
                "Objects": [{"Key": key} for key in stale[start:start + 1000]], "Quiet": True})
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code == "NoSuchBucket":
            raise PublishError(f"Le bucket {bucket} n'existe pas.") from None
        if code in ("AccessDenied", "AllAccessDisabled"):
            raise PublishError(f"Accès refusé au bucket {bucket} : vérifiez les droits AWS utilisés.") from None
        raise
    return PublishReport(bucket, len(files), len(stale))
