#!/usr/bin/env python3
"""Sequential RPC calls on one Durable Object, against two in-process baselines.

Variants, measured in interleaved repetitions (A, B, C, ... A, B, C, ...) in one process:

* ``dolab rpc``       ``await stub.add(1)`` inside one ``lab.run(main())`` coroutine (lab thread)
* ``dolab fetch``     ``await stub.fetch("https://x/")`` to a handler returning ``Response("ok")``
* ``plain await``     ``await obj.add(1)`` on a plain Python object, plain ``asyncio.run`` loop
* ``naive actor``     one task reading ``(method, args, future)`` from an ``asyncio.Queue``;
                      the caller puts a request and awaits the future (plain ``asyncio.run`` loop)
* ``dolab outside``   ``await stub.add(1)`` from a plain ``asyncio.run`` loop on the main thread:
                      every call is handed over to the lab thread and back (goal: 20,000 calls/s)

Ratios are the median of the per-repetition ratios (each pair measured side by side).

Usage: python bench/bench_rpc.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import time
from collections.abc import Callable
from typing import Any

from dolab import DurableObject, Lab, Response
from dolab.runtime.namespace import DurableObjectStub


class Counter(DurableObject):
    """add() only touches an in-memory counter: no storage, so this measures the call path."""

    def __init__(self, ctx: Any, env: Any) -> None:
        super().__init__(ctx, env)
        self.count = 0

    async def add(self, n: int) -> int:
        self.count += n
        return self.count

    async def fetch(self, request: Any) -> Response:
        return Response("ok")


class Plain:
    def __init__(self) -> None:
        self.count = 0

    async def add(self, n: int) -> int:
        self.count += n
        return self.count


# -- the variants: each returns calls per second for `n` sequential calls ------------------------


def dolab_rpc(lab: Lab, stub: DurableObjectStub, n: int) -> float:
    async def main() -> float:
        start = time.perf_counter()
        for _ in range(n):
            await stub.add(1)
        return n / (time.perf_counter() - start)

    return lab.run(main())


def dolab_fetch(lab: Lab, stub: DurableObjectStub, n: int) -> float:
    async def main() -> float:
        start = time.perf_counter()
        for _ in range(n):
            await stub.fetch("https://x/")
        return n / (time.perf_counter() - start)

    return lab.run(main())


def dolab_outside(stub: DurableObjectStub, n: int) -> float:
    async def main() -> float:
        start = time.perf_counter()
        for _ in range(n):
            await stub.add(1)
        return n / (time.perf_counter() - start)

    return asyncio.run(main())


def plain_await(n: int) -> float:
    async def main() -> float:
        obj = Plain()
        start = time.perf_counter()
        for _ in range(n):
            await obj.add(1)
        return n / (time.perf_counter() - start)

    return asyncio.run(main())


def naive_actor(n: int) -> float:
    async def main() -> float:
        obj = Plain()
        queue: asyncio.Queue[tuple[str, tuple[Any, ...], asyncio.Future[Any]]] = asyncio.Queue()

        async def actor() -> None:
            while True:
                method, args, future = await queue.get()
                try:
                    future.set_result(await getattr(obj, method)(*args))
                except Exception as exc:
                    future.set_exception(exc)

        task = asyncio.create_task(actor())
        loop = asyncio.get_running_loop()
        start = time.perf_counter()
        for _ in range(n):
            future: asyncio.Future[Any] = loop.create_future()
            await queue.put(("add", (1,), future))
            await future
        rate = n / (time.perf_counter() - start)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        return rate

    return asyncio.run(main())


# -- reporting --------------------------------------------------------------------------------------


def goal_line(name: str, measured: float, goal: float, unit: str = "x") -> str:
    """``GOAL <what> <measured> <target> PASS|MISS``."""
    verdict = "PASS" if measured >= goal else "MISS"
    if unit == "x":
        return f"GOAL {name} {measured:.2f}x >={goal:g}x {verdict}"
    return f"GOAL {name} {measured:,.0f} >={goal:,.0f} {verdict}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer calls and repetitions (smoke test)")
    args = parser.parse_args()
    reps = 3 if args.quick else 9
    n = 2_000 if args.quick else 20_000
    n_outside = 300 if args.quick else 2_000

    lab = Lab(durable_objects={"COUNTER": Counter})
    stub = lab.env.COUNTER.getByName("bench")
    variants: dict[str, tuple[Callable[[], float], int]] = {
        "dolab rpc": (lambda: dolab_rpc(lab, stub, n), n),
        "naive actor": (lambda: naive_actor(n), n),
        "plain await": (lambda: plain_await(n * 10), n * 10),
        "dolab fetch": (lambda: dolab_fetch(lab, stub, n), n),
        "dolab outside": (lambda: dolab_outside(stub, n_outside), n_outside),
    }
    # Warm-up: create the object, import lazily loaded code, fill caches.
    dolab_rpc(lab, stub, 200)
    dolab_fetch(lab, stub, 200)
    dolab_outside(stub, 50)
    naive_actor(200)
    plain_await(200)

    rates: dict[str, list[float]] = {name: [] for name in variants}
    t0 = time.perf_counter()
    for _ in range(reps):
        for name, (fn, _) in variants.items():
            gc.collect()
            rates[name].append(fn())
    elapsed = time.perf_counter() - t0
    lab.close()

    def paired(a: str, b: str) -> float:
        return statistics.median(x / y for x, y in zip(rates[a], rates[b], strict=True))

    print(f"bench_rpc: {reps} interleaved repetitions, {elapsed:.1f} s measured"
          f"{' (--quick)' if args.quick else ''}")
    print()
    print(f"{'variant':<15} {'calls/rep':>10} {'median calls/s':>15} {'min':>12} {'max':>12} {'us/call':>9}")
    for name, (_, calls) in variants.items():
        med = statistics.median(rates[name])
        print(f"{name:<15} {calls:>10,} {med:>15,.0f} {min(rates[name]):>12,.0f} "
              f"{max(rates[name]):>12,.0f} {1e6 / med:>9.2f}")
    print()
    ratios = [
        ("dolab rpc / naive actor", paired("dolab rpc", "naive actor")),
        ("dolab rpc / plain await", paired("dolab rpc", "plain await")),
        ("dolab fetch / naive actor", paired("dolab fetch", "naive actor")),
        ("dolab fetch / dolab rpc", paired("dolab fetch", "dolab rpc")),
        ("dolab outside / dolab rpc", paired("dolab outside", "dolab rpc")),
        ("dolab outside / naive actor", paired("dolab outside", "naive actor")),
    ]
    print(f"{'ratio (median of paired reps)':<32} {'value':>8}")
    for label, value in ratios:
        print(f"{label:<32} {value:>8.3f}")
    print()
    print("(dolab outside = a call from a plain asyncio.run() loop on another thread, as a notebook's "
          "await: handoff to the lab thread and back)")
    print(goal_line("rpc_vs_naive_actor", ratios[0][1], 2.0))
    print(goal_line("rpc_calls_per_s_from_another_loop", statistics.median(rates["dolab outside"]), 20_000, unit="n"))


if __name__ == "__main__":
    main()
