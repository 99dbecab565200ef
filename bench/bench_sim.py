#!/usr/bin/env python3
"""Simulation speed: an M/M/1 queue on dolab's clock vs SimPy, and cart requests per wall-second.

Usage: python bench/bench_sim.py [--quick]

1. The same M/M/1 queue (arrival rate 0.9, service rate 1.0, one server) simulated on dolab's
   virtual-clock asyncio loop and on SimPy, interleaved, medians of 3 runs each. Goal: dolab
   serves at least as many customers per wall-second as SimPy (ratio >= 1). Both runs also
   report the mean wait, which queueing theory puts at rho / (mu - lambda) = 9.0.
2. 10,000 users sending cart requests for one simulated hour (one request per user every
   5 minutes on average: ~120,000 requests) through each design; simulated requests per
   wall-second.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import time
from collections.abc import Callable

import simpy

from dolab import DurableObject, Lab
from dolab.sim.simulate import simulate
from dolab.sim.workload import Workload

LAMBDA, MU = 0.9, 1.0


def mm1_dolab(customers: int, seed: int) -> tuple[float, float]:
    """Customers per wall-second and mean wait, on a lab's virtual clock."""

    class Nothing(DurableObject):
        pass

    rng = random.Random(seed)
    waits: list[float] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = asyncio.Lock()
        done = loop.create_future()
        served = 0

        async def customer() -> None:
            nonlocal served
            arrived = loop.time()
            async with server:
                waits.append(loop.time() - arrived)
                await asyncio.sleep(rng.expovariate(MU))
            served += 1
            if served == customers:
                done.set_result(None)

        for _ in range(customers):
            await asyncio.sleep(rng.expovariate(LAMBDA))
            asyncio.ensure_future(customer())
        await done

    with Lab(durable_objects={"N": Nothing}) as lab:
        started = time.perf_counter()
        lab.run(main())
        wall = time.perf_counter() - started
    return customers / wall, statistics.fmean(waits)


def mm1_simpy(customers: int, seed: int) -> tuple[float, float]:
    rng = random.Random(seed)
    env = simpy.Environment()
    server = simpy.Resource(env, capacity=1)
    waits: list[float] = []

    def customer() -> simpy.events.ProcessGenerator:
        arrived = env.now
        with server.request() as req:
            yield req
            waits.append(env.now - arrived)
            yield env.timeout(rng.expovariate(MU))

    def source() -> simpy.events.ProcessGenerator:
        for _ in range(customers):
            yield env.timeout(rng.expovariate(LAMBDA))
            env.process(customer())

    env.process(source())
    started = time.perf_counter()
    env.run()
    wall = time.perf_counter() - started
    return customers / wall, statistics.fmean(waits)


def interleaved(
    fns: dict[str, Callable[[], tuple[float, float]]], repeats: int
) -> dict[str, list[tuple[float, float]]]:
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            results[name].append(fn())
    return results


def main() -> None:
    quick = "--quick" in sys.argv
    customers = 20_000 if quick else 100_000
    print(f"M/M/1, lambda={LAMBDA}, mu={MU}, {customers:,} customers, 3 interleaved runs each")
    res = interleaved({"dolab": lambda: mm1_dolab(customers, 1), "simpy": lambda: mm1_simpy(customers, 1)}, 3)
    rate = {k: statistics.median(r for r, _ in v) for k, v in res.items()}
    for name, runs in res.items():
        print(f"  {name:6s} {rate[name]:>10,.0f} customers/wall-s   mean wait {runs[0][1]:.2f} (theory 9.00)")
    ratio = rate["dolab"] / rate["simpy"]
    print()

    hours = 0.1 if quick else 1.0
    users = 10_000
    load = Workload(users=users, rate=users / 300.0, duration=3600 * hours, regions="colo-density")
    print(f"Cart: {users:,} users, one request per user per 5 min, {hours:g} simulated hour(s)")
    cart: dict[str, float] = {}
    for design in ("do-per-user", "external-db", "global-do"):
        started = time.perf_counter()
        trace = simulate(design, load, seed=1, record_hops=False)
        wall = time.perf_counter() - started
        cart[design] = len(trace.requests) / wall
        p50 = statistics.median(r.latency_ms for r in trace.requests)
        print(f"  {design:12s} {len(trace.requests):>8,} requests in {wall:6.1f} s wall = "
              f"{cart[design]:>7,.0f} requests/wall-s  ({3600 * hours / wall:,.0f}x real time, p50 {p50:.0f} ms)")
    print()
    print(f"GOAL mm1_vs_simpy: measured {ratio:.2f} (goal >= 1) {'PASS' if ratio >= 1 else 'MISS'}")
    print(f"INFO cart_requests_per_wall_s (do-per-user): {cart['do-per-user']:,.0f}")


if __name__ == "__main__":
    main()
