"""Reliability: no stored data lost, no hang, a clear error for every misuse.

One regression test (at least) per problem found by a hostile review; the number in each test's
docstring is the problem's number in that review. Anything that could hang runs under
:func:`bounded`, so a regression fails in seconds instead of wedging the suite.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from dolab import ConfigError, DurableObject, Lab


def bounded(fn: Callable[[], Any], seconds: float = 20.0) -> Any:
    """Run ``fn()`` in a thread; fail the test (instead of hanging it) if it takes too long."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            box["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    started = time.monotonic()
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        pytest.fail(f"still running after {seconds:g} s: the lab hung")
    box["wall"] = time.monotonic() - started
    if "error" in box:
        raise box["error"]
    return box.get("value")


class Monthly(DurableObject):
    """Sets an alarm every 30 days, for ever: a fair lesson needs a year of virtual time."""

    async def start(self) -> None:
        await self.ctx.storage.setAlarm(self.env.LAB_EPOCH_MS + 30 * 86_400_000)

    async def alarm(self, info: Any = None) -> None:
        fired = (await self.ctx.storage.get("fired")) or 0
        await self.ctx.storage.put("fired", fired + 1)
        current = int(self.ctx.storage.sql.exec("SELECT 1 AS one").one()["one"])  # any work at all
        assert current == 1
        await self.ctx.storage.setAlarm(self.env.now_ms() + 30 * 86_400_000)

    async def fired(self) -> int:
        return int((await self.ctx.storage.get("fired")) or 0)


def test_9_the_clock_keeps_going_past_two_to_the_24_seconds() -> None:
    """Past 2**24 s (~194 days) a fixed 1 ns resolution no longer moves a float clock."""

    def year() -> tuple[float, int]:
        with Lab(durable_objects={"M": Monthly}) as lab:
            lab.env.LAB_EPOCH_MS = lab.time_ms
            lab.env.now_ms = lambda: lab.time_ms
            stub = lab.env.M.getByName("m")
            lab.run(stub.start())
            lab.advance(400 * 86_400)
            return lab.now, lab.run(stub.fired())

    now, fired = bounded(year, 30)
    assert now == pytest.approx(400 * 86_400)
    assert fired == 13  # days 30, 60, ..., 390


def test_9_a_timer_due_now_fires_on_a_clock_past_two_to_the_24() -> None:
    def late() -> list[str]:
        with Lab() as lab:
            lab.advance(2**25 + 0.5)
            fired: list[str] = []

            async def soon() -> None:
                loop = asyncio.get_running_loop()
                loop.call_at(loop.time(), fired.append, "now")
                loop.call_at(loop.time() + 1e-9, fired.append, "a nanosecond later")
                await asyncio.sleep(0.001)

            lab.run(soon())
            return fired

    assert bounded(late, 10) == ["now", "a nanosecond later"]


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, True, "5"])
@pytest.mark.parametrize("setting", ["hibernate_after", "storage_latency", "cpu_per_event"])
def test_14_settings_refuse_nan_infinity_and_booleans(setting: str, value: Any) -> None:
    with pytest.raises(ConfigError, match=rf"^{setting} must be a .* number of seconds, got "):
        Lab(**{setting: value})


@pytest.mark.parametrize("value", [math.nan, math.inf, True])
def test_14_advance_and_run_until_refuse_nan_infinity_and_booleans(value: Any) -> None:
    with Lab() as lab:
        with pytest.raises(ConfigError, match=r"^advance\(\) seconds must be a finite, non-negative number"):
            lab.advance(value)
        if value is not True:
            with pytest.raises(ConfigError, match=r"^run\(until=\.\.\.\) needs a finite time in seconds"):
                lab.run(until=value)
        assert lab.now == 0
