"""Run one design under one workload on a fresh lab and return its trace (simulation layer).

>>> trace = simulate("do-per-user", Workload(users=50, rate=20, duration=30), seed=1)

Same design, workload and seed give the identical trace, row for row.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from dolab.runtime.errors import ConfigError
from dolab.runtime.lab import Lab
from dolab.sim.designs import (
    DESIGNS,
    CachedDbDesign,
    CartObject,
    DoPerUserDesign,
    ExternalDbDesign,
    GlobalCartObject,
    GlobalDoDesign,
    PinnedCartObject,
)
from dolab.sim.externaldb import ExternalDatabase
from dolab.sim.latency import LatencyModel
from dolab.sim.network import Network
from dolab.sim.trace import RequestRecord, Trace
from dolab.sim.workload import Chooser, Workload, region_weights, user_chooser


def simulate(
    design: str,
    workload: Workload,
    *,
    seed: int = 0,
    latency: LatencyModel | None = None,
    db_region: str = "eastus",
    db_connections: int = 8,
    db_service_ms: float = 2.0,
    do_cpu_ms: float = 1.0,
    storage_ms: float = 0.05,
    record_hops: bool = True,
    progress: Callable[[float], None] | None = None,
    sample_every: float | None = None,
    max_active: int = 5_000,
    linger: float = 0.0,
    hibernatable: bool = True,
    new_users: bool = False,
) -> Trace:
    """Simulate ``design`` ("external-db", "cached-db", "do-per-user" or "global-do") under ``workload``.

    Args:
        db_region, db_connections, db_service_ms: the external database (external-db design).
        do_cpu_ms: CPU time each event keeps a Durable Object busy (1 ms: ~1,000 requests/s per
            object, Cloudflare's documented soft limit).
        storage_ms: time of one co-located storage operation inside a Durable Object.
        record_hops: keep per-hop rows (turn off for very large runs to save memory).
        progress: called with the fraction of simulated time done, now and then.
        sample_every: seconds between gauge samples (objects active / hibernated / evicted, the
            deepest Durable Object input queue); default: 100 samples over the run.
        max_active: objects kept in memory at most; beyond it the least recently used is evicted.
        linger: seconds to keep the lab running (and sampling) after the last answer, to watch
            idle objects hibernate.
        hibernatable: ``False`` gives each per-user object something of its own to keep open, so
            it cannot hibernate: it stays in memory, billed, until evicted 70-140 s after its
            last request.
        new_users: ``True``: every user is new, so the first request to each one's named object
            pays Cloudflare's global uniqueness check (a few hundred ms, once). Default: users
            came before, and their objects exist.

    ``trace.usage`` holds what the run consumed, for :mod:`dolab.sim.pricing`: Durable Object
    requests, billed seconds, rows, stored bytes, Worker requests and external-database queries.
    """
    if design not in DESIGNS:
        raise ConfigError(f"unknown design {design!r}; choose one of {', '.join(DESIGNS)}")
    trace = Trace(record_hops=record_hops)
    network = Network(latency or LatencyModel(), trace=trace, first_use=new_users)
    trace.settings = {
        "design": design, "seed": seed, **{f"workload.{k}": v for k, v in asdict(workload).items()},
        **{f"latency.{k}": v for k, v in asdict(network.latency).items()},
        "db_region": db_region, "db_connections": db_connections, "db_service_ms": db_service_ms,
        "do_cpu_ms": do_cpu_ms, "storage_ms": storage_ms, "max_active": max_active, "linger": linger,
        "hibernatable": hibernatable, "new_users": new_users,
    }
    with Lab(
        durable_objects={"CART": CartObject if hibernatable else PinnedCartObject, "GLOBAL_CART": GlobalCartObject},
        seed=seed,
        network=network,
        storage_latency=storage_ms / 1000.0,
        cpu_per_event=do_cpu_ms / 1000.0,
        max_active=max_active,  # idle objects hibernate after 10 s anyway; this bounds bursts
    ) as lab:
        handler: Any
        if design in ("external-db", "cached-db"):
            db = ExternalDatabase(lab, db_region, connections=db_connections, service_ms=db_service_ms)
            handler = (ExternalDbDesign if design == "external-db" else CachedDbDesign)(db, workload.ops)
        elif design == "do-per-user":
            handler = DoPerUserDesign(lab.env, workload.ops)
        else:
            handler = GlobalDoDesign(lab.env, workload.ops)
        every = sample_every or workload.duration / 100
        lab.run(_drive(lab, network, handler, workload, trace, progress, every, linger))
        stats = lab.statistics()
        trace.usage = {
            "seconds": workload.duration, "requests": stats.requests, "ws_messages": stats.ws_messages,
            "active_seconds": stats.active_seconds, "rows_read": stats.rows_read,
            "rows_written": stats.rows_written, "stored_bytes": lab.stored_bytes(),
            "worker_requests": len(trace.requests), "constructed": stats.constructed,
            "objects": sum(len(lab.list_durable_object_ids(ns)) for ns in lab.namespaces.values()),
            "db_queries": getattr(getattr(handler, "db", None), "queries", 0),
        }
    return trace


async def _sampler(lab: Lab, trace: Trace, every: float) -> None:
    while True:
        _sample_objects(lab, trace)
        await asyncio.sleep(every)


def _sample_objects(lab: Lab, trace: Trace) -> None:
    """One reading of the object gauges: how many objects are in each state, the longest queue."""
    stats = lab.statistics()
    t = stats.now
    trace.sample(t, "objects_active", stats.active)
    trace.sample(t, "objects_hibernated", stats.hibernating)
    trace.sample(t, "objects_evicted", stats.cold - stats.hibernating)
    # Requests inside the busiest object: the one running plus those waiting at its input gate.
    trace.sample(t, "do_queue", stats.deepest_queue)


async def _drive(lab: Lab, network: Network, design: Any, workload: Workload, trace: Trace,
                 progress: Callable[[float], None] | None, every: float, linger: float = 0.0) -> None:
    await design.setup()
    sampling = asyncio.ensure_future(_sampler(lab, trace, every))
    # The workload draws from its own stream (derived from the lab's seed), so every design sees
    # exactly the same users, operations and arrival times; jitter draws cannot shift them.
    rng = random.Random(f"dolab-workload-{lab.seed}")
    geo = network.geo
    weights = region_weights(geo, workload.regions)
    pick_region = Chooser(list(weights), list(weights.values()), rng)
    home = {f"user-{i}": pick_region() for i in range(workload.users)}
    pick_user = user_chooser(workload, rng)
    ops = list(workload.mix)
    pick_op = Chooser(ops, [workload.mix[o] for o in ops], rng)
    skus = [f"sku-{i}" for i in range(workload.skus)]
    ids = itertools.count()
    loop = asyncio.get_running_loop()
    end = loop.time() + workload.duration
    pending: set[asyncio.Task[None]] = set()
    last_report = [loop.time()]

    def report() -> None:
        if progress is not None and loop.time() - last_report[0] >= workload.duration / 100:
            last_report[0] = loop.time()
            progress(min(1.0, 1 - (end - loop.time()) / workload.duration))

    async def one_request(user: str) -> None:
        region = home[user]
        record = RequestRecord(next(ids), design.name, user, pick_op(), region, region)
        sku = skus[rng.randrange(len(skus))]
        await network.user_request(record, lambda: design.handle(user, record.op, sku))

    if workload.rate is not None:
        while True:
            await asyncio.sleep(rng.expovariate(workload.rate))
            if loop.time() >= end:
                break
            task = asyncio.ensure_future(one_request(pick_user()))
            pending.add(task)
            task.add_done_callback(pending.discard)
            report()
    else:
        think = workload.think_time or 0.0

        async def user_loop(user: str) -> None:
            await asyncio.sleep(rng.uniform(0, think or 1.0))  # users do not all start at once
            while loop.time() < end:
                await one_request(user)
                await asyncio.sleep(rng.expovariate(1.0 / think) if think > 0 else 0)
                report()

        pending.update(asyncio.ensure_future(user_loop(u)) for u in home)
    if pending:
        await asyncio.gather(*pending)
    if linger > 0:
        await asyncio.sleep(linger)
    sampling.cancel()
    _sample_objects(lab, trace)
    if progress is not None:
        progress(1.0)
