"""The DynamoDB words of credit notes (chalicelib.credit_notes, docs/data-model.md): the
per-invoice credited amount raised under its cap, the check that an invoice's paid amount
is still the one read, and an invoice found by its number (gsi2, where the invoicing run
files it: `INVOICES#NUMBER#<number>`)."""

from __future__ import annotations

from decimal import Decimal

from chalicelib.keys import family_pk
from chalicelib.transactions import deserialise, serialise

INVOICE_NUMBER_PREFIX = "INVOICES#NUMBER#"  # gsi2pk of an invoice, by its number


def credited_add_action(storage, family_number: str, invoice_number: str, month: str, amount: Decimal,
                        cap: Decimal) -> dict:
    """A transaction action: `amount` more credited on the invoice, on the condition that
    what was credited before is at most `cap` (the invoice's total less `amount`). Two
    credit notes at once on one invoice: the second one's condition fails."""
    from chalicelib.storage import credited_sk

    return {"Update": {
        "TableName": storage.table_name,
        "Key": serialise({"pk": family_pk(family_number), "sk": credited_sk(invoice_number)}),
        "UpdateExpression": "SET #number = :number, #month = :month, kind = :kind ADD amount :amount",
        "ConditionExpression": "attribute_not_exists(amount) OR amount <= :cap",
        "ExpressionAttributeNames": {"#number": "invoice_number", "#month": "month"},
        "ExpressionAttributeValues": serialise({":number": invoice_number, ":month": month, ":kind": "credited",
                                                ":amount": amount, ":cap": cap}),
    }}


def paid_unchanged_action(storage, invoice: dict) -> dict:
    """A transaction action that writes nothing: the invoice's paid amount is still the one
    read (a payment meanwhile changes how much of the credit note it settles)."""
    paid = invoice.get("paid_amount")
    check = {"TableName": storage.table_name, "Key": serialise({"pk": invoice["pk"], "sk": invoice["sk"]})}
    if paid is None:
        check["ConditionExpression"] = "attribute_exists(pk) AND attribute_not_exists(paid_amount)"
    else:
        check["ConditionExpression"] = "attribute_exists(pk) AND paid_amount = :paid"
        check["ExpressionAttributeValues"] = serialise({":paid": paid})
    return {"ConditionCheck": check}


def invoice_by_number(storage, number: str) -> dict | None:
    """The invoice numbered `number`, from one Query of gsi2 (invoices written before the
    run filed them there are found with their family's number only)."""
    page = storage.client.query(
        TableName=storage.table_name, IndexName="gsi2", KeyConditionExpression="gsi2pk = :pk",
        ExpressionAttributeValues=serialise({":pk": INVOICE_NUMBER_PREFIX + number}))
    items = [deserialise(i) for i in page["Items"]]
    if not items:
        return None
    found = items[0]
    return storage.get(found["pk"], found["sk"])  # the index may project less than the item
