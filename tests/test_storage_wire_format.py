"""Only storage speaks DynamoDB's wire format: `chalicelib/storage.py` and its helper
`chalicelib/transactions.py` write the expressions, build the transaction actions,
(de)serialise values and call the client; the domain (the rest of `functions/`) says
what it wants in its own words. The check reads the code's syntax tree, so comments and
docstrings may name DynamoDB's words; a failure names the file and the line."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.conftest import ROOT

FUNCTIONS = ROOT / "functions"
# chalicelib/staff/store.py: the staff items' conditional writes (docs/staff.md);
# chalicelib/staff/journal_store.py: the staff journal's Queries (docs/data-model.md);
# chalicelib/staff/sent_store.py: the sent messages' counters (docs/messages.md).
STORAGE = {Path("chalicelib/storage.py"), Path("chalicelib/transactions.py"), Path("chalicelib/staff/store.py"),
           Path("chalicelib/invoicing_store.py"), Path("chalicelib/credit_store.py"),
           Path("chalicelib/staff/journal_store.py"), Path("chalicelib/staff/sent_store.py"),
           Path("chalicelib/agenda_store.py"),
           # A booking's writes applied to the state it read, as the table gives items back.
           Path("chalicelib/submission.py")}

# Parameters of DynamoDB's API (as keyword arguments or dict keys).
PARAMETERS = {"ConditionExpression", "UpdateExpression", "KeyConditionExpression", "FilterExpression",
              "ProjectionExpression", "ExpressionAttributeNames", "ExpressionAttributeValues", "TransactItems",
              "RequestItems", "ExclusiveStartKey", "ReturnValues"}
# The kinds of a TransactWriteItems action, as the keys of its dicts.
ACTION_KINDS = {"Put", "Update", "Delete", "ConditionCheck", "PutRequest", "DeleteRequest"}
# The client's calls: `<...>.client.<call>(...)`.
CLIENT_CALLS = {"scan", "query", "get_item", "put_item", "update_item", "delete_item", "batch_get_item",
                "batch_write_item", "transact_write_items", "transact_get_items"}
WIRE_NAMES = {"serialise", "deserialise", "TypeSerializer", "TypeDeserializer"}
# An expression's text: a function of the expression language, an update clause, or a
# comparison with a `:placeholder`.
EXPRESSION = re.compile(r"\b(attribute_(not_)?exists|attribute_type|begins_with|if_not_exists|list_append)\s*\("
                        r"|\b(SET|ADD|REMOVE|DELETE)\s+#?\w+(\s*=|\s+:)"
                        r"|(=|<>|<|>)\s*:\w|\bIN\s*\(\s*:")


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _named(node: ast.AST, name: str) -> bool:
    return (isinstance(node, ast.Name) and node.id == name) or (isinstance(node, ast.Attribute) and node.attr == name)


def wire_format_uses(source: str) -> list[tuple[int, str]]:
    """(line, what) for every use of DynamoDB's wire format in a module's code."""
    tree = ast.parse(source)
    docstrings = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg in PARAMETERS:
            found.append((node.value.lineno, f"DynamoDB parameter {node.arg}="))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if node.value in PARAMETERS:
                found.append((node.lineno, f"DynamoDB parameter {node.value!r}"))
            elif node.value in ACTION_KINDS:
                found.append((node.lineno, f"transaction action {node.value!r}"))
            elif EXPRESSION.search(node.value):
                found.append((node.lineno, f"expression {node.value!r}"))
        elif isinstance(node, ast.Attribute):
            if node.attr in CLIENT_CALLS and _named(node.value, "client"):
                found.append((node.lineno, f"client call .client.{node.attr}"))
            elif node.attr in {"client", "table_name"} and _named(node.value, "storage"):
                found.append((node.lineno, f"storage's own .{node.attr}"))
            elif node.attr in WIRE_NAMES:
                found.append((node.lineno, f"wire format {node.attr}"))
        elif isinstance(node, ast.Name) and node.id in WIRE_NAMES:
            found.append((node.lineno, f"wire format {node.id}"))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("boto3.dynamodb"):
            found.append((node.lineno, f"import from {node.module}"))
        elif isinstance(node, ast.Import) and any(a.name.startswith("boto3.dynamodb") for a in node.names):
            found.append((node.lineno, "import boto3.dynamodb"))
    return sorted(found)


def test_the_check_finds_each_kind_of_wire_format():
    source = '''
"""A docstring may say ConditionExpression, "Update" and SET #s = :new."""
from boto3.dynamodb.types import TypeSerializer
from chalicelib import storage as st

def write(storage, key):
    # a comment may too: UpdateExpression
    storage.client.update_item(TableName=storage.table_name, Key=st.serialise(key),
                               UpdateExpression="SET #s = :new", ConditionExpression="#s = :old")
    action = {"Put": {"Item": {}, "ConditionExpression": "attribute_not_exists(pk)"}}
    storage.transact([{"Delete": {}}, action])
    return storage.client.scan(FilterExpression="begins_with(pk, :p)")
'''
    assert wire_format_uses(source) == sorted([
        (3, "import from boto3.dynamodb.types"),
        (8, "storage's own .client"), (8, "client call .client.update_item"), (8, "storage's own .table_name"),
        (8, "wire format serialise"),
        (9, "DynamoDB parameter UpdateExpression="), (9, "expression 'SET #s = :new'"),
        (9, "DynamoDB parameter ConditionExpression="), (9, "expression '#s = :old'"),
        (10, "transaction action 'Put'"), (10, "DynamoDB parameter 'ConditionExpression'"),
        (10, "expression 'attribute_not_exists(pk)'"),
        (11, "transaction action 'Delete'"),
        (12, "storage's own .client"), (12, "client call .client.scan"), (12, "DynamoDB parameter FilterExpression="),
        (12, "expression 'begins_with(pk, :p)'"),
    ])
    # The domain's own words pass.
    assert wire_format_uses('storage.transact([storage.take_seat_action("GARDERIE_MIDI", day, 12)])\n'
                            'methods = ["GET", "DELETE"]\nstatus = "validated"\n') == []


def test_only_storage_speaks_dynamodbs_wire_format():
    offences = []
    for path in sorted(FUNCTIONS.rglob("*.py")):
        relative = path.relative_to(FUNCTIONS)
        if relative in STORAGE:
            continue
        for line, what in wire_format_uses(path.read_text(encoding="utf-8")):
            offences.append(f"functions/{relative}:{line}: {what}")
    assert not offences, ("DynamoDB's wire format outside chalicelib/storage.py and chalicelib/transactions.py "
                          "(say it there, in a method named after what the domain wants):\n" + "\n".join(offences))
