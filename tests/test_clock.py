"""The virtual clock: sleeps take no wall time, time only moves forward, runs are repeatable."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from dolab import DurableObject, Lab, LabError


class Sleeper(DurableObject):
    async def nap(self, seconds: float) -> float:
        loop = asyncio.get_running_loop()
        start = loop.time()
        await asyncio.sleep(seconds)
        return loop.time() - start

    async def wait_too_long(self) -> str:
        try:
            await asyncio.wait_for(asyncio.sleep(3600), timeout=5)
        except TimeoutError:
            return "timed out"
        return "finished"

    async def new_ids(self, n: int) -> list[str]:
        return [self.env.SLEEPER.newUniqueId().toString() for _ in range(n)]


@pytest.fixture
def sleepy() -> Any:
    with Lab(durable_objects={"SLEEPER": Sleeper}) as lab:
        yield lab


def test_a_day_of_sleep_takes_no_wall_time(sleepy: Lab) -> None:
    started = time.monotonic()
    assert sleepy.run(sleepy.env.SLEEPER.getByName("s").nap(86_400)) == 86_400
    assert sleepy.now == 86_400
    assert time.monotonic() - started < 2


def test_timeouts_follow_the_virtual_clock(sleepy: Lab) -> None:
    assert sleepy.run(sleepy.env.SLEEPER.getByName("s").wait_too_long()) == "timed out"
    assert sleepy.now == pytest.approx(5)


def test_advance_and_run_until(sleepy: Lab) -> None:
    assert sleepy.advance(2.5) == 2.5
    sleepy.run(until=10)
    assert sleepy.now == 10
    with pytest.raises(LabError, match=r"clock never goes back \(got -1\)"):
        sleepy.advance(-1)
    with pytest.raises(LabError, match=r"cannot run until t=5: the clock already reads t=10"):
        sleepy.run(until=5)
    assert sleepy.now == 10
    with pytest.raises(LabError, match="either an awaitable or until"):
        sleepy.run()


def test_concurrent_sleeps_overlap(sleepy: Lab) -> None:
    stubs = [sleepy.env.SLEEPER.getByName(f"s{i}") for i in range(3)]

    async def main() -> list[float]:
        return await asyncio.gather(*(s.nap(10 * (i + 1)) for i, s in enumerate(stubs)))

    assert sleepy.run(main()) == [10, 20, 30]
    assert sleepy.now == 30


def test_time_between_cells_does_not_pass(sleepy: Lab) -> None:
    sleepy.run(sleepy.env.SLEEPER.getByName("s").nap(1))
    time.sleep(0.05)
    assert sleepy.now == 1


def test_same_seed_same_run_different_seed_different_run() -> None:
    def trace(seed: int) -> list[Any]:
        with Lab(durable_objects={"SLEEPER": Sleeper}, seed=seed) as lab:
            ids = lab.run(lab.env.SLEEPER.getByName("x").new_ids(3))
            lab.advance(100)
            return [ids, lab.now, lab.statistics()]

    assert trace(1) == trace(1)
    assert trace(1) != trace(2)


def test_two_labs_have_separate_clocks() -> None:
    with Lab(durable_objects={"SLEEPER": Sleeper}) as a, Lab(durable_objects={"SLEEPER": Sleeper}) as b:
        a.advance(50)
        assert (a.now, b.now) == (50, 0)


def test_a_closed_lab_refuses_work() -> None:
    lab = Lab(durable_objects={"SLEEPER": Sleeper})
    lab.close()
    with pytest.raises(LabError, match="this lab is closed"):
        lab.run(lab.env.SLEEPER.getByName("x").nap(1))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hibernate_after": 0}, "hibernate_after must be a positive number of seconds, got 0"),
        ({"evict_after": (140, 70)}, r"evict_after must be \(low, high\) seconds"),
        ({"max_active": 0}, "max_active must be an int >= 1, got 0"),
        ({"storage_latency": -1}, "storage_latency must be a finite, non-negative number of seconds, got -1"),
        ({"durable_objects": {"not a name": Sleeper}}, "binding name must be an identifier"),
        ({"durable_objects": {"X": dict}}, "needs a DurableObject subclass"),
    ],
)
def test_bad_lab_configuration(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(LabError, match=message):
        Lab(**kwargs)


def test_timers_set_for_the_same_instant_fire_in_the_order_they_were_set() -> None:
    """SimPy and JavaScript break ties by schedule order; asyncio alone would not (heap order)."""
    with Lab() as lab:
        fired: list[int] = []

        async def schedule() -> None:
            loop = asyncio.get_running_loop()
            for i in range(12):
                loop.call_at(5.0, fired.append, i)
            await asyncio.sleep(6)

        lab.run(schedule())
    assert fired == list(range(12))


def test_same_instant_sleeps_wake_in_the_order_they_started() -> None:
    with Lab() as lab:
        woke: list[str] = []

        async def sleeper(name: str) -> None:
            await asyncio.sleep(5)
            woke.append(name)

        async def all_of_them() -> None:
            await asyncio.gather(*(sleeper(f"s{i}") for i in range(6)))

        lab.run(all_of_them())
    assert woke == [f"s{i}" for i in range(6)]


class Clocked(DurableObject):
    """Reads the time the ways object code does on Cloudflare (no helper on env)."""

    async def times(self) -> list[Any]:
        from datetime import UTC, date, datetime  # the usual spelling, bound in this module

        busy_until = time.monotonic() + 0.05
        while time.monotonic() < busy_until:  # computing: Date.now() does not move meanwhile
            pass
        return [time.time(), datetime.now(UTC).timestamp(), datetime.now().isoformat(), date.today().isoformat()]


def test_time_and_datetime_in_object_code_read_the_lab_clock() -> None:
    import datetime as dt

    with Lab(durable_objects={"C": Clocked}) as lab:
        stub = lab.env.C.getByName("c")
        first = lab.run(stub.times())
        assert first == [1767225600, 1767225600, "2026-01-01T00:00:00", "2026-01-01"]  # lab second 0
        lab.advance(3 * 86_400 + 1.5)
        later = lab.run(stub.times())
        assert later[0] == later[1] == 1767225600 + 3 * 86_400 + 1.5
        assert later[2:] == ["2026-01-04T00:00:01.500000", "2026-01-04"]  # naive means UTC, as in a Worker
    # Outside a lab's thread nothing changed: the machine's clock, real classes, pandas happy.
    assert abs(dt.datetime.now(dt.UTC).timestamp() - time.time()) < 5


def test_datetime_names_of_a_class_module_follow_the_lab_even_after_a_new_import() -> None:
    import datetime as dt
    import sys
    import types

    from dolab.runtime import wallclock

    module = types.ModuleType("learner_cell")  # a notebook's __main__, as the kernel has it
    sys.modules["learner_cell"] = module
    exec(  # noqa: S102 - a notebook cell, as the kernel runs it
        "from datetime import datetime, UTC\nimport datetime as dtm\n"
        "from dolab import DurableObject\n"
        "class Stamp(DurableObject):\n"
        "    async def now(self):\n"
        "        return [datetime.now(UTC).timestamp(), dtm.datetime.now(UTC).timestamp(),\n"
        "                isinstance(datetime.now(), datetime),\n"
        "                type(datetime(2026, 1, 1)).__module__ == 'datetime']\n",
        module.__dict__,
    )
    try:
        with Lab(durable_objects={"S": module.Stamp}) as lab:
            stub = lab.env.S.getByName("s")
            lab.advance(60)
            assert lab.run(stub.now()) == [1767225660, 1767225660, True, True]
            module.datetime = dt.datetime  # the learner runs `from datetime import datetime` again
            lab.advance(60)
            assert lab.run(stub.now())[0] == 1767225720
        assert module.datetime is wallclock.LabDatetime  # stand-ins stay: they behave as the real ones
        assert isinstance(dt.datetime(2026, 1, 1), module.datetime)
        assert module.datetime(2026, 1, 1) == dt.datetime(2026, 1, 1)
    finally:
        del sys.modules["learner_cell"]
