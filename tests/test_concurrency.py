"""Chapter 02's experiments: lost updates, the gates, and the invariant checker."""

from __future__ import annotations

import pytest

from dolab.lessons.concurrency import Operation, check_no_lost_items, concurrent_adds, lost_updates_curve
from dolab.runtime.errors import LabError


def test_the_database_design_loses_updates_and_the_object_does_not() -> None:
    db = concurrent_adds("external-db", 8, seed=1)
    do = concurrent_adds("do-per-user", 8, seed=1)
    assert db.final < 8 and db.lost == 8 - db.final
    assert do.final == 8 and do.lost == 0
    assert len(db.history) == len(do.history) == 8


def test_object_history_is_serial() -> None:
    run = concurrent_adds("do-per-user", 12, seed=2)
    reads = sorted(op.read for op in run.history)
    assert reads == list(range(12))  # every add read a different value: no two interleaved
    assert all(op.wrote == op.read + 1 for op in run.history)


def test_checker_verdicts() -> None:
    db = concurrent_adds("external-db", 8, seed=1)
    verdict = check_no_lost_items(db.history, db.final)
    assert verdict.status == "invalid" and not verdict.valid
    first, second = verdict.counterexample
    assert first.read == second.read and first.request != second.request
    assert f"both read {first.read}" in verdict.explanation
    do = concurrent_adds("do-per-user", 8, seed=1)
    assert check_no_lost_items(do.history, do.final).valid


def test_checker_says_unknown_when_it_cannot_explain() -> None:
    ops = [Operation(i, 0, 0, i, 0, i + 1, 0) for i in range(3)]
    assert check_no_lost_items(ops, 3).status == "valid"
    assert check_no_lost_items(ops, 2).status == "unknown"


def test_more_concurrency_loses_more() -> None:
    rows = lost_updates_curve([1, 4, 16], seed=1)
    db = [r["lost"] for r in rows if r["design"] == "external-db"]
    assert db[0] == 0 and db[0] <= db[1] < db[2]
    assert all(r["lost"] == 0 for r in rows if r["design"] == "do-per-user")


def test_bad_arguments() -> None:
    with pytest.raises(LabError, match="design must be one of"):
        concurrent_adds("carrier-pigeon", 2)
    with pytest.raises(LabError, match="n must be an int >= 1, got 0"):
        concurrent_adds("external-db", 0)


def test_charts_render(tmp_path: object) -> None:
    from pathlib import Path

    from dolab.view.plots import plot_interleaving, plot_lost_updates

    out = Path(str(tmp_path))
    plot_lost_updates(lost_updates_curve([1, 2], seed=1)).savefig(out / "lost.png")
    plot_interleaving(concurrent_adds("external-db", 3, seed=1).history).savefig(out / "timeline.png")
    assert (out / "lost.png").stat().st_size > 5000 and (out / "timeline.png").stat().st_size > 5000
