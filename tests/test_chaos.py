"""Chaos: random mixes of calls, evictions, alarms, Ctrl-C and lab restarts, against a model.

Hypothesis drives a persist-mode lab through sequences of steps and keeps a model of what each
object must hold. A write whose call returned is *acknowledged* and must never be lost; a write
whose call was interrupted (a real SIGINT, as Jupyter's "interrupt kernel" sends) may or may not
have happened, so the model keeps both possibilities until a read settles it. Every step is
bounded in wall time: a hang fails the test with the stacks of every thread instead of wedging CI.
"""

from __future__ import annotations

import asyncio
import faulthandler
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from dolab import DurableObject, Lab

STEP_SECONDS = 30.0  # no single step may take longer (wall time); the slowest real step is < 1 s
NAMES = st.sampled_from(["a", "b", "c"])
KEYS = st.sampled_from(["x", "y"])
VALUES = st.one_of(st.integers(-5, 5), st.text(max_size=3), st.lists(st.integers(0, 3), max_size=2))


class Account(DurableObject):
    async def put(self, key: str, value: Any) -> None:
        await self.ctx.storage.put(key, value)

    async def put_pair_slowly(self, key: str, value: Any, spin: float) -> None:
        """Two writes with CPU work between them: a Ctrl-C can land in the middle."""
        await self.ctx.storage.put(key, value)
        end = time.monotonic() + spin
        while time.monotonic() < end:
            pass
        await self.ctx.storage.put("pair-" + key, value)

    async def add(self, n: int) -> int:
        async def body(txn: Any) -> int:
            total = (await txn.get("total") or 0) + n
            await asyncio.sleep(0)
            await txn.put("total", total)
            return int(total)

        return int(await self.ctx.storage.transaction(body))

    async def arm(self, delay_ms: int) -> None:
        await self.ctx.storage.setAlarm(int(time.time() * 1000) + delay_ms)

    async def alarm(self, info: Any = None) -> None:
        await self.ctx.storage.put("alarms", (await self.ctx.storage.get("alarms") or 0) + 1)

    async def state(self) -> dict[str, Any]:
        return {"stored": dict(await self.ctx.storage.list()), "alarm": await self.ctx.storage.getAlarm()}


class Interrupt:
    """A real SIGINT after ``delay`` seconds, raised only while a step runs (never between steps)."""

    def __init__(self) -> None:
        self.armed = False
        self.previous = signal.getsignal(signal.SIGINT)
        signal.signal(signal.SIGINT, self._handler)

    def _handler(self, signum: int, frame: Any) -> None:
        if self.armed:
            self.armed = False
            raise KeyboardInterrupt

    @contextmanager
    def after(self, delay: float) -> Iterator[None]:
        timer = threading.Timer(delay, signal.raise_signal, (signal.SIGINT,))
        self.armed = True
        timer.start()
        try:
            yield
        finally:
            self.armed = False
            timer.cancel()
            timer.join()

    def restore(self) -> None:
        signal.signal(signal.SIGINT, self.previous)


@contextmanager
def bounded(what: str) -> Iterator[None]:
    """Fail loudly, with every thread's stack, if one step hangs; and fail if it was slow."""
    faulthandler.dump_traceback_later(STEP_SECONDS * 2, exit=True)
    started = time.monotonic()
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
    took = time.monotonic() - started
    assert took < STEP_SECONDS, f"{what} took {took:.1f} s"


