"""portail/moto_s3.py answers every listing exactly as moto does: each listing of a
scenario of writes (plain and versioned buckets, overwrites, deletions, delete markers,
batch deletions, copies) is asked of the patched and of the unpatched moto on the same
state, and the answers are the same, page by page (Prefix, Delimiter, StartAfter,
ContinuationToken, MaxKeys, EncodingType, FetchOwner, ListObjects v1's Marker); random
writes and listings agree too; and a prefixed listing no longer reads the whole bucket."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as strats

from tests.conftest import moto

KEYS = ("famille/k1/index.html", "famille/k1/enfants/1/2014-11/index.html", "famille/k1/enfants/1/2014-12/index.html",
        "famille/k10/index.html", "famille/k2/index.html", "famille/k1", "famille/k1/", "famille/k1/é.html",
        "famille/k1/a+b c.html", "famille/k1/~z", "famille0", "agenda/x.ics", "famille/k1//double")


@pytest.fixture
def both(monkeypatch):
    """ask(call, **parameters): the answer of the patched listing, asserted equal to
    unpatched moto's on the same state (each a list of pages, from each one's token)."""
    from moto.s3.models import S3Backend

    patched = S3Backend.list_objects
    assert getattr(patched, "_portail_s3", False), "S3Backend.list_objects is not patched"

    def pages(call, token_name, next_name, parameters):
        answers, token = [], None
        while True:
            answer = call(**parameters, **({token_name: token} if token else {}))
            answer.pop("ResponseMetadata", None)
            answers.append(answer)
            token = answer.get(next_name)
            if not answer.get("IsTruncated") or not token:
                return answers

    def ask(call, token_name="ContinuationToken", next_name="NextContinuationToken", **parameters):
        mine = pages(call, token_name, next_name, parameters)
        monkeypatch.setattr(S3Backend, "list_objects", patched.__wrapped__)
        try:
            motos = pages(call, token_name, next_name, parameters)
        finally:
            monkeypatch.setattr(S3Backend, "list_objects", patched)
        assert mine == motos, parameters
        return mine

    return ask


def _names(pages) -> list[str]:
    return [entry["Key"] for page in pages for entry in page.get("Contents", [])]


def test_every_listing_answered_as_moto_answers_it(both):
    import boto3

    with moto():
        s3 = boto3.client("s3", region_name="eu-west-3")
        for bucket in ("plain-pages", "versioned-pages"):
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
        s3.put_bucket_versioning(Bucket="versioned-pages", VersioningConfiguration={"Status": "Enabled"})

        def listings(bucket, every=True):
            v2 = s3.list_objects_v2
            few = [both(v2, Bucket=bucket, Prefix="famille/k1/"), both(v2, Bucket=bucket, Prefix="famille/k1"),
                   both(v2, Bucket=bucket, Prefix="famille/", Delimiter="/", MaxKeys=2)]
            return few if not every else few + [
                both(v2, Bucket=bucket, Prefix="famille/k1/", Delimiter="/", MaxKeys=2),
                both(v2, Bucket=bucket, Prefix="famille/k1/", MaxKeys=3, FetchOwner=True),
                both(v2, Bucket=bucket, Prefix="famille/k1/", StartAfter="famille/k1/enfants/1/2014-11/index.html"),
                both(v2, Bucket=bucket, Prefix="famille/", StartAfter="famille/k1/", MaxKeys=2, Delimiter="/"),
                both(v2, Bucket=bucket, Prefix="famille/k1/", MaxKeys=0),
                both(v2, Bucket=bucket, Prefix="famille/k1/", EncodingType="url", Delimiter="/"),
                both(v2, Bucket=bucket, Prefix="famille/k3/"),  # none, between two folders
                both(v2, Bucket=bucket),  # no prefix: moto's own walk
                both(s3.list_objects, "Marker", "NextMarker", Bucket=bucket, Prefix="famille/k1/", MaxKeys=2),
                both(s3.list_objects, "Marker", "NextMarker", Bucket=bucket, Prefix="famille/", Delimiter="/",
                     Marker="famille/k1/a"),
            ]

        for bucket in ("plain-pages", "versioned-pages"):
            for key in KEYS:
                s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
            first = listings(bucket, every=False)  # the index is made here, then follows the writes below
            s3.put_object(Bucket=bucket, Key="famille/k1/index.html", Body=b"changed")
            s3.put_object(Bucket=bucket, Key="famille/k1/new.html", Body=b"new")
            s3.delete_object(Bucket=bucket, Key="famille/k1/enfants/1/2014-11/index.html")
            s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "famille/k1/~z"}, {"Key": "famille/k1"}]})
            s3.copy_object(Bucket=bucket, Key="famille/k1/copy.html",
                           CopySource={"Bucket": bucket, "Key": "famille/k2/index.html"})
            if bucket == "versioned-pages":  # a version removed, a delete marker removed: the key is back
                versions = s3.list_object_versions(Bucket=bucket, Prefix="famille/k1/index.html")["Versions"]
                s3.delete_object(Bucket=bucket, Key="famille/k1/index.html", VersionId=versions[-1]["VersionId"])
                marker = s3.list_object_versions(Bucket=bucket, Prefix="famille/k1/~z")["DeleteMarkers"][0]
                s3.delete_object(Bucket=bucket, Key="famille/k1/~z", VersionId=marker["VersionId"])
            # Every kind of listing once, on the bucket with delete markers and versions.
            then = listings(bucket, every=bucket == "versioned-pages")
            # The scenario says something: the writes changed what the prefix lists.
            assert "famille/k1/enfants/1/2014-11/index.html" in _names(first[0])
            assert "famille/k1/enfants/1/2014-11/index.html" not in _names(then[0])
            assert "famille/k1/new.html" in _names(then[0]) and "famille/k1/copy.html" in _names(then[0])
            assert ("famille/k1/~z" in _names(then[0])) == (bucket == "versioned-pages")
            assert "famille/k10/index.html" in _names(first[1]) and "famille/k2/index.html" not in _names(first[1])
            if bucket == "versioned-pages":  # pages by MaxKeys with a delimiter
                assert len(then[3]) >= 2 and then[3][0]["IsTruncated"]
            assert [p["Prefix"] for page in first[2] for p in page["CommonPrefixes"]] == [
                "famille/k1/", "famille/k10/", "famille/k2/"]


NAMES = strats.text(alphabet="ab/", min_size=1, max_size=3)


@settings(max_examples=40, deadline=None)
@given(versioned=strats.booleans(),
       steps=strats.lists(strats.tuples(strats.sampled_from(("put", "delete", "drop", "list")), NAMES,
                                        strats.sampled_from((None, "/", "b")), strats.integers(0, 4)),
                          max_size=25))
def test_random_writes_and_listings_agree_with_moto(versioned, steps):
    """Writes (puts, deletions, a version dropped) and listings drawn at random: each
    listing, and its next page, is the same patched and unpatched."""
    from moto.s3.models import S3Backend, s3_backends

    patched = S3Backend.list_objects
    backend = S3Backend(region_name="eu-west-3", account_id="123456789012")
    backend.create_bucket("random-pages", "eu-west-3")
    try:
        _random_steps(backend, versioned, steps, patched)
    finally:  # bucket names are global to moto
        s3_backends.bucket_accounts.pop("random-pages", None)


def _random_steps(backend, versioned, steps, patched) -> None:
    from moto.s3.models import FakeKey, S3Backend

    if versioned:
        backend.put_bucket_versioning("random-pages", "Enabled")
    bucket = backend.get_bucket("random-pages")

    def pages(prefix, delimiter, start_after, max_keys):
        answers, token = [], None
        while len(answers) < 3:
            keys, truncated, token = backend.list_objects_v2(bucket, prefix, delimiter, token, start_after, max_keys)
            answers.append(([key.name if isinstance(key, FakeKey) else key for key in keys], truncated, token))
            if not token:
                break
        return answers

    for action, name, delimiter, number in steps:
        if action == "put":
            backend.put_object("random-pages", name, f"{name}{number}".encode())
        elif action == "delete" and name in bucket.keys:
            backend.delete_object("random-pages", name)
        elif action == "drop" and versioned and name in bucket.keys:
            backend.delete_object("random-pages", name, version_id=bucket.keys.getlist(name)[0].version_id)
        elif action == "list":
            # A short prefix (most names under it), the name's start to start after.
            parameters = (name[:1 + number % 2], delimiter, name[:number - 1] or None, number + 1)
            mine = pages(*parameters)
            S3Backend.list_objects = patched.__wrapped__
            try:
                motos = pages(*parameters)
            finally:
                S3Backend.list_objects = patched
            assert mine == motos, parameters


def test_a_prefixed_listing_reads_the_prefix_keys_only():
    """moto's walk of the whole bucket is gone: listing a family's folder reads the
    versions of its own keys only, whatever else the bucket holds."""
    from moto.s3.models import S3Backend, s3_backends
    from moto.s3.utils import _VersionedKeyStore

    backend = S3Backend(region_name="eu-west-3", account_id="123456789012")
    backend.create_bucket("many-pages", "eu-west-3")
    s3_backends.bucket_accounts.pop("many-pages", None)  # bucket names are global to moto
    for family in range(300):
        for page in ("index.html", "demandes/index.html"):
            backend.put_object("many-pages", f"famille/{family:04d}/{page}", b"<html>")
    bucket = backend.get_bucket("many-pages")
    read: list[str] = []
    getitem = _VersionedKeyStore.__getitem__

    def counting(store, name):
        read.append(name)
        return getitem(store, name)

    _VersionedKeyStore.__getitem__ = counting
    try:
        keys, truncated, _ = backend.list_objects_v2(bucket, "famille/0042/", None, None, None, 1000)
    finally:
        _VersionedKeyStore.__getitem__ = getitem
    assert [key.name for key in keys] == ["famille/0042/demandes/index.html", "famille/0042/index.html"]
    assert not truncated and sorted(read) == ["famille/0042/demandes/index.html", "famille/0042/index.html"]
