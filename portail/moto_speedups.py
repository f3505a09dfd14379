"""moto's DynamoDB without three costs DynamoDB does not have (embedded AWS, tests, benches).

moto 5 answers exactly as before; only the work behind its answers changes:

- A Query on the table's own key walks EVERY item of the table, compares each one's
  partition key, then sorts the matches by sort key. The items of a partition are the
  table's `items[partition]`: the patched Query hands moto's own code that partition
  only (the same items, which its sort puts in the same order), so the key conditions,
  filters, limits, pagination and projections stay moto's. On the demo's ~7,000 items a
  family's Query was ~0.1 s; a family page reads its family several times.
- An item's 400 KB check sums the size of every attribute already stored at each new
  attribute (`LimitedSizeDict.__setitem__`): quadratic in the number of attributes, most
  of the time of a BatchWriteItem. The patched constructor adds each attribute's size
  once, in the same order, and refuses at the same attribute with the same error.
- Every attribute value of an answer goes through moto's generic response serializer,
  which looks up each of the ten members of DynamoDB's AttributeValue shape under
  several aliases: a Scan of the demo's table took ~15 s of CPU, a family's Query ~0.2 s.
  An AttributeValue is a one-key dict (`{"S": "…"}`, `{"M": {…}}`, …): the patched
  serializer writes those directly as moto's would (strings as `str`, binaries in
  base64, sets and lists member by member), and leaves anything else to moto.

- Every Scan page and every index (GSI) Query starts from `Table.all_items()`, which
  sorts the whole table by its key through `DynamoType` comparisons (each one a Python
  method building a `Decimal` or a string): ~0.15 s on the demo's ~7,000 items, most of
  a GSI Query's time and of a Scan's. The patched `all_items` sorts the same items by
  the same values (`cast_value`, what moto's comparisons compare) as plain Python keys:
  the same order. A table whose key values are not all of one type (which DynamoDB
  refuses anyway) keeps moto's sort.
- An index Query on a string key hands moto's code only the items whose index key
  attributes hold that string: a superset of what moto's own walk keeps (moto checks
  each one again), which its sort puts in the same order (by the index's and the
  table's keys, unique). No index is kept: nothing has to follow the writes, including
  update expressions that change items in place.

- moto's server (the embedded AWS) finds each request's service by listing its own
  package folder (`backends.list_of_moto_modules`: a listdir and ~170 stat calls, about
  1 ms a request). The folder does not change while the process runs: listed once.

- Every request of any service, in process or through the server, lists the handler
  class's methods with `inspect.getmembers` (`method_names_from_class`, ~1 ms) to see
  whether the action is one of them. The list is kept per class, made again when a
  class of its MRO gains or loses an attribute.

- A plain Query of a partition (no index, filter or projection: how the portal reads a
  family) deep-copies every item found before answering (`copy.deepcopy(results)`,
  there to protect the stored items from the index projection, filter and projection
  that follow), then makes plain dicts of them again (`dynamo_to_dict`): two walks of
  every attribute of the partition, most of a booking's time in the embedded AWS. With
  none of those three steps, nothing touches the items found before `dynamo_to_dict`
  copies them: the patched Query skips the deep copy for such a Query, on its own
  thread only. And `dynamo_to_dict` itself, moto's generic walk (an `isinstance` and a
  `hasattr` per value), takes the common types (DynamoType, dict, list, str) directly,
  giving the same result, and leaves anything else to moto's own.

Checked against moto's own answers by tests/test_moto_speedups.py. `install()` is
idempotent; a moto whose code no longer looks like this one is left alone.
"""

from __future__ import annotations

import functools

_PATCHED = "_portail_speedup"
ITEM_SIZE_LIMIT = 405000  # moto's own bound (LimitedSizeDict), between 409 and 410 KB on AWS


