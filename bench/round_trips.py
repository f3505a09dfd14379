"""Counts DynamoDB round trips with botocore's event hooks (one per HTTP request sent)."""

from __future__ import annotations

from collections import Counter


class RoundTrips:
    def __init__(self, client):
        self.by_operation: Counter[str] = Counter()
        client.meta.events.register("before-send.dynamodb", self._count)

    def _count(self, request, **_):
        target = request.headers.get("X-Amz-Target", b"")
        if isinstance(target, bytes):
            target = target.decode()
        self.by_operation[target.rsplit(".", 1)[-1] or "?"] += 1

    @property
    def total(self) -> int:
        return sum(self.by_operation.values())

    def reset(self) -> None:
        self.by_operation.clear()
