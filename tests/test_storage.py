"""The storage module: one table, a family's whole state in one Query."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from chalicelib import storage as st
from chalicelib import table

from bench.round_trips import RoundTrips


def test_the_table_definition_is_one_for_aws_tests_and_cloudformation():
    request = table.create_table_request("t")
    resource = table.cloudformation_resource()["Properties"]
    for key in ("KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes", "BillingMode"):
        assert request[key] == resource[key]
    assert resource["TimeToLiveSpecification"] == {"Enabled": True, "AttributeName": "expires_at"}


def test_ttl_is_on(storage):
    ttl = storage.client.describe_time_to_live(TableName=storage.table_name)
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires_at"


def test_a_familys_whole_state_is_one_query(storage):
    family = st.family_pk("42")
    storage.batch_write([
        {"pk": family, "sk": st.PROFILE, "family_number": "42", "page_key": st.new_page_key()},
        {"pk": family, "sk": st.responsable_sk(1), "last_name": "ZTEST"},
        {"pk": family, "sk": st.child_sk("1"), "first_name": "CONNIE"},
        {"pk": family, "sk": "DAY#1#2014-12-05#GARDERIE_MATIN", "status": "validated"},
        {"pk": family, "sk": "INVOICE#FAC-1", "total": Decimal("12.30")},
        {"pk": family, "sk": "OPERATION#000000001", "debit": Decimal("12.30")},
        {"pk": family, "sk": "PAYMENT#2014-12-10#FAC-1", "amount": Decimal("12.30")},
        {"pk": family, "sk": "MESSAGE#2014-12-01#a", "subject": "Lu", "read_at": "2014-12-02"},
        {"pk": family, "sk": "MESSAGE#2014-12-03#b", "subject": "Nouveau"},
        {"pk": family, "sk": "REQUEST#2014-11-26#c", "items": []},
        {"pk": st.family_pk("43"), "sk": st.PROFILE, "family_number": "43"},
    ])
    trips = RoundTrips(storage.client)
    state = storage.family_state("42")
    assert trips.by_operation == {"Query": 1}
    assert state.profile["family_number"] == "42"
    assert [len(x) for x in (state.responsables, state.children, state.days, state.invoices,
                             state.operations, state.payments, state.messages, state.requests)] == [1, 1, 1, 1, 1, 1, 2, 1]
    assert state.invoices[0]["total"] == Decimal("12.30")
    assert state.unread_messages == 1
    assert storage.family_state("44").profile is None


def test_batches_are_chunked_and_complete(storage):
    items = [{"pk": st.family_pk(str(n)), "sk": st.PROFILE, "family_number": str(n),
              "gsi1pk": "FAMILIES", "gsi1sk": f"{n:04d}"} for n in range(230)]
    trips = RoundTrips(storage.client)
    storage.batch_write(items)
    assert trips.by_operation == {"BatchWriteItem": 10}  # 230 items, 25 per call
    trips.reset()
    found = storage.batch_get([(i["pk"], i["sk"]) for i in items] + [(st.family_pk("x"), st.PROFILE)])
    assert len(found) == 230
    assert trips.by_operation == {"BatchGetItem": 3}  # 231 keys, 100 per call
    assert len(storage.family_numbers()) == 230


def test_floats_never_reach_the_table(storage):
    with pytest.raises(TypeError, match="no floats"):
        storage.put({"pk": "X", "sk": "Y", "amount": 1.1})


def test_audit_entries_are_kept_by_day(storage):
    when = datetime.fromisoformat("2014-11-28T23:30:00+01:00")
    storage.audit(when, "ztest", "import", {"families": 3})
    (entry,) = storage.audit_entries(when.date())
    assert (entry["actor"], entry["action"], entry["details"]) == ("ztest", "import", {"families": 3})
    assert entry["at"] == "2014-11-28T22:30:00+00:00"


def test_logins_are_case_insensitive_keys():
    assert st.login_pk(" ZTest ") == st.login_pk("ztest") == "LOGIN#ztest"
