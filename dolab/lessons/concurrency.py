"""Many "add to cart" requests at once: who loses updates, and a checker that proves it.

:func:`concurrent_adds` sends ``n`` simultaneous adds for one user, either to a stateless Worker
doing read-modify-write against an external database, or to the user's Durable Object. Each
request writes down what it read and what it wrote, and when, as an :class:`Operation`.
:func:`check_no_lost_items` then judges the history (simulation layer: plain records only).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from dolab.runtime.errors import ConfigError
from dolab.runtime.lab import Lab
from dolab.runtime.objects import DurableObject
from dolab.runtime.worker import WorkerEntrypoint
from dolab.sim.externaldb import ExternalDatabase
from dolab.sim.network import Network
from dolab.sim.trace import RequestRecord

DESIGNS = ("external-db", "do-per-user")


@dataclass(frozen=True)
class Operation:
    """One add: the value it read, the value it wrote, and when (seconds on the lab clock)."""

    request: int
    start: float
    read_at: float
    read: int
    wrote_at: float
    wrote: int
    end: float


@dataclass(frozen=True)
class Verdict:
    """``valid``, ``invalid`` (with the smallest counterexample) or ``unknown``."""

    status: str
    final: int
    expected: int
    counterexample: tuple[Operation, ...] = ()
    explanation: str = ""

    @property
    def valid(self) -> bool:
        return self.status == "valid"


@dataclass
class ConcurrentRun:
    design: str
    n: int
    final: int
    history: list[Operation] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return self.n - self.final


class _Journal:
    """Where each request notes its read and write (the history the checker judges)."""

    def __init__(self) -> None:
        self.ops: dict[int, dict[str, Any]] = {}

    def note(self, request: int, what: str, value: int) -> None:
        self.ops.setdefault(request, {})[what] = value
        self.ops[request][f"{what}_at"] = asyncio.get_running_loop().time()


class DatabaseCounter(WorkerEntrypoint):
    """The stateless way: read the count from the database, add one, write it back."""

    async def add(self, request: int) -> int:
        db, journal = self.env.DB, self.env.JOURNAL
        rows = await db.query("SELECT count FROM carts WHERE user = 'alice'")
        count = rows[0][0] if rows else 0
        journal.note(request, "read", count)
        await db.query("INSERT OR REPLACE INTO carts VALUES ('alice', ?)", count + 1)
        journal.note(request, "wrote", count + 1)
        return int(count + 1)


class CounterObject(DurableObject):
    """The Durable Object way: the same read-modify-write, on the object's own storage."""

    async def add(self, request: int) -> int:
        journal = self.env.JOURNAL
        count = (await self.ctx.storage.get("count")) or 0
        journal.note(request, "read", count)
        await self.ctx.storage.put("count", count + 1)
        journal.note(request, "wrote", count + 1)
        return int(count + 1)


def concurrent_adds(design: str, n: int, *, seed: int = 0, region: str = "westeurope",
                    db_region: str = "eastus", spread_ms: float = 500.0) -> ConcurrentRun:
    """Send ``n`` adds for one user (standing in ``region``), each starting at a random moment
    within the first ``spread_ms`` (think: several tabs and devices), and record the history."""
    if design not in DESIGNS:
        raise ConfigError(f"design must be one of {DESIGNS}, got {design!r}")
    if not isinstance(n, int) or n < 1:
        raise ConfigError(f"n must be an int >= 1, got {n!r}")
    network = Network()
    with Lab(durable_objects={"COUNTER": CounterObject}, network=network, seed=seed,
             storage_latency=0.00005) as lab:
        journal = _Journal()
        lab.env.JOURNAL = journal
        db = ExternalDatabase(lab, db_region)
        db.conn.execute("CREATE TABLE carts (user TEXT PRIMARY KEY, count INTEGER)")
        lab.env.DB = db
        worker = lab.worker(DatabaseCounter)
        starts: dict[int, float] = {}
        ends: dict[int, float] = {}

        delays = [lab.rng.uniform(0, spread_ms / 1000.0) for _ in range(n)]

        async def one(i: int) -> None:
            await asyncio.sleep(delays[i])
            record = RequestRecord(i, design, "alice", "add", region, region)

            async def call() -> Any:
                starts[i] = lab.now
                if design == "external-db":
                    return await worker.add(i)
                return await lab.env.COUNTER.getByName("alice").add(i)

            await network.user_request(record, call)
            ends[i] = lab.now

        async def all_at_once() -> int:
            await asyncio.gather(*(one(i) for i in range(n)))
            if design == "external-db":
                rows = await db.query("SELECT count FROM carts WHERE user = 'alice'")
                return int(rows[0][0]) if rows else 0
            return int(await lab.run_in_durable_object(lab.env.COUNTER.getByName("alice"),
                                                       lambda obj, ctx: ctx.storage.get("count")) or 0)

        final = lab.run(all_at_once())
        history = [
            Operation(i, starts[i], o["read_at"], o["read"], o["wrote_at"], o["wrote"], ends[i])
            for i, o in sorted(journal.ops.items()) if "wrote" in o
        ]
    return ConcurrentRun(design, n, final, history)


def check_no_lost_items(history: list[Operation], final: int) -> Verdict:
    """Is ``final`` what ``len(history)`` adds should give? If not, the smallest proof why.

    A lost update needs two adds that read the same value: both wrote ``value + 1``, so one of
    the two additions vanished. That pair is the smallest counterexample there can be.
    """
    expected = len(history)
    if final == expected:
        return Verdict("valid", final, expected, explanation=f"{expected} adds, {final} items: nothing lost")
    by_read: dict[int, Operation] = {}
    for op in sorted(history, key=lambda o: (o.read_at, o.request)):
        if op.read in by_read:
            first = by_read[op.read]
            return Verdict(
                "invalid", final, expected, (first, op),
                f"requests {first.request} and {op.request} both read {op.read} and both wrote {op.read + 1}: "
                f"one add was lost ({expected} adds, {final} items)",
            )
        by_read[op.read] = op
    return Verdict("unknown", final, expected,
                   explanation=f"{expected} adds but {final} items, and no two adds read the same value")


def lost_updates_curve(ns: list[int], *, seed: int = 0, region: str = "westeurope",
                       db_region: str = "eastus", spread_ms: float = 500.0) -> list[dict[str, Any]]:
    """Rows ``{design, n, final, lost}`` for each design and each concurrency level."""
    return [
        {"design": d, "n": n, "final": r.final, "lost": r.lost}
        for n in ns for d in DESIGNS
        for r in [concurrent_adds(d, n, seed=seed, region=region, db_region=db_region, spread_ms=spread_ms)]
    ]
