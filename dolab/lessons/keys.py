"""Chapter 10's experiments on which object a request reaches: granularity, a hot key, and queries
that span every object.

- :func:`run_load` sends open-loop traffic (:mod:`dolab.sim.openloop`) through a chapter's Worker
  function, with each object serving about 1,000 events a second (1 ms of CPU per event, the soft
  limit Cloudflare documents), and summarises the answers: throughput, p50/p99, overload errors.
- :func:`hot_key` runs it at several rates against one post's likes (a :class:`Like` per request).
- :func:`granularity` routes the same company orders (an :class:`Order` per request) by several
  key functions, and measures what each does to latency, the busiest object, errors, the budget
  rule each object enforces on its own, and the bill.
- :func:`compare_queries` builds per-user carts, the same rows in an external database, and runs
  questions about all users both ways: a fan-out to every object, and one SQL query.

Plain records only (lessons layer); :mod:`dolab.view.millionplots` draws them.
"""

from __future__ import annotations

import asyncio
import bisect
import random
import statistics
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dolab.lessons.million import europe
from dolab.runtime.errors import ConfigError
from dolab.runtime.lab import Lab
from dolab.sim.externaldb import ExternalDatabase
from dolab.sim.geo import Geography
from dolab.sim.network import Network
from dolab.sim.openloop import Arrival, drive, poisson_times
from dolab.sim.pricing import Usage, usage_of
from dolab.sim.trace import RequestRecord, Trace
from dolab.sim.workload import Chooser, region_weights

CPU_MS = 1.0  # per event: one object serves about 1,000 events a second (Cloudflare's soft limit)


@dataclass(frozen=True)
class LoadResult:
    """One run of :func:`run_load`. Latencies are of the requests that succeeded."""

    label: str
    offered_per_s: float
    served_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    failed: int
    errors: tuple[str, ...]
    objects: int
    usage: Usage  # scaled to a 30-day month of this traffic
    latencies_ms: tuple[float, ...] = ()
    probes: tuple[tuple[float, int, Any], ...] = ()  # (t, requests acknowledged by then, probe answer)
    final: Any = None

    @property
    def failed_share(self) -> float:
        return self.failed / self.requests if self.requests else 0.0


def _quantile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def run_load(classes: dict[str, type], worker: Callable[[Any, Any], Awaitable[Any]], arrivals: Sequence[Arrival],
             duration: float, *, label: str = "", seed: int = 0, probe: Callable[[Any], Awaitable[Any]] | None = None,
             probe_every: float = 0.25, linger: float = 0.0,
             inspect: Callable[[Any], Awaitable[Any]] | None = None,
             answers: Callable[[Arrival, Any], None] | None = None) -> LoadResult:
    """Send ``arrivals`` through ``worker(env, arrival.data)`` in a fresh lab with a network.

    ``probe(env)`` is awaited every ``probe_every`` seconds while traffic flows and for ``linger``
    seconds after the last answer (a reader of the result, say); then ``inspect(env)`` gives ``final``.
    ``answers(arrival, answer)`` sees every successful answer.
    """
    network = Network(trace=Trace(record_hops=False), first_use=False)
    probes: list[tuple[float, Any]] = []
    with Lab(durable_objects=classes, network=network, seed=seed, cpu_per_event=CPU_MS / 1000) as lab:
        env = lab.env

        async def handle(arrival: Arrival) -> Any:
            answer = await worker(env, arrival.data)
            if answers is not None:
                answers(arrival, answer)
            return answer

        async def main() -> tuple[list[RequestRecord], Any]:
            loop = asyncio.get_running_loop()
            start = loop.time()
            done = asyncio.Event()

            async def prober() -> None:
                assert probe is not None
                while not done.is_set():
                    t = loop.time() - start
                    try:
                        probes.append((t, await probe(env)))
                    except Exception as error:  # an overloaded reader is a reading too
                        probes.append((t, error))
                    await asyncio.sleep(probe_every)

            probing = asyncio.ensure_future(prober()) if probe is not None else None
            records = await drive(lab, network, arrivals, handle, design=label)
            if linger:
                await asyncio.sleep(linger)  # the reader keeps reading: it sees the last flushes land
            done.set()
            if probing is not None:
                await probing
            return records, (await inspect(env) if inspect is not None else None)

        records, final = lab.run(main())
        usage = usage_of(lab).per_month(duration)
        objects = sum(len(lab.list_durable_object_ids(ns)) for ns in lab.namespaces.values())
    ok = sorted(r.latency_ms for r in records if r.ok)
    span = (max((r.done for r in records if r.ok), default=0.0) - min((r.sent for r in records), default=0.0))
    acked = sorted(r.done for r in records if r.ok)
    return LoadResult(
        label=label, offered_per_s=len(records) / duration, served_per_s=len(ok) / span if span > 0 else 0.0,
        p50_ms=_quantile(ok, 50), p99_ms=_quantile(ok, 99), requests=len(records), failed=len(records) - len(ok),
        errors=tuple(sorted({r.error.split(": ", 1)[-1] for r in records if not r.ok})), objects=objects,
        usage=usage, latencies_ms=tuple(ok),
        probes=tuple((t, _count_until(acked, t), answer) for t, answer in probes), final=final)


