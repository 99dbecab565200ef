"""Chapter 09's experiments (dolab.lessons.storage) and its charts: where state lives over an
object's life, what rows cost a month, and a rush of concurrent buyers."""

from __future__ import annotations

from typing import Any

import pytest

from dolab import ConfigError, DurableObject
from dolab.lessons.storage import lifecycle, price_queries, rush
from dolab.view.storageplots import bills_frame, plot_lifecycle, plot_query_bill


class Counter(DurableObject):
    def __init__(self, ctx: Any, env: Any) -> None:
        super().__init__(ctx, env)
        self.memory = 0

    async def visit(self) -> dict[str, int]:
        self.memory += 1
        stored = (self.ctx.storage.kv.get("n") or 0) + 1
        self.ctx.storage.kv.put("n", stored)
        return {"memory": self.memory, "kv": stored}


def test_lifecycle_says_where_the_object_was_and_what_each_call_saw() -> None:
    timeline = lifecycle(Counter, [(0, "visit"), (2, "visit"), (30, "visit"), (35, "evict"), (40, "visit")],
                         until=45)
    assert [m.answer["memory"] for m in timeline.moments if m.answer] == [1, 2, 1, 1]
    assert [m.answer["kv"] for m in timeline.moments if m.answer] == [1, 2, 3, 4]
    assert timeline.constructed == 3
    # idle 10 s after the call at 2 s: hibernated from 12 s until the call at 30 s
    assert timeline.state_at(11) == "in memory" and timeline.state_at(13) == "hibernated"
    assert timeline.state_at(36) == "evicted" and timeline.state_at(41) == "in memory"
    assert [s.state for s in timeline.spans] == ["in memory", "hibernated", "in memory", "evicted", "in memory"]
    with pytest.raises(ConfigError, match="time order"):
        lifecycle(Counter, [(5, "visit"), (1, "visit")])
    fig = plot_lifecycle(timeline, [("memory", "memory"), ("kv", "KV")])
    assert len(fig.axes) == 3


def test_price_queries_uses_the_included_rows_and_the_published_prices() -> None:
    scan, index = price_queries({"scan": (5_001, 1), "index": (10, 2)}, reads_per_second=50, writes_per_second=20)
    month = 30 * 24 * 3600
    assert scan.rows_read == 5_001 * 50 * month and index.rows_written == 2 * 20 * month
    # 648.1 billion rows read, 25 billion included, $0.001 per million beyond
    assert scan.read_usd == pytest.approx((5_001 * 50 * month - 25e9) / 1e6 * 0.001)
    assert index.read_usd == 0  # 1.3 billion: inside the allowance
    assert index.written_usd == pytest.approx((2 * 20 * month - 50e6) / 1e6 * 1.00)
    assert scan.total_usd == pytest.approx(624.97) and index.total_usd == pytest.approx(53.68)
    assert list(bills_frame([scan, index])["total $"]) == [scan.total_usd, index.total_usd]
    assert len(plot_query_bill([scan, index]).axes) == 2
    with pytest.raises(ConfigError, match="reads_per_second"):
        price_queries({"x": (1, 1)}, reads_per_second=-1, writes_per_second=0)


class Prices(DurableObject):
    async def quote(self, gig: str) -> int:
        return (await self.ctx.storage.get(gig)) or 40


class Seats(DurableObject):
    """Ten seats; buy() reads, awaits another object, then writes: the lost update."""

    def __init__(self, ctx: Any, env: Any) -> None:
        super().__init__(ctx, env)
        ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS seats (left INTEGER NOT NULL);"
                             "INSERT INTO seats SELECT 10 WHERE NOT EXISTS (SELECT 1 FROM seats)")

    async def buy(self, safe: bool) -> bool:
        sql = self.ctx.storage.sql
        if safe:
            await self.env.PRICES.getByName("p").quote("x")
        left = sql.exec("SELECT left FROM seats").one().left
        if left == 0:
            return False
        if not safe:
            await self.env.PRICES.getByName("p").quote("x")
        sql.exec("UPDATE seats SET left = ?", left - 1)
        return True


def left(obj: Any, ctx: Any) -> int:
    return int(ctx.storage.sql.exec("SELECT left FROM seats").one().left)


@pytest.mark.parametrize("safe", [False, True])
def test_rush_finds_the_lost_update_and_not_its_fix(safe: bool) -> None:
    result = rush({"SEATS": Seats, "PRICES": Prices}, "SEATS", "hall", "buy", [safe], n=30, seed=1, inspect=left)
    sold = sum(1 for answer in result.answers if answer)
    assert not result.errors
    if safe:
        assert (sold, result.final) == (10, 0)
    else:
        assert sold > 10 and result.final > 0  # more tickets than seats, and the count is wrong too


def test_rush_reports_errors_by_their_last_line() -> None:
    class Broken(DurableObject):
        async def buy(self) -> None:
            raise ValueError("no seats table")

    result = rush({"BROKEN": Broken}, "BROKEN", "b", "buy", n=3)
    assert result.errors == ("ValueError: no seats table",) * 3 and result.final is None
    with pytest.raises(ConfigError, match="n must be"):
        rush({"BROKEN": Broken}, "BROKEN", "b", "buy", n=0)