class Chaos(RuleBasedStateMachine):
    folder: Path  # set by the test: a fresh folder per run

    def __init__(self) -> None:
        super().__init__()
        self.lab = Lab(durable_objects={"ACC": Account}, persist=self.folder)
        # name -> key -> every value the key may hold (None: absent); one element once known
        self.model: dict[str, dict[str, set[Any]]] = {}
        self.armed: dict[str, tuple[float, bool]] = {}  # name -> (due, surely set)
        self.interrupt = Interrupt()
        self.stats = {"acknowledged": 0, "interrupted": 0, "restarts": 0, "alarms": 0}

    def may(self, name: str, key: str) -> set[Any]:
        return self.model.setdefault(name, {}).setdefault(key, {None})

    def call(self, make: Callable[[], Any]) -> Any:
        return self.lab.run(make())

    @rule(name=NAMES, key=KEYS, value=VALUES)
    def put(self, name: str, key: str, value: Any) -> None:
        with bounded("put"):
            self.call(lambda: self.lab.env.ACC.getByName(name).put(key, value))
        self.model.setdefault(name, {})[key] = {_frozen(value)}
        self.stats["acknowledged"] += 1

    @rule(name=NAMES, n=st.integers(1, 9))
    def add(self, name: str, n: int) -> None:
        with bounded("add"):
            total = self.call(lambda: self.lab.env.ACC.getByName(name).add(n))
        before = self.may(name, "total")
        assert total - n in {0 if v is None else v for v in before}, (total, before)
        self.model[name]["total"] = {total}
        self.stats["acknowledged"] += 1

    @rule(name=NAMES, key=KEYS, value=st.integers(100, 200), when=st.floats(0.0, 0.4))
    def put_pair_interrupted(self, name: str, key: str, value: int, when: float) -> None:
        """Ctrl-C at a random moment of a call that spends CPU between two writes."""
        done = False
        with bounded("interrupted put"):
            try:
                with self.interrupt.after(when):
                    self.call(lambda: self.lab.env.ACC.getByName(name).put_pair_slowly(key, value, 0.3))
                    done = True
            except KeyboardInterrupt:
                pass
            except Exception as exc:  # noqa: BLE001 - the interruption reset the object: said clearly
                failure = str(exc)
                assert "interrupted (Ctrl-C)" in failure, failure
        for k in (key, "pair-" + key):
            if done:
                self.model.setdefault(name, {})[k] = {value}
            else:
                self.may(name, k).add(value)
        self.stats["acknowledged" if done else "interrupted"] += 1

    @rule(name=NAMES, delay=st.integers(1, 5000))
    def arm(self, name: str, delay: int) -> None:
        self.settle_alarms_of(name)
        with bounded("arm"):
            self.call(lambda: self.lab.env.ACC.getByName(name).arm(delay))
        self.armed[name] = (self.lab.now + delay / 1000, True)

    @rule(seconds=st.sampled_from([0.5, 3.0, 11.0, 75.0, 150.0]))
    def advance(self, seconds: float) -> None:
        with bounded("advance"):
            self.lab.advance(seconds)
        for name in list(self.armed):
            self.settle_alarms_of(name)

    @rule(name=NAMES)
    def evict(self, name: str) -> None:
        with bounded("evict"):
            self.lab.evict(self.lab.env.ACC.getByName(name))

    @rule(often=st.integers(0, 3))
    def restart(self, often: int) -> None:
        """Close the lab (a kernel restart) and open a new one on the same folder."""
        if often:  # one draw in four restarts: hypothesis favours rules without arguments
            return
        with bounded("restart"):
            self.lab.close()
            self.lab = Lab(durable_objects={"ACC": Account}, persist=self.folder)
        self.stats["restarts"] += 1

    def settle_alarms_of(self, name: str) -> None:
        """An alarm due by now has run exactly once: its count went up by one."""
        if name in self.armed and self.armed[name][0] <= self.lab.now:
            del self.armed[name]
            counts = self.may(name, "alarms")
            self.model[name]["alarms"] = {(0 if c is None else c) + 1 for c in counts}
            self.stats["alarms"] += 1

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def read(self, data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(sorted(self.model)))
        self.check(name)

    def check(self, name: str) -> None:
        with bounded("read"):
            state = self.call(lambda: self.lab.env.ACC.getByName(name).state())
        stored = state["stored"]
        for key, possible in self.model.get(name, {}).items():
            got = _frozen(stored.get(key))
            assert got in possible, f"{name}.{key} = {got!r}, expected one of {possible!r}"
            self.model[name][key] = {got}  # settled
        if name not in self.armed:
            assert state["alarm"] is None, f"{name} has an alarm the model did not expect"

    @invariant()
    def lab_is_alive(self) -> None:
        assert not self.lab.closed

    def teardown(self) -> None:
        try:
            for name in list(self.model):
                self.check(name)
        finally:
            self.interrupt.restore()
            self.lab.close()
            _totals.append(self.stats)


def _frozen(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


_totals: list[dict[str, int]] = []


def test_chaos_never_loses_an_acknowledged_write_nor_hangs(tmp_path: Path) -> None:
    runs = iter(range(10_000))

    class Run(Chaos):
        def __init__(self) -> None:
            type(self).folder = tmp_path / f"run-{next(runs)}"
            super().__init__()

    test = Run.TestCase
    test.settings = settings(max_examples=25, stateful_step_count=30, deadline=None, derandomize=True,
                             suppress_health_check=list(HealthCheck))
    if threading.current_thread() is not threading.main_thread():
        pytest.fail("the chaos test sends real SIGINTs and must run in the main thread")
    test().runTest()
    totals = {k: sum(s[k] for s in _totals) for k in _totals[0]}
    print("chaos:", totals, file=sys.stderr)
    # The mix really happened (how much of each varies with what hypothesis draws).
    assert totals["acknowledged"] > 100 and totals["interrupted"] > 5 and totals["restarts"] > 2, totals
    assert totals["alarms"] >= 1, totals