def install() -> bool:
    """Patches moto's DynamoDB models in this process; True when both patches are active."""
    try:
        from moto.dynamodb.models import dynamo_type
        from moto.dynamodb.models.table import Table
    except ImportError:  # pragma: no cover - moto is a tool dependency
        return False
    return (_install_item_size(dynamo_type) and _install_sorted_items(Table) and _install_partition_query(Table)
            and _install_attribute_values() and _install_module_list() and _install_method_names()
            and _install_dynamo_to_dict())


def _install_dynamo_to_dict() -> bool:
    from moto.dynamodb import responses
    from moto.dynamodb.models.dynamo_type import DynamoType

    original = getattr(responses, "dynamo_to_dict", None)
    if original is None:
        return False
    if getattr(original, _PATCHED, False):
        return True
    plain = (str, int, bool, float, type(None))

    @functools.wraps(original)
    def dynamo_to_dict(obj):
        kind = type(obj)
        if kind is DynamoType:
            if obj.type in ("B", "BS"):
                return original(obj)  # base64 decoding: moto's own
            value = obj.value
            return {obj.type: value if type(value) in plain else dynamo_to_dict(value)}
        if kind is dict or (isinstance(obj, dict) and not hasattr(obj, "to_json")):
            return {k: dynamo_to_dict(v) for k, v in obj.items()}
        if kind is list:
            return [dynamo_to_dict(v) for v in obj]
        if kind in plain:
            return obj
        return original(obj)  # datetimes, models with to_json, subclasses: moto's own

    setattr(dynamo_to_dict, _PATCHED, True)
    responses.dynamo_to_dict = dynamo_to_dict
    return True


class _CopyUnlessPlainQuery:
    """The `copy` module as moto's table code sees it: `deepcopy` of a plain Query's
    results, on the thread running it, is a new list of the same items (see the module's
    docstring); everything else is copy's own."""

    def __init__(self, module, plain) -> None:
        self._copy = module
        self._plain = plain

    def deepcopy(self, value, memo=None):
        if getattr(self._plain, "query", False) and type(value) is list:
            return list(value)
        return self._copy.deepcopy(value, memo)

    def __getattr__(self, name):
        return getattr(self._copy, name)


def _install_method_names() -> bool:
    from moto.core import responses

    original = getattr(responses, "method_names_from_class", None)
    if original is None:
        return False
    if getattr(original, _PATCHED, False):
        return True
    known: dict[type, tuple] = {}

    @functools.wraps(original)
    def method_names_from_class(clazz):
        shape = tuple(len(vars(klass)) for klass in clazz.__mro__)
        entry = known.get(clazz)
        if entry is None or entry[0] != shape:
            entry = known[clazz] = (shape, tuple(original(clazz)))
        return list(entry[1])

    setattr(method_names_from_class, _PATCHED, True)
    responses.method_names_from_class = method_names_from_class
    return True


def _install_module_list() -> bool:
    from moto import backends

    original = backends.list_of_moto_modules
    if getattr(original, _PATCHED, False):
        return True
    listed: list[tuple[str, ...]] = []

    @functools.wraps(original)
    def list_of_moto_modules():
        if not listed:
            listed.append(tuple(original()))
        return iter(listed[0])

    setattr(list_of_moto_modules, _PATCHED, True)
    backends.list_of_moto_modules = list_of_moto_modules
    return True


def _install_item_size(dynamo_type) -> bool:
    Item = dynamo_type.Item
    original = Item.__init__
    if getattr(original, _PATCHED, False):
        return True
    if original.__code__.co_varnames[:4] != ("self", "hash_key", "range_key", "attrs") or not hasattr(
            dynamo_type, "LimitedSizeDict"):
        return False
    DynamoType, LimitedSizeDict = dynamo_type.DynamoType, dynamo_type.LimitedSizeDict
    bytesize, ItemSizeTooLarge = dynamo_type.bytesize, dynamo_type.ItemSizeTooLarge

    @functools.wraps(original)
    def __init__(self, hash_key, range_key, attrs):
        self.hash_key = hash_key
        self.range_key = range_key
        self.attrs = LimitedSizeDict()
        size = 0
        for key, value in attrs.items():
            typed = DynamoType(value)
            # moto's check, attribute by attribute: the size so far plus this one's.
            size += bytesize(key) + typed.size()
            if size > ITEM_SIZE_LIMIT:
                raise ItemSizeTooLarge
            dict.__setitem__(self.attrs, key, typed)

    setattr(__init__, _PATCHED, True)
    Item.__init__ = __init__
    return True


