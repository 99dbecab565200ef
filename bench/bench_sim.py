#!/usr/bin/env python3
"""Simulation speed: an M/M/1 queue on dolab's clock vs SimPy, and cart requests per wall-second.

Usage: python bench/bench_sim.py [--quick]

1. The same M/M/1 queue (arrival rate 0.9, service rate 1.0, one server) simulated on dolab's
   virtual-clock asyncio loop and on SimPy, interleaved, medians of 3 runs each. Goal: dolab
   serves at least 1.5x as many customers per wall-second as SimPy. Both runs also
   report the mean wait, which queueing theory puts at rho / (mu - lambda) = 9.0.
2. 10,000 users sending cart requests for one simulated hour (one request per user every
   5 minutes on average: ~120,000 requests) through each design; simulated requests per
   wall-second. Goals: the per-user design at least as fast as the external database
   (side by side, same workload), and at least 5,000 requests per wall-second.
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


def goal(what: str, measured: float, target: float, unit: str = "x") -> str:
    """One goal line: ``GOAL <what> <measured> <target> PASS|MISS``."""
    fmt = (lambda v: f"{v:.2f}x") if unit == "x" else (lambda v: f"{v:,.0f}")
    return f"GOAL {what} {fmt(measured)} >={fmt(target)} {'PASS' if measured >= target else 'MISS'}"


def main() -> None:
    quick = "--quick" in sys.argv
    customers = 20_000 if quick else 100_000
    print(f"M/M/1, lambda={LAMBDA}, mu={MU}, {customers:,} customers, 3 interleaved runs each")
    res = interleaved({"dolab": lambda: mm1_dolab(customers, 1), "simpy": lambda: mm1_simpy(customers, 1)}, 3)
    rate = {k: statistics.median(r for r, _ in v) for k, v in res.items()}
    for name, runs in res.items():
        print(f"  {name:6s} {rate[name]:>10,.0f} customers/wall-s   mean wait {runs[0][1]:.2f} (theory 9.00)")
    ratio = statistics.median(d[0] / s[0] for d, s in zip(res["dolab"], res["simpy"], strict=True))
    print()

    hours = 0.1 if quick else 1.0
    reps = 3 if quick else 1
    users = 10_000
    load = Workload(users=users, rate=users / 300.0, duration=3600 * hours, regions="colo-density")
    print(f"Cart: {users:,} users, one request per user per 5 min, {hours:g} simulated hour(s), "
          f"{reps} interleaved run(s) per design")
    cart: dict[str, list[float]] = {d: [] for d in ("do-per-user", "external-db", "global-do")}
    for _ in range(reps):
        for design in cart:
            started = time.perf_counter()
            trace = simulate(design, load, seed=1, record_hops=False)
            wall = time.perf_counter() - started
            cart[design].append(len(trace.requests) / wall)
            p50 = statistics.median(r.latency_ms for r in trace.requests)
            print(f"  {design:12s} {len(trace.requests):>8,} requests in {wall:6.1f} s wall = "
                  f"{cart[design][-1]:>7,.0f} requests/wall-s  ({3600 * hours / wall:,.0f}x real time, "
                  f"p50 {p50:.0f} ms)")
    per_user = statistics.median(cart["do-per-user"])
    vs_db = statistics.median(a / b for a, b in zip(cart["do-per-user"], cart["external-db"], strict=True))
    print()
    print(goal("mm1_customers_per_s_vs_simpy", ratio, 1.5))
    print(goal("cart_per_user_objects_vs_external_db_requests_per_s", vs_db, 1.0))
    print(goal("cart_per_user_objects_requests_per_s_10k_users", per_user, 5_000, unit="n"))


if __name__ == "__main__":
    main()
