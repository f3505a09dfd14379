"""moto's S3 listing without its walk of the whole bucket (embedded AWS, tests, benches).

moto 5 answers every ListObjects / ListObjectsV2 with a prefix by walking EVERY key of
the bucket (`bucket.keys.items()`: a copy of the bucket's dict, then a Python generator
step and a `startswith` per key), then keeps those under the prefix. The export lists
each family's folder before writing it (the stored pages' ETags, so that only changed
pages are written): on 3,000 families (~57,000 pages) that walk is 2.4 ms a listing at
1,000 keys and ~17 ms at 30,000, one per family, quadratic over the export.

The patched `S3Backend.list_objects` (ListObjectsV2 calls it too) hands moto's own code
a view of the bucket holding only the keys whose name starts with the prefix: found by
bisection in a sorted index of the bucket's key names. Everything after the walk stays
moto's (delete markers dropped, delimiter and CommonPrefixes, the sort, StartAfter,
ContinuationToken, MaxKeys, truncation, the response): the same keys reach it, so the
same answer comes out.

The index belongs to one bucket's key store (`_VersionedKeyStore`), is made the first
time a listing with a prefix needs it (one sort of the names) and then follows the
store's writes: moto adds a name through the store's `__setitem__` or `setlist` and
removes one through its `pop` (versioned or not, delete markers included); the dict
methods moto's store does not redefine (`del`, `clear`, `update`, …) drop the index, to
be made again. It lives outside the store (keyed by the store's id, removed when the
store goes), so that a pickled or copied store (`portail serve --data`) never carries
an index of another content: its first listing makes its own.

Only a prefixed listing of a plain bucket (`FakeBucket`) with a text prefix takes this
path; anything else is moto's own walk. Checked against moto unpatched, listing by
listing, by tests/test_moto_s3.py. `install()` is idempotent; a moto whose listing or
key store no longer look like these is left alone.
"""

from __future__ import annotations

import bisect
import functools
import threading
import weakref

_PATCHED = "_portail_s3"
_SIGNATURE = ("self", "bucket", "prefix", "delimiter", "marker", "max_keys")
_INDEXES: dict[int, list[str] | None] = {}  # id(key store) -> its key names, sorted (None: to make again)
_LOCK = threading.Lock()  # in-process moto may serve several threads (the embedded AWS serves one at a time)
# The dict methods moto's key store inherits unchanged: any of them may add or remove a name.
_DICT_WRITES = ("__delitem__", "clear", "update", "popitem", "setdefault", "__ior__")


def install() -> bool:
    """Patches moto's S3 listing and key store in this process; True when active."""
    try:
        from moto.s3 import models
        from moto.s3.utils import _VersionedKeyStore
    except ImportError:  # pragma: no cover - moto is a tool dependency
        return False
    backend = models.S3Backend
    original = backend.list_objects
    if getattr(original, _PATCHED, False):
        return True
    code = original.__code__
    if (code.co_varnames[:len(_SIGNATURE)] != _SIGNATURE or "items" not in code.co_names
            or "startswith" not in code.co_names or getattr(models, "FakeBucket", None) is None
            or not all(name in vars(_VersionedKeyStore) for name in ("__setitem__", "setlist", "pop"))
            or any(name in vars(_VersionedKeyStore) for name in _DICT_WRITES)):
        return False  # another moto: its listing or its store is not the one this patch follows
    _follow_writes(_VersionedKeyStore)
    fake_bucket = models.FakeBucket

    @functools.wraps(original)
    def list_objects(self, bucket, prefix, delimiter, marker, max_keys):
        if (type(bucket) is fake_bucket and type(prefix) is str and prefix
                and type(bucket.keys) is _VersionedKeyStore):
            bucket = _Under(bucket.keys, _names_under(bucket.keys, prefix))
        return original(self, bucket, prefix, delimiter, marker, max_keys)

    setattr(list_objects, _PATCHED, True)
    backend.list_objects = list_objects
    return True


class _Under:
    """A bucket as moto's listing reads it (`bucket.keys.items()`), holding only `names`."""

    def __init__(self, store, names: list[str]) -> None:
        self.keys = self
        self._store = store
        self._names = names

    def items(self):
        store = self._store
        for name in self._names:
            yield name, store[name]  # the latest version, as the store's own items()


def _names_under(store, prefix: str) -> list[str]:
    """The store's key names that start with `prefix` (a superset is never needed: moto
    checks `startswith` again)."""
    with _LOCK:
        names = _INDEXES.get(id(store))
        if names is None:
            if id(store) not in _INDEXES:  # the store's first index: forgotten when the store goes
                weakref.finalize(store, _INDEXES.pop, id(store), None)
            names = _INDEXES[id(store)] = sorted(dict.keys(store))
        start = end = bisect.bisect_left(names, prefix)
        while end < len(names) and names[end].startswith(prefix):
            end += 1
        return names[start:end]


def _follow_writes(store_class) -> None:
    """The key store's writes keep its index (if it has one) in step."""
    set_item, set_list, pop = store_class.__setitem__, store_class.setlist, store_class.pop

    def added(store, name) -> None:
        with _LOCK:
            names = _INDEXES.get(id(store))
            if names is not None:
                at = bisect.bisect_left(names, name)
                if at == len(names) or names[at] != name:
                    names.insert(at, name)

    @functools.wraps(set_item)
    def __setitem__(self, key, value):
        set_item(self, key, value)
        added(self, key)

    @functools.wraps(set_list)
    def setlist(self, key, list_):
        result = set_list(self, key, list_)
        added(self, key)
        return result

    @functools.wraps(pop)
    def pop_(self, key):
        try:
            return pop(self, key)
        finally:
            if not dict.__contains__(self, key):
                with _LOCK:
                    names = _INDEXES.get(id(self))
                    if names is not None:
                        at = bisect.bisect_left(names, key)
                        if at < len(names) and names[at] == key:
                            del names[at]

    store_class.__setitem__, store_class.setlist, store_class.pop = __setitem__, setlist, pop_
    for name in _DICT_WRITES:
        store_class_write = getattr(dict, name)

        def dropping(self, *args, _write=store_class_write, **kwargs):
            with _LOCK:
                if _INDEXES.get(id(self)) is not None:
                    _INDEXES[id(self)] = None  # made again at the next listing
            return _write(self, *args, **kwargs)

        dropping.__name__ = name
        setattr(store_class, name, dropping)
