"""Alarms: one per object, on the lab clock, at least once, retried with backoff, durable."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from dolab import DurableObject, DurableObjectError, Lab, ResetError


class Reminder(DurableObject):
    fails = 0
    runs: list[tuple[float, Any, Any]] = []
    constructed = 0

    def __init__(self, ctx: Any, env: Any) -> None:
        super().__init__(ctx, env)
        type(self).constructed += 1

    async def remind_in(self, seconds: float) -> Any:
        await self.ctx.storage.setAlarm(self.env.clock() + seconds * 1000)
        return await self.ctx.storage.getAlarm()

    async def remind_at(self, when: Any) -> Any:
        await self.ctx.storage.setAlarm(when)
        return await self.ctx.storage.getAlarm()

    async def cancel(self) -> Any:
        await self.ctx.storage.deleteAlarm()
        return await self.ctx.storage.getAlarm()

    async def set_then_abort(self) -> None:
        await self.ctx.storage.setAlarm(self.env.clock() + 1000)
        self.ctx.abort()

    async def wipe(self) -> Any:
        await self.ctx.storage.deleteAll()
        return await self.ctx.storage.getAlarm()

    async def get(self) -> Any:
        return await self.ctx.storage.getAlarm()

    async def alarm(self, alarm_info: Any = None) -> None:
        inside = await self.ctx.storage.getAlarm()
        type(self).runs.append((self.env.now(), alarm_info, inside))
        if type(self).fails:
            type(self).fails -= 1
            raise RuntimeError("mail server down")


class NoHandler(DurableObject):
    async def try_set(self) -> None:
        await self.ctx.storage.setAlarm(10**13)

    async def get(self) -> Any:
        return await self.ctx.storage.getAlarm()


def make_lab(**kwargs: Any) -> Lab:
    Reminder.fails, Reminder.runs, Reminder.constructed = 0, [], 0
    lab = Lab(durable_objects={"R": Reminder, "N": NoHandler}, **kwargs)
    lab.env.clock = lambda: lab.time_ms
    lab.env.now = lambda: lab.now
    return lab


def test_alarm_fires_on_time_once() -> None:
    with make_lab() as lab:
        stub = lab.env.R.getByName("cart")
        assert lab.run(stub.remind_in(86_400)) == lab.time_ms + 86_400_000
        lab.advance(86_399)
        assert Reminder.runs == []
        lab.advance(2)
        assert [(t, dict(info), inside) for t, info, inside in Reminder.runs] == [
            (86_400.0, {"retryCount": 0, "isRetry": False}, None)  # getAlarm() is None inside the handler
        ]
        lab.advance(7 * 86_400)  # alarms do not repeat by themselves
        assert len(Reminder.runs) == 1
        assert lab.run(stub.get()) is None


def test_one_alarm_per_object_and_delete() -> None:
    with make_lab() as lab:
        stub = lab.env.R.getByName("cart")
        lab.run(stub.remind_in(100))
        assert lab.run(stub.remind_in(50)) == lab.time_ms + 50_000  # replaces the first
        lab.advance(200)
        assert [t for t, _, _ in Reminder.runs] == [50.0]
        lab.run(stub.remind_in(10))
        assert lab.run(stub.cancel()) is None
        lab.advance(20)
        assert len(Reminder.runs) == 1


def test_past_times_and_datetimes() -> None:
    with make_lab() as lab:
        stub = lab.env.R.getByName("cart")
        lab.advance(100)
        assert lab.run(stub.remind_at(1.0)) == lab.time_ms  # long past: stored as now, as workerd does
        lab.advance(0.001)  # and it fires a moment later (never in the same instant)
        assert [t for t, _, _ in Reminder.runs] == [pytest.approx(100.001)]
        when = dt.datetime(2026, 1, 1, 0, 10, tzinfo=dt.UTC)  # the lab clock starts 2026-01-01Z
        assert lab.run(stub.remind_at(when)) == when.timestamp() * 1000
        lab.advance(600)
        assert [t for t, _, _ in Reminder.runs] == [pytest.approx(100.001), 600.0]


def test_failing_handler_is_retried_with_backoff_then_abandoned() -> None:
    with make_lab(seed=3) as lab:
        Reminder.fails = 100
        lab.run(lab.env.R.getByName("cart").remind_in(10))
        lab.advance(1000)
        times = [t for t, _, _ in Reminder.runs]
        assert len(times) == 7  # the first try and 6 retries
        assert [info["retryCount"] for _, info, _ in Reminder.runs] == list(range(7))
        assert [info["isRetry"] for _, info, _ in Reminder.runs] == [False] + [True] * 6
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        for n, gap in enumerate(gaps):
            assert 2 * 2**n <= gap <= 2 * 2**n * 1.25 + 1e-9, (n, gap)
        assert lab.alarm_log[-1]["outcome"] == "abandoned after 6 retries"


def test_a_retry_that_succeeds_stops_retrying() -> None:
    with make_lab() as lab:
        Reminder.fails = 2
        lab.run(lab.env.R.getByName("cart").remind_in(1))
        lab.advance(300)
        assert [o["outcome"] for o in lab.alarm_log][-1] == "ok"
        assert len(Reminder.runs) == 3


def test_alarm_survives_eviction_and_wakes_the_object() -> None:
    with make_lab() as lab:
        stub = lab.env.R.getByName("cart")
        lab.run(stub.remind_in(3600))
        lab.evict(stub)
        lab.advance(100)
        assert lab.statistics().active == 0
        lab.advance(3600)
        assert len(Reminder.runs) == 1 and Reminder.constructed == 2


def test_alarm_survives_a_restart_in_persist_mode(tmp_path: Path) -> None:
    with make_lab(persist=tmp_path) as lab:
        lab.run(lab.env.R.getByName("cart").remind_in(60))
    with make_lab(persist=tmp_path) as lab:  # a new process would do the same
        lab.advance(61)
        assert len(Reminder.runs) == 1


def test_an_aborted_set_alarm_is_discarded() -> None:
    with make_lab() as lab:
        with pytest.raises(ResetError):
            lab.run(lab.env.R.getByName("cart").set_then_abort())
        lab.advance(10)
        assert Reminder.runs == []
        assert lab.run(lab.env.R.getByName("cart").get()) is None


def test_delete_all_deletes_the_alarm() -> None:
    with make_lab() as lab:
        stub = lab.env.R.getByName("cart")
        lab.run(stub.remind_in(10))
        assert lab.run(stub.wipe()) is None
        lab.advance(20)
        assert Reminder.runs == []


def test_a_class_without_alarm_handler_cannot_set_one() -> None:
    with make_lab() as lab:
        stub = lab.env.N.getByName("x")
        with pytest.raises(DurableObjectError, match=r"^TypeError: Your Durable Object class must have an alarm\(\)"):
            lab.run(stub.try_set())
        assert lab.run(stub.get()) is None


@pytest.mark.parametrize(
    ("when", "message"),
    [(0, "cannot be called with an alarm time <= 0"), (-5, "cannot be called with an alarm time <= 0"),
     ("soon", "parameter 1 is not of type 'date'"), (True, "parameter 1 is not of type 'date'"),
     (2**53 + 1, "parameter 1 is not of type 'date'"), (float("nan"), "not a valid Date"),
     (float("inf"), "not a valid Date")],
)
def test_bad_alarm_times(when: Any, message: str) -> None:
    with make_lab() as lab:
        stub = lab.env.R.getByName("cart")
        lab.run(stub.remind_in(100))
        with pytest.raises(DurableObjectError, match=message) as info:
            lab.run(stub.remind_at(when))
        assert info.value.name == "TypeError"
        assert lab.run(stub.get()) == lab.time_ms + 100_000  # unchanged


def test_run_durable_object_alarm_helper() -> None:
    with make_lab() as lab:
        stub = lab.env.R.getByName("cart")
        assert lab.run(lab.run_durable_object_alarm(stub)) is False
        lab.run(stub.remind_in(3600))
        assert lab.run(lab.run_durable_object_alarm(stub)) is True
        assert len(Reminder.runs) == 1 and Reminder.runs[0][1] is None  # called without alarm_info
        lab.advance(4000)
        assert len(Reminder.runs) == 1  # it was deleted, so it does not fire again


def test_alarm_timeline_chart_renders(tmp_path: Path) -> None:
    from dolab.view.alarm_timeline import plot_alarm_timeline

    with make_lab() as lab:
        Reminder.fails = 2
        lab.run(lab.env.R.getByName("cart").remind_in(60))
        lab.advance(120)
        fig = plot_alarm_timeline(lab, [(lab.time_ms - 120_000, lab.time_ms - 60_000)], deliveries=lab.alarm_log,
                                  unit="s")
        fig.savefig(tmp_path / "alarms.png")
    assert (tmp_path / "alarms.png").stat().st_size > 5000
    assert [d["outcome"] for d in lab.alarm_log].count("ok") == 1
