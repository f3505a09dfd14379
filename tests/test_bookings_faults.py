"""Faults in the middle of a booking leave nothing half-done."""

from __future__ import annotations

import json

from botocore.exceptions import ClientError
from chalicelib import storage as st

from tests.conftest import all_items
from tests.test_bookings_api import book, cookie_a  # noqa: F401  (fixtures)


def test_a_failed_second_write_rolls_back_the_first(client, cookie_a, storage, monkeypatch):  # noqa: F811
    """The counter update and the day are one transaction: when the day's write fails
    (another request booked it between our read and our write), the seat is not taken."""
    day, service = "2014-12-11", "GARDERIE_MIDI"
    storage.put({"pk": f"SERVICEDAY#{service}#{day}", "sk": "COUNTER", "validated": 3})
    real_transact = st.Storage.transact

    def race_then_write(self, actions):
        # Between the decision and the write, the same day appears (a concurrent request).
        self.put({"pk": "FAMILY#100", "sk": f"DAY#1#{day}#{service}", "kind": "day", "status": "validated",
                  "child_id": "1", "date": day, "service": service})
        monkeypatch.setattr(st.Storage, "transact", real_transact)
        return real_transact(self, actions)

    monkeypatch.setattr(st.Storage, "transact", race_then_write)
    (result,) = json.loads(book(client, cookie_a, [(day, service, "reserve")]).body)["results"]
    assert (result["status"], result["reason"]) == ("refused", "already_booked")
    assert storage.get(f"SERVICEDAY#{service}#{day}", "COUNTER")["validated"] == 3


def test_an_aws_failure_answers_503_and_writes_nothing(client, cookie_a, storage, monkeypatch):  # noqa: F811
    before = all_items(storage)

    def unavailable(self, actions):
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "boom"}}, "TransactWriteItems")

    monkeypatch.setattr(st.Storage, "transact", unavailable)
    response = book(client, cookie_a, [("2014-12-11", "GARDERIE_MIDI", "reserve"),
                                       ("2014-12-12", "RESTAURATION", "reserve")])
    assert response.status_code == 503
    error = json.loads(response.body)["error"]
    assert error["code"] == "service_unavailable" and "réessayez" in error["message"]
    after = all_items(storage)
    # Only the session's last-seen may have moved; no day, counter or request was written.
    new = [i for i in after if i not in before and not i["pk"].startswith("SESSION#")]
    assert new == []


def test_an_aws_failure_while_reading_the_session_is_a_503(client, cookie_a, monkeypatch):  # noqa: F811
    def unavailable(self, token_hash):
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}}, "GetItem")

    monkeypatch.setattr(st.Storage, "session", unavailable)
    response = client.http.get("/api/me", headers={"Cookie": cookie_a})
    assert response.status_code == 503
    assert response.headers["Cache-Control"] == "no-store"
