"""The input gate of one object: which event may run now, and who makes the others wait.

Cloudflare delivers events to an object one at a time while it waits on its own storage: a
storage call, ``blockConcurrencyWhile`` or (in simulations) an event's CPU time *holds* the gate,
and no new event is let in until it is released. Other awaits (a ``fetch``, a timer, a call to
another object) do not hold it, so events may interleave there. Chapter 02 is about this class.

States and invariants:

- **open**: nobody holds the gate and nobody is passing; an arriving event goes straight in
  (:meth:`InputGate.enter` is not even awaited on that path).
- **held**: ``holders`` is not empty. Arriving events queue in ``waiters`` (FIFO); a
  continuation of an event already inside waits in :meth:`wait_open` unless it is the holder.
  ``holders`` holds tasks; ``release_all`` (an object reset) empties it at once.
- **passing**: the first waiter was let in (its future resolved) but has not run yet. Until it
  runs, nobody else is let in, so events enter in the order they arrived.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class GateStatistics:
    """A snapshot of one gate: ``held_by`` holds on it, ``waiting`` events queued at it."""

    held_by: int
    waiting: int
    passing: bool


class InputGate:
    """FIFO admission of events to one object; storage calls and ``blockConcurrencyWhile`` hold it."""

    __slots__ = ("holders", "loop", "open_waiters", "passing", "waiters")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.holders: list[asyncio.Task[Any] | None] = []
        self.waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self.passing = False
        self.open_waiters: list[asyncio.Future[None]] = []

    @property
    def busy(self) -> bool:
        """Becomes ``True`` when an arriving event would have to wait."""
        return bool(self.holders or self.waiters or self.passing)

    async def enter(self) -> None:
        """Queue behind the events that arrived earlier, then go in (FIFO)."""
        if not self.busy:
            return
        future = self.loop.create_future()
        self.waiters.append(future)
        self._pump()
        try:
            while True:
                await future
                if not self.holders:
                    break
                # Someone took the gate between our admission and our first step: queue again,
                # at the front, so that our place in line is kept.
                self.passing = False
                future = self.loop.create_future()
                self.waiters.appendleft(future)
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.passing = False
                self._pump()
            raise
        self.passing = False
        self.loop.call_soon(self._pump)

    def _pump(self) -> None:
        if self.passing or self.holders:
            return
        while self.waiters:
            future = self.waiters.popleft()
            if not future.done():
                self.passing = True
                future.set_result(None)
                return

    async def wait_open(self) -> None:
        """Wait until no one else holds the gate (for a continuation of an event already inside)."""
        me = asyncio.current_task()
        while any(holder is not me for holder in self.holders):
            future = self.loop.create_future()
            self.open_waiters.append(future)
            await future

    def hold(self, holder: asyncio.Task[Any] | None) -> None:
        """Close the gate for everyone but ``holder`` (may be held several times)."""
        self.holders.append(holder)

    def release(self, holder: asyncio.Task[Any] | None) -> None:
        """Undo one :meth:`hold`; when nobody holds it any more, let the next event in."""
        with contextlib.suppress(ValueError):
            self.holders.remove(holder)
        if not self.holders:
            waiting, self.open_waiters = self.open_waiters, []
            for future in waiting:
                if not future.done():
                    future.set_result(None)
            self._pump()

    def release_all(self) -> None:
        """Drop every hold at once (the object was reset) and let the next event in."""
        self.holders.clear()
        self.release(None)

    def statistics(self) -> GateStatistics:
        """Who holds the gate and how many events wait at it (trio's ``Lock.statistics()``)."""
        waiting = sum(1 for f in self.waiters if not f.done())
        return GateStatistics(held_by=len(self.holders), waiting=waiting, passing=self.passing)

    def __repr__(self) -> str:
        s = self.statistics()
        return f"<InputGate held_by={s.held_by} waiting={s.waiting}>"
