"""Chapter 09's experiments: where an object's state lives, what its queries cost, many buyers at once.

- :func:`lifecycle` drives one object of a learner's class through calls, idle time and
  evictions on the lab clock, and records what each call saw and where the object was (in
  memory, hibernated, evicted) at every moment: the lifecycle timeline.
- :func:`price_queries` turns rows read and written per operation (measured with
  ``cursor.rowsRead``/``rowsWritten``) into a month of traffic and prices it with the cost meter
  (:mod:`dolab.sim.pricing`, ``data/prices.csv``).
- :func:`rush` sends ``n`` calls to one object at seeded random moments, with storage taking
  time, and reports every answer: the check that a read-modify-write holds across interleavings.

Plain records only (simulation layer); :mod:`dolab.view.storageplots` draws them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from dolab.runtime.errors import ConfigError
from dolab.runtime.lab import Lab
from dolab.sim.pricing import MONTH_SECONDS, Usage, bill

EVICT = "evict"
STATES = ("not created", "in memory", "hibernated", "evicted")


@dataclass(frozen=True)
class Moment:
    """One step of a lifecycle run: at ``at`` seconds, ``action`` (a method called, or "evict"),
    and what the call returned (``None`` for an eviction)."""

    at: float
    action: str
    answer: Any = None


@dataclass(frozen=True)
class Span:
    """From ``start`` to ``end`` seconds the object was in ``state`` (one of :data:`STATES`)."""

    start: float
    end: float
    state: str


@dataclass(frozen=True)
class Timeline:
    moments: tuple[Moment, ...]
    spans: tuple[Span, ...]
    constructed: int

    def state_at(self, t: float) -> str:
        """Where the object was at ``t`` seconds."""
        for span in self.spans:
            if span.start <= t < span.end:
                return span.state
        return self.spans[-1].state if self.spans else STATES[0]


def _state(lab: Lab) -> str:
    stats = lab.statistics()  # a one-object lab: the counts say where its object is
    if stats.active:
        return "in memory"
    if stats.hibernating:
        return "hibernated"
    return "evicted" if stats.cold else "not created"


def lifecycle(cls: type, steps: Sequence[tuple[float, str]], *, until: float | None = None, tick: float = 0.5,
              name: str = "demo", seed: int = 0) -> Timeline:
    """Call ``cls``'s methods (no arguments) at the given times, or evict the object ("evict":
    what a deploy, a restart or memory pressure does), in a fresh lab; sample where the object
    is every ``tick`` seconds until ``until`` (default: 15 s after the last step)."""
    times = [float(t) for t, _ in steps]
    if any(b < a for a, b in zip(times, times[1:], strict=False)) or any(t < 0 for t in times):
        raise ConfigError(f"steps must be in time order from 0 s, got times {times}")
    if not tick > 0:
        raise ConfigError(f"tick must be > 0 seconds, got {tick!r}")
    end = float(until) if until is not None else (times[-1] + 15.0 if times else 15.0)
    moments: list[Moment] = []
    samples: list[tuple[float, str]] = []
    with Lab(durable_objects={"OBJ": cls}, seed=seed) as lab:
        stub = lab.env.OBJ.getByName(name)
        pending = list(steps)
        t = 0.0
        while t <= end + 1e-9:
            while pending and pending[0][0] <= t + 1e-9:
                at, action = pending.pop(0)
                lab.run(until=float(at))
                if action == EVICT:
                    lab.evict(stub)
                    moments.append(Moment(float(at), action))
                else:
                    moments.append(Moment(float(at), action, lab.run(getattr(stub, action)())))
            lab.run(until=t)
            samples.append((t, _state(lab)))
            t += tick
        constructed = lab.statistics().constructed
    spans: list[Span] = []
    for (t0, state), (t1, _) in zip(samples, [*samples[1:], (end + tick, "")], strict=True):
        if spans and spans[-1].state == state:
            spans[-1] = Span(spans[-1].start, t1, state)
        else:
            spans.append(Span(t0, t1, state))
    return Timeline(tuple(moments), tuple(spans), constructed)


@dataclass(frozen=True)
class QueryBill:
    """A month of one design's traffic: rows per operation, rows a month, and their price (USD)."""

    design: str
    rows_read_per_read: float
    rows_written_per_write: float
    rows_read: float
    rows_written: float
    read_usd: float
    written_usd: float

    @property
    def total_usd(self) -> float:
        return round(self.read_usd + self.written_usd, 2)


def price_queries(designs: dict[str, tuple[float, float]], reads_per_second: float,
                  writes_per_second: float) -> list[QueryBill]:
    """Price each design's ``(rows read per read, rows written per write)`` at a steady traffic for
    a 30-day month, on Workers Paid: the included rows (25 billion read, 50 million written a
    month) come off first; the $5 subscription is left out, as it does not depend on the design."""
    for label, value in (("reads_per_second", reads_per_second), ("writes_per_second", writes_per_second)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
            raise ConfigError(f"{label} must be a number >= 0, got {value!r}")
    out = []
    for design, (read, written) in designs.items():
        rows_read = read * reads_per_second * MONTH_SECONDS
        rows_written = written * writes_per_second * MONTH_SECONDS
        priced = bill(Usage(rows_read=rows_read, rows_written=rows_written), minimum=False)
        out.append(QueryBill(design, read, written, rows_read, rows_written,
                             priced.cost("do_rows_read"), priced.cost("do_rows_written")))
    return out


@dataclass(frozen=True)
class Rush:
    """``n`` calls at once: each call's answer (or its error's last line), and the object's state after."""

    answers: tuple[Any, ...]
    errors: tuple[str, ...]
    final: Any
    seed: int
    spread: float


def rush(durable_objects: dict[str, type], binding: str, name: str, method: str, args: Sequence[Any] = (), *,
         n: int = 30, seed: int = 0, spread: float = 0.005, storage_latency: float = 0.001,
         inspect: Callable[[Any, Any], Any] | None = None) -> Rush:
    """Call ``env.<binding>.getByName(name).<method>(*args)`` ``n`` times, each starting at a random
    moment within ``spread`` seconds (drawn from ``seed``), every storage call taking
    ``storage_latency`` seconds; then run ``inspect(instance, ctx)`` inside the object."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"n must be an int >= 1, got {n!r}")
    with Lab(durable_objects=durable_objects, seed=seed, storage_latency=storage_latency) as lab:
        stub = lab.namespaces[binding].getByName(name)
        delays = [lab.rng.uniform(0.0, spread) for _ in range(n)]

        async def one(delay: float) -> tuple[Any, str | None]:
            await asyncio.sleep(delay)
            try:
                return await getattr(stub, method)(*args), None
            except Exception as exc:  # noqa: BLE001 - a learner's object may raise anything; report it
                text = str(getattr(exc, "message", exc)).strip().splitlines()
                return None, text[-1] if text else type(exc).__name__

        async def everyone() -> list[tuple[Any, str | None]]:
            return await asyncio.gather(*(one(d) for d in delays))

        results = lab.run(everyone())
        final = lab.run(lab.run_in_durable_object(stub, inspect)) if inspect is not None else None
    return Rush(tuple(a for a, _ in results), tuple(e for _, e in results if e is not None), final, seed, spread)
