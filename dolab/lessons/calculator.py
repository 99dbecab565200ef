"""Chapter 10's design calculator: from an app's shape to each design's p50/p99, risks and monthly bill.

:func:`estimate` is a model, not a run: it is fast enough to redraw a widget on every change, and
each of its parts is one that the chapters measured with the simulator:

- **latency**: each user's region (by ``geography``: ``westeurope``, Europe's regions, or the
  world's, weighted by Cloudflare's data centres) to where the design keeps the data, from the
  measured RTT matrix (:mod:`dolab.sim.latency`) with its jitter, plus 10 ms of last mile; the
  external database sits in the geography's busiest region and takes 2 queries per request; a
  cache answers ``cache_hit`` of the reads at the edge;
- **queueing**: one object serves about 1,000 events a second (1 ms each, Cloudflare's soft limit):
  an M/M/1 queue at the busiest hour; the database is 8 connections of 2 ms each (M/M/c). At or
  past capacity a design is marked overloaded (its requests fail with ``.overloaded`` errors);
- **cross-user queries**: a share of requests asks about many users: one query on a database,
  a fan-out to ``fan_out`` objects for objects split per user or per tenant;
- **the bill**: :func:`dolab.sim.pricing.bill` for the Durable Object and Worker lines, plus the
  database's and the cache's own monthly bills, which you give.

Samples come from a generator seeded with ``seed``: the same inputs give the same numbers.
"""

from __future__ import annotations

import functools
import math
import random
from dataclasses import dataclass

from dolab.runtime.errors import ConfigError
from dolab.sim.geo import Geography
from dolab.sim.latency import LatencyModel
from dolab.sim.openloop import DIURNAL_PROFILE
from dolab.sim.pricing import Usage, bill
from dolab.sim.workload import region_weights

GEOGRAPHIES = ("one region", "one continent", "worldwide")
DESIGNS = ("external-db", "cached-db", "do-per-user", "do-per-user + db", "do-per-tenant", "one global DO")
OBJECT_CPU_MS = 1.0
DB_SERVICE_MS, DB_CONNECTIONS, DB_QUERIES = 2.0, 8, 2
OBJECT_LIMIT_GB = 10.0  # per SQLite-backed object
EMPTY_OBJECT_BYTES = 8_192  # measured in this chapter: a fresh object with one KV pair
PEAK_TO_MEAN = 24 / sum(DIURNAL_PROFILE)  # the busiest hour of the diurnal profile vs the day's mean


