"""moto's Scan without its quadratic walk (embedded AWS, tests, benches).

moto 5 answers a Scan page the way a list answers a slice it must find by hand: it
sorts the whole table by its key, then walks it from the first item, comparing each
one with the page's `ExclusiveStartKey` (two `DynamoType`s built per item) until it
passes it; then it deep-copies every item it keeps and sizes each one twice. A full
Scan of n items in pages of 1 MB therefore costs n²/2 comparisons: on 3,000 families
(~230,000 items, ~80 pages) most of `portail build --families` and of an invoicing
run's reading, where DynamoDB reads each page from where the last one stopped.

The patched `Table.scan` gives the same answer from the same items in the same order
(moto's: by partition key, then sort key, as text for the portal's string keys):

- the partitions are sorted by their key (a few thousand keys, not every item), and
  only the partitions a page reaches are sorted by sort key, from the start key on
  (what moto's walk keeps: the items whose key comes after it);
- an item's size is computed once (moto computes it twice, the same value);
- the items are not deep-copied: moto copies them so that the filter and the
  projection that follow cannot change the stored items, but a filter only reads an
  item and a projection makes a new one; the answer is made (`dynamo_to_dict`: new
  plain dicts) before any other request runs (the embedded AWS answers one request at
  a time; in-process moto runs one request per thread, which moto does not make
  atomic anyway, docs/architecture.md).

Only a table whose keys are strings (hash and range), scanned without an index, without
the legacy `ScanFilter` and with a start key of those two strings (or none), takes this
path; anything else is moto's own Scan, as is a page that meets a sort key of another
type (moto refuses one at the write; nothing is changed before the hand-over). Checked against moto unpatched, page by page,
by tests/test_moto_scan.py. `install()` is idempotent; a moto whose Scan no longer looks
like this one is left alone.
"""

from __future__ import annotations

import functools

_PATCHED = "_portail_scan"
_SIGNATURE = ("self", "filters", "limit", "exclusive_start_key", "filter_expression", "index_name",
              "consistent_read", "projection_expression", "segments")
_MOTOS_NAMES = ("is_within_segment", "_item_comes_before_dct", "_get_last_evaluated_key", "all_items", "size")


def install() -> bool:
    """Patches moto's `Table.scan` in this process; True when the patch is active."""
    try:
        from moto.dynamodb.models import table as tables
    except ImportError:  # pragma: no cover - moto is a tool dependency
        return False
    Table = tables.Table
    original = Table.scan
    if getattr(original, _PATCHED, False):
        return True
    code = original.__code__
    if (code.co_varnames[:len(_SIGNATURE)] != _SIGNATURE or not all(n in code.co_names for n in _MOTOS_NAMES)
            or "deepcopy" not in code.co_names or not isinstance(getattr(tables, "RESULT_SIZE_LIMIT", None), int)):
        return False  # another moto: its Scan is not the one this patch reproduces
    limit_of_a_page = tables.RESULT_SIZE_LIMIT

    @functools.wraps(original)
    def scan(self, filters, limit, exclusive_start_key, filter_expression=None, index_name=None,
             consistent_read=False, projection_expression=None, segments=(None, None)):
        ordered = None
        if not index_name and not filters and _string_keys(self):
            start = _start_key(self, exclusive_start_key)
            if start is not _NOT_MINE:
                ordered = _items_after(self, start)
        if ordered is None:
            return original(self, filters, limit, exclusive_start_key, filter_expression, index_name,
                            consistent_read, projection_expression, segments)
        whole_table = segments == (None, None)
        results: list = []
        result_size = scanned_count = 0
        last_evaluated_key = None
        try:
            for item in ordered:
                if not whole_table and not item.is_within_segment(segments):
                    continue
                size = item.size()
                if len(results) == limit or result_size + size > limit_of_a_page:
                    last_evaluated_key = self._get_last_evaluated_key(results[-1], index_name)
                    break
                results.append(item)
                result_size += size
                scanned_count += 1
        except _NotStrings:  # nothing was changed: moto's own Scan answers
            return original(self, filters, limit, exclusive_start_key, filter_expression, index_name,
                            consistent_read, projection_expression, segments)
        if filter_expression is not None:
            results = [item for item in results if filter_expression.expr(item)]
        if projection_expression:
            results = [item.project(projection_expression) for item in results]
        return results, scanned_count, last_evaluated_key

    setattr(scan, _PATCHED, True)
    Table.scan = scan
    return True


_NOT_MINE = object()  # a start key this patch leaves to moto


class _NotStrings(Exception):
    """A sort key that is not a string, met on the way (moto refuses one at the write)."""


def _string_keys(table) -> bool:
    """A table keyed by a string partition key and a string sort key, every partition key
    a string (the sort keys are checked as the pages reach their partitions: one pass over
    the partitions per page, not over the items)."""
    if table.range_key_attr is None or table.hash_key_type != "S" or table.range_key_type != "S":
        return False
    return all(key.type == "S" and type(key.value) is str for key in table.items)


def _start_key(table, key):
    """(partition, sort) strings of an ExclusiveStartKey, None without one, or _NOT_MINE."""
    if key is None:
        return None
    if type(key) is not dict or set(key) != {table.hash_key_attr, table.range_key_attr}:
        return _NOT_MINE
    values = []
    for name in (table.hash_key_attr, table.range_key_attr):
        value = key[name]
        if type(value) is not dict or len(value) != 1 or type(value.get("S")) is not str:
            return _NOT_MINE
        values.append(value["S"])
    return tuple(values)


def _items_after(table, start):
    """The table's items in moto's order (partition key, then sort key, as strings),
    those after `start` only; a partition's items are sorted when the page reaches it."""
    partitions = sorted(((key.value, partition) for key, partition in table.items.items() if partition),
                        key=lambda pair: pair[0])
    for value, partition in partitions:
        if start is not None and value < start[0]:
            continue
        if any(key.type != "S" or type(key.value) is not str for key in partition):
            raise _NotStrings
        entries = sorted(partition.items(), key=lambda entry: entry[0].value)
        if start is not None and value == start[0]:
            entries = [entry for entry in entries if entry[0].value > start[1]]
        for _, item in entries:
            yield item
