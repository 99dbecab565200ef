"""Chapter 02's experiments: concurrent adds to a database and to an object, gates on and off."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from dolab import DurableObject, WorkerEntrypoint
from dolab.lessons.concurrency import (
    answer_when_the_write_fails,
    db_adds,
    history,
    lanes,
    object_adds,
    same_answers,
    summary,
    with_options,
)
from dolab.runtime.errors import LabError


class NaiveDatabaseCart(WorkerEntrypoint):
    async def add(self, user: str) -> int:
        rows = await self.env.DB.query("SELECT n FROM carts WHERE user = ?", user)
        n = rows[0][0] + 1
        await self.env.DB.query("UPDATE carts SET n = ? WHERE user = ?", n, user)
        return int(n)


class AtomicUpdateCart(WorkerEntrypoint):
    async def add(self, user: str) -> int:
        rows = await self.env.DB.query("UPDATE carts SET n = n + 1 WHERE user = ? RETURNING n", user)
        return int(rows[0][0])


class TransactionCart(WorkerEntrypoint):
    async def add(self, user: str) -> int:
        async with self.env.DB.transaction() as tx:
            rows = await tx.query("SELECT n FROM carts WHERE user = ?", user)
            n = rows[0][0] + 1
            await tx.query("UPDATE carts SET n = ? WHERE user = ?", n, user)
        return int(n)


class Cart(DurableObject):
    read_options: dict[str, Any] = {}
    write_options: dict[str, Any] = {}

    async def add(self) -> int:
        count = (await self.ctx.storage.get("count", self.read_options)) or 0
        self.ctx.storage.put("count", count + 1, self.write_options)
        return int(count + 1)


class Catalog(DurableObject):
    async def price(self, sku: str) -> float:
        await asyncio.sleep(0.02)
        return 9.99


class PricedCart(Cart):
    async def add(self) -> int:
        count = (await self.ctx.storage.get("count", self.read_options)) or 0
        await self.env.CATALOG.getByName("catalog").price("sku")
        self.ctx.storage.put("count", count + 1, self.write_options)
        return int(count + 1)


def test_the_naive_database_cart_loses_and_every_fix_keeps_at_a_price() -> None:
    naive, atomic, txn = (db_adds(cls, 16, seed=1) for cls in (NaiveDatabaseCart, AtomicUpdateCart, TransactionCart))
    assert naive.final < 4 and naive.lost == 16 - naive.final and naive.acknowledged == 16
    assert atomic.final == txn.final == 16 and atomic.lost == txn.lost == 0
    assert summary(naive)["round_trips_per_add"] == 2 and summary(atomic)["round_trips_per_add"] == 1
    assert summary(txn)["round_trips_per_add"] == 4
    # the transaction's lock makes the adds wait in line: the last waits for 15 others
    assert summary(txn)["slowest_ms"] > 10 * summary(atomic)["slowest_ms"]
    assert summary(txn)["lock_wait_ms_per_add"] > 0 == summary(atomic)["lock_wait_ms_per_add"]


def test_a_lost_update_is_two_adds_that_answered_the_same_count() -> None:
    naive = db_adds(NaiveDatabaseCart, 6, seed=2)
    first, second, count = same_answers(naive)[0]
    assert first != second and count == 1
    ops = history(naive)
    assert len(ops) == 6 and all(op.read_at < op.wrote_at and op.wrote == op.read + 1 for op in ops)
    assert same_answers(db_adds(AtomicUpdateCart, 6, seed=2)) == []


def test_the_input_gate_serialises_the_object_and_allow_concurrency_does_not() -> None:
    gated = object_adds(Cart, 16, seed=1, storage_latency=0.001)
    assert (gated.final, gated.lost, gated.round_trips) == (16, 0, 16)
    waits = [s for lane in lanes(gated) for s in lane.segments if s.kind == "queue"]
    assert len(waits) >= 14  # almost every add waited at the gate for the others' reads
    racy = object_adds(with_options(Cart, read={"allowConcurrency": True}), 16, seed=1)
    assert racy.final <= 2 and racy.lost >= 14
    kinds = {s.kind for lane in lanes(racy) for s in lane.segments}
    assert "storage-concurrent" in kinds and "queue" not in kinds


def test_an_outside_await_lets_others_in() -> None:
    priced = object_adds(PricedCart, 8, seed=1, others={"CATALOG": Catalog})
    assert priced.final < 3 and priced.lost > 5


def test_the_output_gate_holds_replies_and_drops_the_one_whose_write_failed() -> None:
    ok = object_adds(Cart, 8, seed=1)
    assert all(any(s.kind == "replication" for s in lane.segments) for lane in lanes(ok))
    failing = object_adds(Cart, 8, seed=1, fail_write=True)
    assert failing.acknowledged == 7 and failing.final == 7 and failing.lost == 0
    assert "storage write caused object to be reset" in next(a.error for a in failing.adds if not a.ok)
    eager = object_adds(with_options(Cart, write={"allowUnconfirmed": True}), 8, seed=1, fail_write=True)
    assert eager.lost == 1  # told "added", not kept
    assert not any(s.kind == "replication" for lane in lanes(eager) for s in lane.segments)


def test_answer_when_the_write_fails() -> None:
    assert answer_when_the_write_fails(Cart) == ("error", None)
    assert answer_when_the_write_fails(with_options(Cart, write={"allowUnconfirmed": True})) == ("added", None)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(LabError, match="n must be an int from 1 to 1000"):
        object_adds(Cart, 0)
    with pytest.raises(LabError, match="worker must be a WorkerEntrypoint subclass"):
        db_adds(Cart, 2)
    with pytest.raises(LabError, match="cart must be a DurableObject subclass"):
        object_adds(NaiveDatabaseCart, 2)


def test_charts_and_the_explorer(tmp_path: Path) -> None:
    from dolab.view.gate_explorer import gate_explorer
    from dolab.view.gateplots import plot_atomicity, plot_lanes
    from dolab.view.plots import plot_interleaving

    plot_lanes(object_adds(Cart, 6, seed=1)).savefig(tmp_path / "lanes.png")
    plot_lanes(db_adds(TransactionCart, 4, seed=1), home="DB", show_network=True).savefig(tmp_path / "txn.png")
    plot_atomicity([summary(db_adds(AtomicUpdateCart, 4, seed=1))]).savefig(tmp_path / "bars.png")
    plot_interleaving(history(db_adds(NaiveDatabaseCart, 4, seed=1))).savefig(tmp_path / "naive.png")
    assert all((tmp_path / f).stat().st_size > 5000 for f in ("lanes.png", "txn.png", "bars.png", "naive.png"))

    explorer = gate_explorer(Cart, PricedCart, Catalog, adds=6)
    explorer.run_button.click()  # no prediction yet: refused, nothing run
    assert "Predict first" in explorer.result.value and explorer.last is None
    explorer.prediction.value = "six"
    assert explorer.run() is None and "not a whole number" in explorer.result.value
    explorer.prediction.value = "6"
    explorer.run_button.click()
    assert explorer.last is not None and explorer.last.final == 6
    assert "✓ right" in explorer.result.value and explorer.image.value[:4] == b"\x89PNG"
    first_picture = explorer.image.value
    explorer.switches["allowConcurrency"].value = True  # new settings: the old prediction is gone
    assert explorer.prediction.value == "" and "Settings changed" in explorer.result.value
    explorer.prediction.value = "6"
    explorer.run_button.click()
    assert explorer.last.final < 6 and "✗ not quite" in explorer.result.value
    assert explorer.image.value != first_picture
    explorer.switches["allowConcurrency"].value = False
    explorer.switches["outside"].value = True
    explorer.prediction.value = "1"
    assert explorer.run() is not None and explorer.last.final < 6
    assert not explorer.run_button.disabled and explorer.run_button.description == "Run"
