"""Where objects live and how long each hop takes, on the lab's clock (simulation layer).

Attach a :class:`Network` to a lab (``Lab(..., network=Network())``) and every stub call pays
a one-way transit from the caller's region to the object's region and back. An object is placed
once, on its first request: in its location hint's region if the first ``get()`` gave one,
otherwise in the Durable Object region with the lowest RTT from the caller. It never moves.

Two costs Cloudflare documents are modelled too:

- **First use of a named object.** "The first time you get a Durable Object stub based on an ID
  derived from a name, the system has to take into account the possibility that a Worker on the
  opposite side of the world could have coincidentally accessed the same named Durable Object at
  the same time. [...] this round-the-world check can take up to a few hundred milliseconds.
  ``newUniqueId`` can skip this check." (developers.cloudflare.com/durable-objects/api/namespace/).
  dolab charges the round trip from the object's region to the farthest Durable Object region,
  once per named object, as a ``uniqueness`` hop.
- **Writes confirmed by followers.** A SQLite-backed object's writes are acknowledged "when a
  quorum (at least 3 out of 5) of the durability followers acknowledge that they have safely
  stored the data"; then the output gate opens (blog.cloudflare.com/d1-read-replication-beta/).
  dolab holds a reply that follows writes for the round trip to the third-nearest other data
  centre (``data/replication.csv``), as a ``replication`` hop.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from dolab.runtime.errors import LabStateError
from dolab.sim.geo import Geography
from dolab.sim.latency import LatencyModel
from dolab.sim.trace import RequestRecord, Trace, current_region, current_request

if TYPE_CHECKING:
    from dolab.runtime.lab import Lab
    from dolab.runtime.namespace import DurableObjectNamespace


class Network:
    """Geography + latency model + placement + the trace that records each hop."""

    def __init__(self, latency: LatencyModel | None = None, geo: Geography | None = None,
                 trace: Trace | None = None, first_use: bool = True) -> None:
        self.geo = geo or Geography.load()
        self.latency = latency or LatencyModel()
        self.trace = trace if trace is not None else Trace()
        self._lab: weakref.ref[Lab] | None = None  # weak: a lab nobody holds can be collected and closed
        self.placements: dict[tuple[str, bytes], str] = {}
        self._nearest: dict[str, str] = {}
        self._farthest: dict[str, float] = {}
        # False: every named object already exists (users who came before), so no request pays
        # the first-use check. Simulations of returning users set it so; lessons about new ones don't.
        self.first_use_check = first_use
        self._checked: set[tuple[str, bytes]] = set()  # named objects whose first use was checked
        self._checking: dict[tuple[str, bytes], asyncio.Future[None]] = {}  # checks under way

    def attach(self, lab: Lab) -> None:
        self._lab = weakref.ref(lab)

    @property
    def lab(self) -> Lab | None:
        """The lab this network is attached to (``None`` before, or once that lab is gone)."""
        return None if self._lab is None else self._lab()

    def _attached(self) -> Lab:
        lab = self.lab
        if lab is None:
            raise LabStateError("this Network is not attached to a lab: pass it as Lab(..., network=network)")
        return lab

    def nearest_do_region(self, region: str) -> str:
        """The Durable Object region with the lowest RTT from ``region``."""
        if region not in self._nearest:
            candidates = self.geo.do_regions
            self._nearest[region] = min(
                candidates, key=lambda r: (self.latency.rtt_ms(self.geo, region, r.code), r.code)
            ).code
        return self._nearest[region]

    def place(self, ns: DurableObjectNamespace, raw: bytes, caller_region: str) -> str:
        """The region of an object: decided on its first request, then fixed."""
        key = (ns.binding, raw)
        region = self.placements.get(key)
        if region is None:
            hint = ns.location_hints.get(raw)
            region = self.geo.hint_region(hint).code if hint else self.nearest_do_region(caller_region)
            self.placements[key] = region
        return region

    def placement_of(self, ns: DurableObjectNamespace, raw: bytes) -> str | None:
        return self.placements.get((ns.binding, raw))

    def replication_ms(self, region: str) -> float:
        """How long the storage followers of an object in ``region`` take to confirm a write."""
        return self.geo.quorum_ms.get(region, 0.0)

    def uniqueness_ms(self, region: str) -> float:
        """The round-the-world check of a named object's first use, from ``region``."""
        if region not in self._farthest:
            self._farthest[region] = max(self.latency.rtt_ms(self.geo, region, r.code) for r in self.geo.do_regions)
        return self._farthest[region]

    async def first_use(self, src: str, dst: str, key: tuple[str, bytes] | None = None) -> None:
        """The first request to a named object waits for the global uniqueness check; requests
        that arrive while it runs wait for the same check (recorded as their own hops)."""
        if not self.first_use_check or key in self._checked:
            return
        running = self._checking.get(key) if key is not None else None
        if running is not None:
            lab = self._attached()
            start = lab.now
            await asyncio.shield(running)
            self.trace.hop("uniqueness", start, lab.now, dst, dst, "waits for the uniqueness check under way")
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if key is not None:
            self._checking[key] = done
        try:
            await self.transit(dst, dst, "uniqueness", "first use of a named object",
                               rtt_ms=2 * self.uniqueness_ms(dst))
        finally:
            if key is not None:
                del self._checking[key]
                self._checked.add(key)
            done.set_result(None)

    async def transit(self, src: str, dst: str, kind: str = "network", detail: str = "",
                      rtt_ms: float | None = None) -> None:
        """One way from ``src`` to ``dst``: half a sampled round trip, recorded as a hop."""
        lab = self._attached()
        base = self.latency.rtt_ms(self.geo, src, dst) if rtt_ms is None else rtt_ms
        delay = self.latency.sample_ms(base, lab.rng) / 2000.0
        start = lab.now
        await asyncio.sleep(delay)
        self.trace.hop(kind, start, lab.now, src, dst, detail)

    async def user_request(self, record: RequestRecord, call: Callable[[], Awaitable[Any]]) -> Any:
        """Run ``call`` as one user request: last mile in, the call at the edge, last mile out.

        ``record`` is filled in (``done``, ``ok``, ``error``, hops, round trips) and appended to
        the trace; an exception is recorded and returned, not raised.
        """
        lab = self._attached()
        region = record.client_region
        current_request.set(record)
        current_region.set(region)
        self.trace.requests.append(record)
        record.sent = lab.now
        last_mile = self.latency.last_mile_ms
        await self.transit(region, region, "last_mile", "user -> edge", rtt_ms=last_mile)
        result: Any
        try:
            result = await call()
        except Exception as exc:  # a failed request is a result, not a crash of the run
            record.ok = False
            record.error = f"{type(exc).__name__}: {exc}"
            result = exc
        await self.transit(region, region, "last_mile", "edge -> user", rtt_ms=last_mile)
        record.done = lab.now
        return result

    def record(self, kind: str, start: float, end: float, src: str, dst: str, detail: str = "") -> None:
        """Record a hop that the runtime timed itself (queueing, CPU, storage)."""
        self.trace.hop(kind, start, end, src, dst, detail)

    def count_round_trip(self, target_region: str) -> None:
        """Count one round trip for the current request and note where it went."""
        request = current_request.get()
        if request is not None:
            request.round_trips += 1
            request.target_region = target_region
