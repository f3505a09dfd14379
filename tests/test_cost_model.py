"""The monthly cost of docs/deployment.md is bench/bench_cost.py's (its model, with the
counts of its last run): the guide's table and total say what the bench prints, within 5 €."""

from __future__ import annotations

import re

from bench.bench_cost import BEFORE, TARGET_EUR, USD_TO_EUR, Counted, lines
from tests.conftest import ROOT


def test_the_guide_prints_the_benchs_lines_and_total_within_five_euros():
    guide = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
    rows = lines(Counted())
    for name, _, usd in rows:
        label = name.removesuffix(" (1 GB, x86)")
        row = re.search(rf"^\| {re.escape(label)} \| [^|]+ \| ([\d.]+) \| ([\d.]+) \|$", guide, re.M)
        assert row, name
        assert (row[1], row[2]) == (f"{usd:.2f}", f"{usd * USD_TO_EUR:.2f}"), name
    total = sum(usd for _, _, usd in rows)
    assert f"| **total** | | **{total:.2f}** | **{total * USD_TO_EUR:.2f}** |" in guide
    assert total * USD_TO_EUR <= TARGET_EUR
    before = sum(usd for _, _, usd in lines(BEFORE))
    assert f"({before:.2f} USD, {before * USD_TO_EUR:.2f} €)" in guide