class _Partition:
    """The table as moto's Query sees it, its items reduced to one partition's."""

    __slots__ = ("_table", "_items")

    def __init__(self, table, items) -> None:
        self._table = table
        self._items = items

    def all_items(self):
        return list(self._items)

    def __getattr__(self, name):
        return getattr(self._table, name)


def _install_sorted_items(Table) -> bool:
    original = Table.all_items
    if getattr(original, _PATCHED, False):
        return True
    if original.__code__.co_varnames[:1] != ("self",) or "sorted" not in original.__code__.co_names:
        return False

    @functools.wraps(original)
    def all_items(self):
        items = _unsorted_items(self)
        # moto's key: (hash, range) when the item has a range key, else hash, compared as
        # DynamoType (same type, then cast_value): the same comparisons on plain values.
        if len({(item.hash_key.type, None if item.range_key is None else item.range_key.type) for item in items}) > 1:
            return original(self)
        return sorted(items, key=_item_key)

    setattr(all_items, _PATCHED, True)
    Table.all_items = all_items
    return True


def _unsorted_items(table) -> list:
    """The table's items in moto's storage order (partition by partition)."""
    items = []
    if table.range_key_attr:
        for hash_set in table.items.values():
            items.extend(hash_set.values())
    else:
        items.extend(table.items.values())
    return items


def _item_key(item):
    if item.range_key is not None:
        return item.hash_key.cast_value, item.range_key.cast_value
    return item.hash_key.cast_value


def _index_candidates(items, conditions):
    """The items whose attributes hold each condition's string (a string key's
    cast_value is the string itself): a superset of moto's own matches."""
    wanted = [(name, value.value) for name, value in conditions]
    found = []
    for item in items:
        attrs = item.attrs
        for name, text in wanted:
            held = attrs.get(name)
            if held is None or held.type != "S" or held.value != text:
                break
        else:
            found.append(item)
    return found


def _install_partition_query(Table) -> bool:
    original = Table.query
    if getattr(original, _PATCHED, False):
        return True
    names = original.__code__.co_varnames
    if names[:2] != ("self", "hash_key") or "index_name" not in names or not hasattr(Table, "all_items"):
        return False

    import copy
    import threading

    from moto.dynamodb.comparisons import OpDefault

    namespace = original.__globals__
    if namespace.get("copy") is not copy:
        return False
    plain = threading.local()
    namespace["copy"] = _CopyUnlessPlainQuery(copy, plain)

    @functools.wraps(original)
    def query(self, hash_key, *args, **kwargs):
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        # moto's positional order: range_comparison, range_objs, limit, exclusive_start_key,
        # scan_index_forward, projection_expressions, index_name, consistent_read, filter_expression.
        projection = kwargs.get("projection_expressions", args[5] if len(args) > 5 else None)
        filter_expression = kwargs.get("filter_expression", args[8] if len(args) > 8 else None)
        filters = {k for k in kwargs if k not in _QUERY_PARAMETERS}
        # No filter: moto's parser gives OpDefault (always true) for an absent expression.
        no_filter = filter_expression is None or type(filter_expression) is OpDefault
        if not index_name and not projection and no_filter and not filters and len(args) <= 9:
            plain.query = True
            try:
                return _partition_query(self, original, hash_key, args, kwargs)
            finally:
                plain.query = False
        return _partition_query(self, original, hash_key, args, kwargs)

    setattr(query, _PATCHED, True)
    Table.query = query
    return True


