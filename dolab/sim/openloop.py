"""Open-loop traffic through a Worker's own routing, on the lab's clock (simulation layer).

:func:`~dolab.sim.simulate.simulate` runs the fixed cart designs of chapters 04 and 05. Here the
chapter's own Worker decides which object each request reaches: :func:`drive` sends a list of
:class:`Arrival` rows (when, from which region, who, and whatever the Worker needs to route) at
their times, each as one user request through the lab's :class:`~dolab.sim.network.Network`
(last mile in, the Worker's call, last mile out), whether or not earlier ones have been answered:
an open loop, as real users are. Failed requests (an object's ``.overloaded`` error, say) are
recorded, not raised.

Arrival times come from :func:`poisson_times` (a steady rate) or :func:`diurnal_times` (a rate
that follows each region's local time of day, :data:`DIURNAL_PROFILE`). Every draw is from a
generator the caller seeds, so the same seed gives the same arrivals for every design compared.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dolab.runtime.errors import ConfigError
from dolab.sim.trace import RequestRecord

if TYPE_CHECKING:
    from dolab.runtime.lab import Lab
    from dolab.sim.network import Network

#: Relative traffic per local hour (0-23), peak = 1. An assumption shaped like the consumer traffic
#: that operators publish (Cloudflare Radar's traffic-by-hour charts, for one): lowest around 4 am,
#: rising through the day, highest in the evening. Peak-to-trough is 6:1.
DIURNAL_PROFILE = (0.45, 0.30, 0.22, 0.18, 0.17, 0.18, 0.25, 0.38, 0.52, 0.62, 0.68, 0.72,
                   0.75, 0.74, 0.72, 0.72, 0.75, 0.80, 0.88, 0.96, 1.00, 0.95, 0.80, 0.62)


@dataclass(frozen=True, slots=True)
class Arrival:
    """One request a user sends at ``at`` seconds: ``data`` is what the Worker routes by."""

    at: float
    region: str
    user: str
    op: str = "request"
    data: Any = None


def poisson_times(rate: float, duration: float, rng: random.Random, start: float = 0.0) -> list[float]:
    """Arrival times of a Poisson process of ``rate`` per second over ``duration`` seconds."""
    if not rate > 0 or not duration > 0:
        raise ConfigError(f"rate and duration must be > 0, got rate={rate!r}, duration={duration!r}")
    times: list[float] = []
    t = start
    while True:
        t += rng.expovariate(rate)
        if t >= start + duration:
            return times
        times.append(t)


def local_hour(utc_seconds: float, longitude: float) -> float:
    """The local solar hour (0-24) at ``longitude`` when it is ``utc_seconds`` past midnight UTC."""
    return (utc_seconds / 3600.0 + longitude / 15.0) % 24.0


def diurnal_rate(peak: float, utc_seconds: float, longitude: float) -> float:
    """``peak`` scaled by :data:`DIURNAL_PROFILE` at the local time (linear between hours)."""
    h = local_hour(utc_seconds, longitude)
    i = int(h)
    frac = h - i
    shape = DIURNAL_PROFILE[i] * (1 - frac) + DIURNAL_PROFILE[(i + 1) % 24] * frac
    return peak * shape


def diurnal_times(per_day: float, longitude: float, rng: random.Random, days: float = 1.0) -> list[float]:
    """Arrival times of ``per_day`` events a day on average, following the local time of day at
    ``longitude`` (a non-homogeneous Poisson process, drawn by thinning)."""
    if per_day < 0 or not days > 0:
        raise ConfigError(f"per_day must be >= 0 and days > 0, got per_day={per_day!r}, days={days!r}")
    if per_day == 0:
        return []
    mean_shape = sum(DIURNAL_PROFILE) / 24
    peak = per_day / 86_400 / mean_shape  # events per second at the busiest hour
    times = []
    for t in poisson_times(peak, days * 86_400, rng):
        if rng.random() * peak < diurnal_rate(peak, t, longitude):
            times.append(t)
    return times


async def drive(
    lab: Lab,
    network: Network,
    arrivals: Sequence[Arrival],
    handle: Callable[[Arrival], Awaitable[Any]],
    *,
    design: str = "",
    sample_every: float | None = None,
    on_sample: Callable[[float], None] | None = None,
    until: float = 0.0,
) -> list[RequestRecord]:
    """Send every arrival at its time (seconds from now) through ``handle``, as a user request.

    Returns one :class:`RequestRecord` per arrival, in arrival order, once all are answered.
    ``on_sample(t)`` is called every ``sample_every`` seconds meanwhile (to read gauges), and on
    until ``until`` seconds from the start if the last answer comes earlier.
    """
    loop = asyncio.get_running_loop()
    start = loop.time()
    records: list[RequestRecord] = []
    pending: set[asyncio.Task[Any]] = set()

    async def sampler(every: float, call: Callable[[float], None]) -> None:
        while True:
            call(loop.time() - start)
            await asyncio.sleep(every)

    sampling = None
    if sample_every and on_sample is not None:
        if not sample_every > 0 or math.isinf(sample_every):
            raise ConfigError(f"sample_every must be a positive number of seconds, got {sample_every!r}")
        sampling = asyncio.ensure_future(sampler(sample_every, on_sample))
    for n, arrival in enumerate(sorted(arrivals, key=lambda a: a.at)):
        wait = start + arrival.at - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        record = RequestRecord(n, design, arrival.user, arrival.op, arrival.region, arrival.region)
        records.append(record)
        task = asyncio.ensure_future(network.user_request(record, lambda a=arrival: handle(a)))  # type: ignore[misc]
        pending.add(task)
        task.add_done_callback(pending.discard)
    if pending:
        await asyncio.gather(*pending)
    if start + until > loop.time():
        await asyncio.sleep(start + until - loop.time())
    if sampling is not None:
        sampling.cancel()
        on_sample(loop.time() - start)  # type: ignore[misc]
    return records