def _count_until(sorted_times: list[float], t: float) -> int:
    return bisect.bisect_right(sorted_times, t)


def _users(n: int, regions: str | dict[str, float], rng: random.Random) -> list[tuple[str, str]]:
    weights = region_weights(Geography.load(), regions)
    pick = Chooser(list(weights), list(weights.values()), rng)
    return [(f"user-{i}", pick()) for i in range(n)]


# -- a hot key ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Like:
    """One like: ``n`` counts the likes of the run from 0."""

    post: str
    user: str
    n: int


def likes(rate: float, duration: float, *, users: int = 5_000, post: str = "match-report",
          regions: str | dict[str, float] | None = None, seed: int = 0) -> list[Arrival]:
    """Likes of one post at ``rate`` per second from ``users`` fans (in Europe by default)."""
    rng = random.Random(f"dolab-likes-{seed}")
    fans = _users(users, europe() if regions is None else regions, rng)
    out = []
    for n, t in enumerate(poisson_times(rate, duration, rng)):
        user, region = fans[rng.randrange(len(fans))]
        out.append(Arrival(t, region, user, "like", Like(post, user, n)))
    return out


def hot_key(classes: dict[str, type], worker: Callable[[Any, Any], Awaitable[Any]], rates: Sequence[float],
            duration: float = 2.0, *, label: str = "", seed: int = 0, **options: Any) -> list[LoadResult]:
    """The same post liked at each of ``rates`` per second for ``duration`` seconds."""
    return [run_load(classes, worker, likes(rate, duration, seed=seed), duration, label=label, seed=seed, **options)
            for rate in rates]


# -- granularity --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Order:
    """One order in a company's purchasing app: company (tenant) > project room > buyer > cart."""

    tenant: str
    room: str
    user: str
    cart: str
    amount: int


def orders(rate: float, duration: float, *, tenants: int = 20, users: int = 2_000, skew: float = 1.1,
           seed: int = 0) -> list[Arrival]:
    """Orders at ``rate`` per second. Companies have Zipf-skewed sizes (``skew``), a home region
    where 80 % of their buyers sit, 5 project rooms, and buyers with 2 carts each."""
    rng = random.Random(f"dolab-orders-{seed}")
    geo = Geography.load()
    weights = region_weights(geo, "colo-density")
    pick_region = Chooser(list(weights), list(weights.values()), rng)
    homes = [pick_region() for _ in range(tenants)]
    pick_tenant = Chooser([str(i) for i in range(tenants)], [1 / (k + 1) ** skew for k in range(tenants)], rng)
    buyers = []
    for i in range(users):
        company = int(pick_tenant())
        region = homes[company] if rng.random() < 0.8 else pick_region()
        buyers.append((f"company-{company}", f"company-{company}/room-{rng.randrange(5)}", f"buyer-{i}", region))
    out = []
    for t in poisson_times(rate, duration, rng):
        tenant, room, user, region = buyers[rng.randrange(users)]
        cart = f"{user}/cart-{rng.randrange(2)}"
        out.append(Arrival(t, region, user, "order", Order(tenant, room, user, cart, rng.randint(1, 100))))
    return out


@dataclass(frozen=True)
class GranularityResult:
    """:func:`granularity` for one key function: the load, the busiest object, the budget kept."""

    name: str
    load: LoadResult
    busiest_per_s: float  # requests per second offered to the busiest object
    accepted: dict[str, int] = field(default_factory=dict)  # budget -> amount buyers were told was ordered

    def over_budget(self, limit: float) -> dict[str, int]:
        """Companies whose accepted orders add up to more than ``limit``, and by how much."""
        return {t: a - int(limit) for t, a in sorted(self.accepted.items()) if a > limit}


