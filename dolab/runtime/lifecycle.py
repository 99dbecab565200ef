"""When idle objects hibernate or are evicted, on the lab's clock.

An idle object that can hibernate does so after ``hibernate_after`` seconds (10 s on Cloudflare);
one that cannot (it has a ``waitUntil`` pending, a task of its own, or a standard WebSocket) is
evicted after a random 70-140 s drawn from the lab's seeded generator. When more than
``max_active`` objects are in memory, the least recently used idle ones are evicted at once, as
Cloudflare does under memory pressure.
"""

from __future__ import annotations

import asyncio
import enum
import heapq
import itertools
import logging
from collections import OrderedDict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dolab.runtime.engine import Engine
    from dolab.runtime.host import ObjectHost


WAIT_UNTIL_LIMIT = 15 * 60.0
log = logging.getLogger("dolab")


class Rest(enum.Enum):
    """Where an object is when it is not handling anything. The values are one byte each, so a
    million cold objects cost a million bytes of state letters, not a million enum objects."""

    # NEW: has stored nothing yet; if still empty when it goes cold, it ceases to exist.
    NEW = "n"
    # HIBERNATED: idle 10 s with nothing pending; the constructor runs again on the next event.
    HIBERNATED = "h"
    # EVICTED: unable to hibernate and idle for 70-140 s, or pushed out by max_active (LRU).
    EVICTED = "e"


class Lifecycle:
    """Idle timers for every active object of one lab (lab thread only)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.active: OrderedDict[ObjectHost, None] = OrderedDict()  # least recently used first
        self.idle: OrderedDict[ObjectHost, tuple[float, int]] = OrderedDict()  # deadlines in order
        self.slow: list[tuple[float, int, ObjectHost, int]] = []  # non-hibernatable: random deadlines
        self._seq = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = float("inf")

    def busy(self, host: ObjectHost) -> None:
        if host.billing_since is None:
            host.billing_since = self.engine.loop.vnow
        active = self.active
        if host in active:
            active.move_to_end(host)
        else:
            active[host] = None
            if len(active) > self.engine.max_active:
                self._evict_lru()
        # Its idle entry (if any) stays; the bumped idle_epoch makes the sweep skip it.

    def maybe_idle(self, host: ObjectHost) -> None:
        """Start the idle timer of ``host``: 10 s to hibernation, or 70-140 s to eviction."""
        if host.inflight or host.instance is None:  # host.idle(), inlined: this runs per call
            return
        host.idle_epoch += 1  # any earlier timer of this object is now stale
        engine = self.engine
        now = engine.loop.vnow
        if not host.background and not host.standard_sockets:  # host.hibernatable(), inlined
            # An idle object that could hibernate is not billed, even before it does.
            if host.billing_since is not None:  # self.stop_billing(host), inlined
                engine.counters.active_seconds += now - host.billing_since
                host.billing_since = None
            deadline = now + engine.hibernate_after
            idle = self.idle
            idle[host] = (deadline, host.idle_epoch)
            idle.move_to_end(host)  # deadlines stay in order: now only grows
            if deadline < self._timer_at:
                self._arm(deadline)
            return
        if host.pending:
            # waitUntil keeps the object from eviction (up to 15 minutes on Cloudflare); when it
            # settles, the object is idle again and this runs once more.
            deadline = now + WAIT_UNTIL_LIMIT
        else:
            low, high = engine.evict_after
            deadline = now + engine.rng.uniform(low, high)
        heapq.heappush(self.slow, (deadline, next(self._seq), host, host.idle_epoch))
        self._arm(deadline)

    def stop_billing(self, host: ObjectHost) -> None:
        if host.billing_since is not None:
            self.engine.counters.active_seconds += self.engine.loop.vnow - host.billing_since
            host.billing_since = None

    def billed_seconds(self) -> float:
        """Duration billed so far: settled intervals plus those still running."""
        now = self.engine.loop.vnow
        running = sum(now - h.billing_since for h in self.active if h.billing_since is not None)
        return self.engine.counters.active_seconds + running

    def forget(self, host: ObjectHost) -> None:
        self.active.pop(host, None)
        self.idle.pop(host, None)

    def _evict_lru(self) -> None:
        excess = len(self.active) - self.engine.max_active
        victims: list[ObjectHost] = []
        for host in self.active:  # oldest first; stop as soon as enough are found
            if len(victims) >= excess:
                break
            if host.idle():
                victims.append(host)
        for host in victims:
            self._deactivate(host, Rest.EVICTED)

    def _deactivate(self, host: ObjectHost, state: Rest) -> None:
        """Hibernate or evict one object; if that fails (its disk is full, its file is damaged),
        say so and take it out of memory anyway: one object's trouble must not stop the others'
        lifecycle, and what it had committed stays where it is."""
        try:
            host.deactivate(state)
        except Exception as exc:  # noqa: BLE001 - reported, and the sweep goes on
            log.warning("%s could not %s (%s); it was evicted without its uncommitted writes",
                        host.describe(), "hibernate" if state is Rest.HIBERNATED else "be evicted", exc)
            self.engine.counters.incidents += 1
            host.drop()

    def _arm(self, deadline: float) -> None:
        if deadline < self._timer_at:
            if self._timer is not None:
                self._timer.cancel()
            self._timer_at = deadline
            self._timer = self.engine.loop.call_at(deadline, self._sweep)

    def _sweep(self) -> None:
        self._timer = None
        self._timer_at = float("inf")
        now = self.engine.loop.time()
        idle = self.idle
        while idle:
            host, (deadline, epoch) = next(iter(idle.items()))
            if deadline > now:
                break
            del idle[host]
            if host.idle_epoch == epoch and host.idle():
                self._deactivate(host, Rest.HIBERNATED)
        slow = self.slow
        while slow and slow[0][0] <= now:
            _, _, host, epoch = heapq.heappop(slow)
            if host.idle_epoch == epoch and host.idle():
                self._deactivate(host, Rest.EVICTED)
        upcoming = [next(iter(idle.values()))[0]] if idle else []
        if slow:
            upcoming.append(slow[0][0])
        if upcoming:
            self._arm(min(upcoming))
