"""Chapter 10's experiments on many objects: what a name costs, what an idle object costs, a day of traffic.

- :func:`naming` calls objects reached by ``idFromName``, ``newUniqueId`` and ``idFromString`` from
  one region, twice each, and records each call's latency and where the object landed: the first
  use of a name pays Cloudflare's global uniqueness check (:meth:`dolab.sim.network.Network.first_use`).
- :func:`many_objects` creates ``n`` objects of a learner's class with one call each, as fast as the
  machine goes, and measures the memory an evicted object keeps in this process, its stored bytes
  and the time it took.
- :func:`idle_bill` prices a month of objects that hold data and receive no request: storage only.
- :func:`a_day` runs 24 simulated hours of shopping sessions that follow each region's local time
  of day (:func:`dolab.sim.openloop.diurnal_times`) and samples how many objects are in memory.

Plain records only (lessons layer); :mod:`dolab.view.millionplots` draws them.
"""

from __future__ import annotations

import functools
import gc
import math
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dolab.runtime.errors import ConfigError
from dolab.runtime.lab import Lab
from dolab.sim.geo import Geography
from dolab.sim.network import Network
from dolab.sim.openloop import Arrival, diurnal_times, drive
from dolab.sim.pricing import MEMORY_GB, MONTH_SECONDS, Bill, Usage, bill
from dolab.sim.trace import RequestRecord, Trace
from dolab.sim.workload import Chooser, region_weights


def europe() -> dict[str, float]:
    """Users across Europe, weighted by Cloudflare data centres (``data/region_weights.csv``)."""
    geo = Geography.load()
    return {code: w for code, w in region_weights(geo, "colo-density").items()
            if geo.region(code).continent == "Europe"}


# -- naming -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NamedCall:
    """One call in :func:`naming`: how the stub was made, which call it was, what it cost, where it went."""

    how: str
    call: int
    latency_ms: float
    uniqueness_ms: float
    region: str


def naming(cls: type, method: str, user_region: str = "australiaeast", *, seed: int = 0,
           binding: str = "CART") -> list[NamedCall]:
    """Reach four objects of ``cls`` from a user in ``user_region``, two calls each (``method()``):
    by ``idFromName``; by ``newUniqueId``; by ``idFromString`` of that unique id's string (as a
    cookie would bring it back); and by ``newUniqueId`` with ``locationHint="weur"``."""
    network = Network(trace=Trace())
    calls: list[NamedCall] = []
    with Lab(durable_objects={binding: cls}, network=network, seed=seed) as lab:
        ns = getattr(lab.env, binding)
        unique, hinted = ns.newUniqueId(), ns.newUniqueId()
        stubs: list[tuple[str, Callable[[], Any]]] = [
            ("idFromName('alice')", lambda: ns.get(ns.idFromName("alice"))),
            ("newUniqueId()", lambda: ns.get(unique)),
            ("idFromString(saved)", lambda: ns.get(ns.idFromString(unique.toString()))),
            ("newUniqueId() + locationHint weur", lambda: ns.get(hinted, {"locationHint": "weur"})),
        ]
        n = 0
        for how, make in stubs:
            for call in (1, 2):
                record = RequestRecord(n, how, "alice", method, user_region, user_region)
                start = len(network.trace.hops)
                stub = make()

                def send(stub: Any = stub) -> Any:
                    return getattr(stub, method)()

                lab.run(network.user_request(record, send))
                if not record.ok:
                    raise ConfigError(f"{cls.__name__}.{method}() failed: {record.error}")
                check = sum(h.ms for h in network.trace.hops[start:] if h.kind == "uniqueness")
                calls.append(NamedCall(how, call, record.latency_ms, check, record.target_region))
                n += 1
    return calls