def granularity(classes: dict[str, type], worker: Callable[[Any, Any], Awaitable[Any]],
                keys: dict[str, Callable[[Order], str]], *, rate: float = 2_000, duration: float = 2.0,
                seed: int = 0, accepted_if: Callable[[Any], bool] = lambda answer: answer == "ok",
                budget_of: Callable[[Order], str] = lambda order: order.tenant,
                **order_options: Any) -> list[GranularityResult]:
    """Run the same orders once per key function. ``worker(env, (key, order))`` reaches the object
    named ``key``; an answer for which ``accepted_if`` holds adds the order's amount to what was
    accepted for its budget (``budget_of(order)``: its company, by default)."""
    traffic = orders(rate, duration, seed=seed, **order_options)
    results = []
    for name, key in keys.items():
        keyed = [Arrival(a.at, a.region, a.user, a.op, (key(a.data), a.data)) for a in traffic]
        per_object = Counter(k for k, _ in (a.data for a in keyed))
        accepted: Counter[str] = Counter()

        def count(arrival: Arrival, answer: Any, accepted: Counter[str] = accepted) -> None:
            if accepted_if(answer):
                accepted[budget_of(arrival.data[1])] += arrival.data[1].amount

        load = run_load(classes, worker, keyed, duration, label=name, seed=seed, answers=count)
        results.append(GranularityResult(name, load, max(per_object.values()) / duration, dict(accepted)))
    return results


# -- questions about every user -----------------------------------------------------------------------


@dataclass(frozen=True)
class QueryCost:
    """One question answered one way: the answer, how long it took, what it cost."""

    question: str
    design: str
    answer: Any
    ms: float
    do_requests: int
    rows_read: int
    db_queries: int


Question = tuple[Callable[..., Awaitable[Any]], Callable[..., Awaitable[Any]]]  # (fan_out, sql)


def compare_queries(cart: type, questions: dict[str, Question],
                    *, users: int = 300, asker: str = "eastus", db_region: str = "eastus",
                    seed: int = 0) -> list[QueryCost]:
    """``users`` buyers worldwide each fill their own ``cart`` object (``await cart.add(sku, qty,
    price)``), and the same rows go into an external database's table
    ``cart(user, sku, qty, price)``. Each question is then asked from ``asker`` twice:
    ``fan_out(env, names)`` over the objects, and ``sql(db)`` on the database."""
    rng = random.Random(f"dolab-carts-{seed}")
    buyers = _users(users, "colo-density", rng)
    network = Network(trace=Trace(record_hops=False), first_use=False)
    out: list[QueryCost] = []
    with Lab(durable_objects={"CART": cart}, network=network, seed=seed) as lab:
        db = ExternalDatabase(lab, db_region)
        db.conn.execute("CREATE TABLE cart (user TEXT, sku TEXT, qty INTEGER, price REAL, PRIMARY KEY (user, sku))")
        n = 0
        for user, region in buyers:
            for _ in range(rng.randint(1, 4)):
                sku = f"sku-{int(rng.paretovariate(1.2)) % 40}"  # a few products are in most carts
                qty, price = rng.randint(1, 3), float(rng.randint(2, 60))
                record = RequestRecord(n, "setup", user, "add", region, region)

                def add(user: str = user, sku: str = sku, qty: int = qty, price: float = price) -> Any:
                    return lab.env.CART.getByName(user).add(sku, qty, price)

                lab.run(network.user_request(record, add))
                if not record.ok:
                    raise ConfigError(f"{cart.__name__}.add(sku, qty, price) failed: {record.error}")
                db.conn.execute("INSERT INTO cart VALUES (?, ?, ?, ?) ON CONFLICT (user, sku) DO UPDATE SET "
                                "qty = qty + excluded.qty, price = excluded.price", (user, sku, qty, price))
                n += 1
        names = [user for user, _ in buyers]
        # Let every cart hibernate before the questions: in dolab a call still in flight to an object
        # that hibernates meanwhile can meet an empty database (a runtime issue, reported), and a
        # fan-out from far away would land right in that window for the carts filled last.
        lab.advance(15)
        for question, (fan_out, sql) in questions.items():
            for design, call in (("fan-out to every object", lambda f=fan_out: f(lab.env, names)),
                                 ("one SQL query", lambda s=sql: s(db))):
                before, queries = lab.statistics(), db.queries
                record = RequestRecord(n, design, "analyst", question, asker, asker)
                answer = lab.run(network.user_request(record, call))
                n += 1
                if not record.ok:
                    raise ConfigError(f"{question!r} failed as {design}: {record.error}")
                after = lab.statistics()
                out.append(QueryCost(question, design, answer, record.latency_ms, after.requests - before.requests,
                                     after.rows_read - before.rows_read, db.queries - queries))
    return out
