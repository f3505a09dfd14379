"""Two starts of one month's invoicing at once, through the embedded AWS (moto's server
behind its lock): exactly one run takes the month's lock, every other start is refused
(chalicelib/invoicing_runs.py, docs/billing.md)."""

from __future__ import annotations

import pytest
from chalicelib import invoicing_runs
from chalicelib.refusals import Refusal

from tests.conftest import GUIDE_NOW, race
from tests.test_accounts_race import storage_for

pytestmark = pytest.mark.server
THREADS = 8


def test_starts_of_one_month_at_once_give_one_run(embedded_aws, embedded_resources, commune):
    storage = storage_for(embedded_aws, THREADS)

    answers = race(THREADS, lambda n: invoicing_runs.start(storage, commune, "2014-10", GUIDE_NOW, f"regie{n}",
                                                           real_now=1_000_000), Refusal)

    won = [a for a in answers if isinstance(a, dict)]
    assert len(won) == 1 and not won[0]["resumed"]
    assert all(a.status == 409 for a in answers if isinstance(a, Refusal))
    assert storage.get("INVOICING#2014-10", "RUN")["run_id"] == won[0]["run_id"]

    # Its lease expired (a crash): of many « Reprendre » at once, one takes it over.
    later = 1_000_000 + invoicing_runs.LEASE_SECONDS + 1
    answers = race(THREADS, lambda n: invoicing_runs.start(storage, commune, "2014-10", GUIDE_NOW, f"regie{n}",
                                                           real_now=later), Refusal)
    taken = [a for a in answers if isinstance(a, dict)]
    assert len(taken) == 1 and taken[0]["resumed"]
    assert storage.get("INVOICING#2014-10", "RUN")["run_id"] == taken[0]["run_id"]
