"""Chapter 04's latency explorer: one user region, one database region, three designs (simulation layer).

:func:`explore` runs the same small workload (users in one region, a cart each) through the
external database, the cached database and one Durable Object per user, and returns the traces
plus the physics bounds for the distances involved. :func:`travel` follows one user who creates
their Durable Object at home and then sends requests from somewhere else: the object stays put.
Every number comes from a seeded run; :func:`explore` results are cached, so a widget can ask
again for free.

A scenario's run lasts ``requests / 5`` seconds of simulated time (5 clicks a second from all its
users together). With ``new_users=True`` every user is new: the first click to each user's
named object waits for Cloudflare's global uniqueness check (:mod:`dolab.sim.network`); by
default the users came before and their objects exist. Writes to a Durable Object wait, before
the reply leaves, for the storage followers to confirm them (the ``replication`` hop).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from dolab.runtime.errors import ConfigError
from dolab.runtime.lab import Lab
from dolab.sim.designs import CartObject
from dolab.sim.geo import Geography
from dolab.sim.latency import LatencyModel
from dolab.sim.network import Network
from dolab.sim.simulate import simulate
from dolab.sim.trace import RequestRecord, Trace
from dolab.sim.workload import Workload

EXPLORER_DESIGNS = ("external-db", "cached-db", "do-per-user")
RATE = 5.0  # clicks a second, from all the scenario's users together


@dataclass(frozen=True)
class Scenario:
    """What the explorer's controls choose."""

    user_region: str = "australiaeast"
    db_region: str = "eastus"
    ops: int = 3
    users: int = 20
    requests: int = 300
    seed: int = 0
    new_users: bool = False

    def __post_init__(self) -> None:
        geo = Geography.load()
        geo.region(self.user_region)
        geo.region(self.db_region)
        if not isinstance(self.requests, int) or self.requests < 10:
            raise ConfigError(f"requests must be an int >= 10, got {self.requests!r}")
        if not isinstance(self.ops, int) or isinstance(self.ops, bool) or self.ops < 1:
            raise ConfigError(f"ops must be an int >= 1 (storage operations per click), got {self.ops!r}")

    @property
    def seconds(self) -> float:
        """How long the run lasts, in simulated seconds: ``requests`` clicks at 5 a second."""
        return self.requests / RATE


@dataclass
class Exploration:
    """The explorer's answer: one trace per design and the distances' physics bounds."""

    scenario: Scenario
    traces: dict[str, Trace]
    do_region: str
    bounds_ms: dict[str, float] = field(default_factory=dict)
    rtt_ms: dict[str, float] = field(default_factory=dict)


@functools.lru_cache(maxsize=64)  # each entry keeps three traces with their hops
def explore(scenario: Scenario) -> Exploration:
    """Run the three designs on the same users and clicks; results are cached per scenario."""
    s = scenario
    workload = Workload(users=s.users, regions=s.user_region, rate=RATE, duration=s.seconds, ops=s.ops,
                        mix={"add": 0.3, "view": 0.7}, skus=3)
    traces = {d: simulate(d, workload, seed=s.seed, db_region=s.db_region, new_users=s.new_users)
              for d in EXPLORER_DESIGNS}
    geo, latency = Geography.load(), LatencyModel()
    do_regions = {r.target_region for r in traces["do-per-user"].requests if r.target_region}
    do_region = min(do_regions) if do_regions else s.user_region
    return Exploration(
        s, traces, do_region,
        bounds_ms={"database": latency.bound_ms(geo, s.user_region, s.db_region),
                   "durable object": latency.bound_ms(geo, s.user_region, do_region)},
        rtt_ms={"database": latency.rtt_ms(geo, s.user_region, s.db_region),
                "durable object": latency.rtt_ms(geo, s.user_region, do_region)},
    )


def first_clicks(trace: Trace) -> list[int]:
    """The request ids of each user's first click in ``trace``, in the order they were sent."""
    seen: set[str] = set()
    firsts = []
    for r in sorted(trace.requests, key=lambda r: (r.sent, r.id)):
        if r.user not in seen:
            seen.add(r.user)
            firsts.append(r.id)
    return firsts


def travel(home: str, away: str, *, hint: str | None = None, requests: int = 20, seed: int = 0,
           ops: int = 3) -> Trace:
    """One user's cart, created from ``home`` (or at ``hint``), then used from ``away``.

    The first ``requests`` clicks come from home, the next ``requests`` from away; each
    record's ``client_region`` says which. The object never moves.
    """
    network = Network(LatencyModel(), trace=Trace())
    geo = network.geo
    geo.region(home)
    geo.region(away)
    with Lab(durable_objects={"CART": CartObject}, seed=seed, network=network) as lab:
        options = {"locationHint": hint} if hint else None
        ids = iter(range(2 * requests))

        async def click(region: str) -> None:
            record = RequestRecord(next(ids), "do-per-user", "traveller", "add", region, region)
            stub = lab.env.CART.getByName("traveller", options)
            await network.user_request(record, lambda: stub.handle("add", "sku-1", ops))

        for region in [home] * requests + [away] * requests:
            lab.run(click(region))
            lab.advance(30)  # a click every 30 s: the object stays warm
    return network.trace