@dataclass(frozen=True)
class Inputs:
    """The calculator's controls."""

    users: int = 100_000
    requests_per_user_day: float = 20.0
    geography: str = "one continent"
    kb_per_key: float = 20.0
    cross_user_share: float = 0.01
    tenants: int = 500
    db_usd_month: float = 300.0
    cache_usd_month: float = 50.0
    cache_hit: float = 0.8
    fan_out: int = 100  # objects a cross-user query must ask when data is split per user
    samples: int = 2_000
    seed: int = 0

    def __post_init__(self) -> None:
        if self.geography not in GEOGRAPHIES:
            raise ConfigError(f"geography must be one of {', '.join(GEOGRAPHIES)}, got {self.geography!r}")
        for name in ("users", "tenants", "fan_out", "samples"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{name} must be an int >= 1, got {value!r}")
        for name in ("requests_per_user_day", "kb_per_key", "db_usd_month", "cache_usd_month"):
            if not getattr(self, name) >= 0:
                raise ConfigError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        for name in ("cross_user_share", "cache_hit"):
            if not 0 <= getattr(self, name) <= 1:
                raise ConfigError(f"{name} must be between 0 and 1, got {getattr(self, name)!r}")

    @property
    def mean_per_s(self) -> float:
        return self.users * self.requests_per_user_day / 86_400

    @property
    def peak_per_s(self) -> float:
        return self.mean_per_s * PEAK_TO_MEAN


@dataclass(frozen=True)
class Estimate:
    """One design under :class:`Inputs`. ``p50_ms``/``p99_ms`` are ``inf`` when it is overloaded."""

    design: str
    p50_ms: float
    p99_ms: float
    busiest_load: float  # the busiest object's (or database's) utilisation at the busiest hour; >= 1: overloaded
    bill_usd: float  # a month: Durable Objects + Workers (Workers Paid, no $5 minimum) + database + cache
    cloudflare_usd: float
    risks: tuple[str, ...]

    @property
    def overloaded(self) -> bool:
        return self.busiest_load >= 1


def _regions(geography: str) -> dict[str, float]:
    geo = Geography.load()
    weights = region_weights(geo, "colo-density")
    if geography == "worldwide":
        return weights
    if geography == "one continent":
        return {c: w for c, w in weights.items() if geo.region(c).continent == "Europe"}
    return {"westeurope": 1.0}


@functools.lru_cache(maxsize=16)
def _nearest_do(region: str) -> str:
    geo, model = Geography.load(), LatencyModel()
    return min(geo.do_regions, key=lambda r: (model.rtt_ms(geo, region, r.code), r.code)).code


def _mm1_wait_ms(rng: random.Random, load: float, service_ms: float) -> float:
    """A draw of the time in an M/M/1 queue (waiting + service), exponential with mean S / (1 - load)."""
    return rng.expovariate((1 - load) / service_ms)


def _erlang_c(c: int, offered: float) -> float:
    """Probability that a query waits in an M/M/c queue with ``offered`` = arrival rate x service time."""
    if offered >= c:
        return 1.0
    term = sum(offered**k / math.factorial(k) for k in range(c))
    top = offered**c / math.factorial(c) * c / (c - offered)
    return top / (term + top)


def _quantiles(values: list[float]) -> tuple[float, float]:
    values.sort()
    return values[len(values) // 2], values[min(len(values) - 1, int(0.99 * len(values)))]


@functools.lru_cache(maxsize=256)
def estimate(inputs: Inputs) -> tuple[Estimate, ...]:
    """Every design of :data:`DESIGNS` under ``inputs`` (cached: a widget may ask again for free)."""
    geo, model = Geography.load(), LatencyModel()
    weights = _regions(inputs.geography)
    codes = sorted(weights)
    home = max(codes, key=lambda c: (weights[c], c))  # the database's region, and the first user's
    rng = random.Random(f"dolab-calculator-{inputs.seed}")
    users = rng.choices(codes, [weights[c] for c in codes], k=inputs.samples)
    others = rng.choices(codes, [weights[c] for c in codes], k=inputs.samples)
    last_mile = model.last_mile_ms

    base: dict[tuple[str, str], float] = {}  # measured RTTs, looked up once per pair

    def rtt(a: str, b: str) -> float:
        ms = base.get((a, b))
        if ms is None:
            ms = base[(a, b)] = model.rtt_ms(geo, a, b)
        return model.sample_ms(ms, rng)

    peak = inputs.peak_per_s
    cross = inputs.cross_user_share
    per_user_load = peak / inputs.users * OBJECT_CPU_MS / 1000
    per_tenant_load = peak / inputs.tenants * OBJECT_CPU_MS / 1000
    global_load = peak * OBJECT_CPU_MS / 1000
    db_offered = peak * DB_QUERIES * DB_SERVICE_MS / 1000  # Erlangs, if every request went to the database
    stored_gb = inputs.users * inputs.kb_per_key * 1000 / 1e9
    month_requests = inputs.mean_per_s * 30 * 86_400

    # The share of requests each design sends to the database: the cache absorbs its hits, and
    # objects with a database beside them send it only the cross-user queries.
    db_share = {"external-db": 1.0, "cached-db": 1 - inputs.cache_hit * (1 - cross), "do-per-user + db": cross}

    def db_wait(offered: float) -> float:
        if offered >= DB_CONNECTIONS:
            return math.inf
        if rng.random() < _erlang_c(DB_CONNECTIONS, offered):
            return rng.expovariate((DB_CONNECTIONS - offered) / DB_SERVICE_MS) + DB_SERVICE_MS
        return DB_SERVICE_MS

    def fan_out_ms(user: str) -> float:
        return max(rtt(user, _nearest_do(rng.choice(others))) for _ in range(min(inputs.fan_out, 50)))

    out = []
    for design in DESIGNS:
        offered = db_offered * db_share.get(design, 0.0)
        times = []
        for user, other in zip(users, others, strict=True):
            is_cross = rng.random() < cross
            if design in ("external-db", "cached-db") or (design == "do-per-user + db" and is_cross):
                hit = design == "cached-db" and not is_cross and rng.random() < inputs.cache_hit
                t = 1.0 if hit else sum(rtt(user, home) + db_wait(offered) for _ in range(DB_QUERIES))
            elif design in ("do-per-user", "do-per-user + db"):
                t = fan_out_ms(user) if is_cross else rtt(user, _nearest_do(user)) + (
                    _mm1_wait_ms(rng, per_user_load, OBJECT_CPU_MS) if per_user_load < 1 else math.inf)
            elif design == "do-per-tenant":
                # the tenant's object sits near its first user: another user of the same geography
                t = fan_out_ms(user) if is_cross else rtt(user, _nearest_do(other)) + (
                    _mm1_wait_ms(rng, per_tenant_load, OBJECT_CPU_MS) if per_tenant_load < 1 else math.inf)
            else:
                t = rtt(user, _nearest_do(home)) + (
                    _mm1_wait_ms(rng, global_load, OBJECT_CPU_MS) if global_load < 1 else math.inf)
            times.append(t + last_mile)
        p50, p99 = _quantiles(times)
        load = max(offered / DB_CONNECTIONS, {"do-per-user": per_user_load, "do-per-user + db": per_user_load,
                                              "do-per-tenant": per_tenant_load, "one global DO": global_load}
                   .get(design, 0.0))
        objects = {"do-per-user": inputs.users, "do-per-user + db": inputs.users,
                   "do-per-tenant": inputs.tenants, "one global DO": 1}.get(design, 0)
        do_requests = 0.0
        if objects:
            fan = inputs.fan_out if design in ("do-per-user", "do-per-tenant") and objects > 1 else 1
            do_requests = month_requests * ((1 - cross) + cross * (fan if design != "do-per-user + db" else 0))
        usage = Usage(requests=do_requests, active_seconds=do_requests * OBJECT_CPU_MS / 1000,
                      rows_read=do_requests * 2, rows_written=do_requests / 2,
                      stored_gb=(stored_gb + objects * EMPTY_OBJECT_BYTES / 1e9) if objects else 0.0,
                      worker_requests=month_requests)
        cloudflare = bill(usage, minimum=False).total
        extra = (inputs.db_usd_month if design in ("external-db", "cached-db", "do-per-user + db") else 0.0) + (
            inputs.cache_usd_month if design == "cached-db" else 0.0)
        out.append(Estimate(design, p50, p99, load, round(cloudflare + extra, 2), cloudflare,
                            _risks(design, inputs, load, stored_gb, objects)))
    return tuple(out)


def _risks(design: str, inputs: Inputs, load: float, stored_gb: float, objects: int) -> tuple[str, ...]:
    risks = []
    if load >= 1:
        risks.append(f"overloaded at the busiest hour ({load:.1f}x capacity): requests fail")
    elif load >= 0.7:
        risks.append(f"near capacity at the busiest hour ({load:.0%}): p99 grows fast")
    if design in ("external-db", "cached-db"):
        risks.append("read-modify-write races unless each write is one statement or a transaction (chapter 02)")
    if design == "cached-db":
        risks.append("reads at other edges can be stale after a write")
    if design in ("do-per-user", "do-per-tenant") and inputs.cross_user_share > 0:
        risks.append(f"cross-user queries ask {inputs.fan_out} objects each: no single snapshot, a bill per object")
    if design == "do-per-user + db":
        risks.append("the database's copy lags the objects: cross-user answers are eventually consistent")
    if objects and stored_gb / objects > OBJECT_LIMIT_GB:
        risks.append(f"{stored_gb / objects:,.0f} GB per object: over the 10 GB limit of one object")
    return tuple(risks)