# -- many objects -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ManyObjects:
    """What :func:`many_objects` measured."""

    n: int
    seconds: float
    rss_per_evicted: float  # bytes of this process's memory per extra evicted object (steady slope)
    image_per_object: float  # bytes of each evicted object's compressed SQLite image
    stored_per_object: float  # bytes of storage each object holds (its databaseSize)
    in_memory: int  # objects still in memory at the end (at most max_active)
    max_active: int

    @property
    def per_second(self) -> float:
        return self.n / self.seconds


def _rss() -> float:
    """This process's resident memory in bytes (NaN where it cannot be read).

    /proc on Linux (Binder and Colab too); elsewhere the peak from ``getrusage``, which a growing
    loop keeps equal to the current size. No psutil: it is a test tool, not a learner's dependency.
    """
    try:
        with open("/proc/self/statm") as f:
            return float(int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE"))
    except (OSError, ValueError, AttributeError):
        pass
    try:
        import resource  # noqa: PLC0415 - Unix only
    except ImportError:
        return math.nan
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return float(peak if sys.platform == "darwin" else peak * 1024)  # bytes on macOS, KiB on Linux


def many_objects(cls: type, method: str, n: int = 20_000, *, binding: str = "CART",
                 args: tuple[Any, ...] = (), max_active: int = 2_000) -> ManyObjects:
    """Create ``n`` objects of ``cls`` (named ``cart-0`` ...) with one ``method(*args)`` call each.

    Memory is read every 1,000 objects; the figure per object is the slope once the lab holds
    ``2 x max_active`` objects, so the objects in memory (at most ``max_active``) are not counted.
    """
    if not isinstance(n, int) or n < 4 * max_active:
        raise ConfigError(f"n must be an int >= 4 x max_active ({4 * max_active:,}) to measure a slope, got {n!r}")
    lab = Lab(durable_objects={binding: cls}, max_active=max_active)
    ns = getattr(lab.env, binding)
    checkpoints: list[tuple[int, float]] = []

    async def create() -> None:
        for i in range(n):
            await getattr(ns.getByName(f"cart-{i}"), method)(*args)
            if i % 1_000 == 999 and i + 1 >= 2 * max_active:
                checkpoints.append((i + 1, _rss()))

    try:
        gc.collect()
        started = time.perf_counter()
        lab.run(create())
        seconds = time.perf_counter() - started
        (i0, r0), (i1, r1) = checkpoints[0], checkpoints[-1]
        cold = [len(v) for v in ns.cold.values()]  # the lab is idle now: safe to read
        stats = lab.statistics()
        return ManyObjects(n=n, seconds=seconds, rss_per_evicted=(r1 - r0) / (i1 - i0),
                           image_per_object=sum(cold) / max(1, len(cold)), stored_per_object=lab.stored_bytes() / n,
                           in_memory=stats.active, max_active=max_active)
    finally:
        lab.close()


def idle_bill(objects: float, stored_bytes_per_object: float, *, hibernate: bool = True) -> Bill:
    """A month of ``objects`` that keep their data and get no request (no $5 minimum).

    Hibernated or evicted objects are billed for storage only. ``hibernate=False`` prices the same
    objects kept in memory all month (something of their own open): duration, 128 MB each.
    """
    if objects < 0 or stored_bytes_per_object < 0:
        raise ConfigError(f"objects and bytes must be >= 0, got {objects!r}, {stored_bytes_per_object!r}")
    seconds = 0.0 if hibernate else objects * MONTH_SECONDS
    return bill(Usage(stored_gb=objects * stored_bytes_per_object / 1e9, active_seconds=seconds), minimum=False)


def pinned_gb_s(objects: float) -> float:
    """GB-s of duration a month for ``objects`` that never leave memory (each billed as 128 MB)."""
    return objects * MONTH_SECONDS * MEMORY_GB


# -- a day --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayRun:
    """:func:`a_day`: gauges every ``every`` seconds (``t``, in memory, hibernated, evicted) and totals."""

    users: int
    every: float
    samples: tuple[tuple[float, int, int, int], ...]
    requests: int
    sessions: int
    objects: int
    active_seconds: float
    stored_bytes: int
    failed: int
    hourly: tuple[int, ...] = ()  # requests sent in each UTC hour


    @property
    def peak_in_memory(self) -> int:
        return max(s[1] for s in self.samples)

    @property
    def mean_in_memory(self) -> float:
        return sum(s[1] for s in self.samples) / len(self.samples)

    def usage(self) -> Usage:
        """What the day consumed, as a month of such days."""
        return Usage(requests=self.requests, active_seconds=self.active_seconds, rows_written=self.requests,
                     stored_gb=self.stored_bytes / 1e9, worker_requests=self.requests).per_month(86_400)


@functools.lru_cache(maxsize=8)
def a_day(cls: type, method: str, users: int = 10_000, *, sessions_per_user: float = 0.5,
          requests_per_session: float = 4.0, think_s: float = 20.0, every: float = 60.0,
          europe_only: bool = False, seed: int = 0, binding: str = "CART") -> DayRun:
    """24 simulated hours: each user opens ``sessions_per_user`` sessions a day on average, at
    times that follow their region's local hour; a session is ``requests_per_session`` calls of
    ``method(sku)`` on average (at least one), ``think_s`` seconds apart on average. Users are
    where Cloudflare's data centres are, worldwide or (``europe_only``) in Europe."""
    if not isinstance(users, int) or users < 1:
        raise ConfigError(f"users must be an int >= 1, got {users!r}")
    if requests_per_session < 1 or think_s < 0 or sessions_per_user <= 0:
        raise ConfigError("requests_per_session must be >= 1, think_s >= 0 and sessions_per_user > 0")
    rng = random.Random(f"dolab-day-{seed}")
    network = Network(trace=Trace(record_hops=False), first_use=False)
    geo = network.geo
    weights = europe() if europe_only else region_weights(geo, "colo-density")
    pick = Chooser(list(weights), list(weights.values()), rng)
    home: dict[str, list[str]] = {}
    for i in range(users):
        home.setdefault(pick(), []).append(f"cart-{i}")
    arrivals: list[Arrival] = []
    sessions = 0
    for region, carts in sorted(home.items()):
        for start in diurnal_times(len(carts) * sessions_per_user, geo.region(region).lon, rng):
            sessions += 1
            cart, t = carts[rng.randrange(len(carts))], start
            # geometric number of requests, mean requests_per_session
            while True:
                arrivals.append(Arrival(t, region, cart, method, f"sku-{rng.randrange(50)}"))
                if rng.random() < 1 / requests_per_session:
                    break
                t += rng.expovariate(1 / think_s) if think_s > 0 else 0.0
    samples: list[tuple[float, int, int, int]] = []
    with Lab(durable_objects={binding: cls}, network=network, seed=seed, cpu_per_event=0.001) as lab:
        ns = getattr(lab.env, binding)

        def gauge(t: float) -> None:
            s = lab.statistics()
            samples.append((t, s.active, s.hibernating, s.cold - s.hibernating))

        def call(a: Arrival) -> Any:
            return getattr(ns.getByName(a.user), a.op)(a.data)

        records = lab.run(drive(lab, network, arrivals, call, sample_every=every, on_sample=gauge, until=86_400))
        stats = lab.statistics()
        return DayRun(users=users, every=every, samples=tuple(s for s in samples if s[0] <= 86_400),
                      requests=len(records), sessions=sessions, objects=stats.active + stats.cold,
                      active_seconds=stats.active_seconds, stored_bytes=lab.stored_bytes(),
                      failed=sum(not r.ok for r in records),
                      hourly=tuple(sum(1 for a in arrivals if int(a.at // 3600) == h) for h in range(24)))


def scale(value: float, run_users: int, users: float) -> float:
    """A count measured with ``run_users`` users, for ``users`` users with the same habits (linear:
    independent users add up)."""
    return value * users / run_users


__all__ = ["DayRun", "ManyObjects", "NamedCall", "a_day", "idle_bill", "many_objects", "naming", "pinned_gb_s",
           "scale"]