_QUERY_PARAMETERS = ("range_comparison", "range_objs", "limit", "exclusive_start_key", "scan_index_forward",
                     "projection_expressions", "index_name", "consistent_read", "filter_expression",
                     "hash_key_conditions", "range_key_conditions")


def _partition_query(self, original, hash_key, args, kwargs):
    """moto's Query, handed the one partition (or the index candidates) it looks at."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
    if index_name:
        conditions = kwargs.get("hash_key_conditions")
        if not conditions or any(type(value) is not DynamoType or value.type != "S" for _, value in conditions):
            return original(self, hash_key, *args, **kwargs)
        return original(_Partition(self, _index_candidates(_unsorted_items(self), conditions)), hash_key, *args,
                        **kwargs)
    if hash_key is None or self.range_key_attr is None:
        return original(self, hash_key, *args, **kwargs)
    # items is a defaultdict: .get, so that a Query on an absent partition adds none.
    partition = self.items.get(hash_key)
    return original(_Partition(self, partition.values() if partition else ()), hash_key, *args, **kwargs)


_NOT_MINE = object()  # a value the direct writer leaves to moto's serializer


def _attribute_value(value):
    """moto's JSON for one DynamoDB AttributeValue, or _NOT_MINE when it is not the
    one-key dict of a known type (moto's own serializer then answers)."""
    if type(value) is not dict or len(value) != 1:
        return _NOT_MINE
    ((kind, inner),) = value.items()
    if kind in ("S", "N"):
        return {kind: inner} if type(inner) is str else _NOT_MINE
    if kind in ("NULL", "BOOL"):
        return {kind: inner} if type(inner) is bool else _NOT_MINE
    if kind == "B":
        return {kind: _base64(inner)} if type(inner) is bytes else _NOT_MINE
    if kind in ("SS", "NS"):
        return {kind: list(inner)} if type(inner) is list and all(type(v) is str for v in inner) else _NOT_MINE
    if kind == "BS":
        if type(inner) is not list or not all(type(v) is bytes for v in inner):
            return _NOT_MINE
        return {kind: [_base64(v) for v in inner]}
    if kind == "M":
        if type(inner) is not dict:
            return _NOT_MINE
        members = {}
        for name, member in inner.items():
            if not name:
                return _NOT_MINE  # moto writes a member named "" into its parent map
            written = _attribute_value(member)
            if written is _NOT_MINE:
                return _NOT_MINE
            members[name] = written
        return {kind: members}
    if kind == "L":
        if type(inner) is not list:
            return _NOT_MINE
        elements = []
        for member in inner:
            written = _attribute_value(member)
            if written is _NOT_MINE:
                return _NOT_MINE
            elements.append(written)
        return {kind: elements}
    return _NOT_MINE


def _base64(value: bytes) -> str:
    import base64

    return base64.b64encode(value).strip().decode("utf-8")  # moto's ResponseSerializer._base64


def _install_attribute_values() -> bool:
    try:
        from moto.core.serialize import BaseJSONSerializer
    except ImportError:  # pragma: no cover - moto is a tool dependency
        return False
    original = BaseJSONSerializer._serialize_type_structure
    if getattr(original, _PATCHED, False):
        return True

    @functools.wraps(original)
    def _serialize_type_structure(self, serialized, value, shape, key):
        if key and shape.name == "AttributeValue" and self.service_model.service_name == "dynamodb":
            written = _attribute_value(value)
            if written is not _NOT_MINE:
                serialized[self.get_serialized_name(shape, key)] = written
                return
        original(self, serialized, value, shape, key)

    setattr(_serialize_type_structure, _PATCHED, True)
    BaseJSONSerializer._serialize_type_structure = _serialize_type_structure
    return True
