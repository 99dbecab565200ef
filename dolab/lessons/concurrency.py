"""Chapter 02's experiments: many "add to cart" requests for one user at once, and what came of them.

The classes under test are the chapter's own: :func:`db_adds` sends ``n`` adds to a stateless
Worker class that keeps the cart in an :class:`~dolab.sim.externaldb.ExternalDatabase` (table
:data:`CART_TABLE`, Alice's row already there); :func:`object_adds` sends them to Alice's Durable
Object. Every add is a request from Alice's region through the lab's network, so the trace holds
each hop: waits at the input gate (``queue``), storage operations, replies held until the write is
confirmed (``replication``), database round trips and lock waits.

An :class:`AddsRun` says what each add answered and what the cart finally holds; :func:`lanes`
cuts it into swim lanes for a timeline, :func:`summary` into one row of a table. Plain records
only (lessons layer): the chapter's view draws them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from dolab.runtime.errors import ConfigError
from dolab.runtime.lab import Lab
from dolab.runtime.objects import DurableObject
from dolab.runtime.worker import WorkerEntrypoint
from dolab.sim.externaldb import ExternalDatabase
from dolab.sim.network import Network
from dolab.sim.trace import Hop, RequestRecord, current_request

DESIGNS = ("external-db", "do-per-user")
CART_TABLE = "CREATE TABLE carts (user TEXT PRIMARY KEY, n INTEGER NOT NULL, version INTEGER NOT NULL)"
USER = "alice"


@dataclass(frozen=True)
class Add:
    """One add as the caller saw it: when it was sent and answered, and the answer (or the error)."""

    request: int
    sent: float
    done: float
    ok: bool
    answer: Any
    error: str
    round_trips: int

    @property
    def latency_ms(self) -> float:
        return (self.done - self.sent) * 1000.0


@dataclass(frozen=True)
class Segment:
    """A stretch of one add's life: ``kind`` is a hop kind (queue, storage, replication, lock, db, ...)."""

    kind: str
    start: float
    end: float
    holds_gate: bool = False  # a storage operation that kept other events out (not allowConcurrency)
    detail: str = ""  # what the hop recorded: a database statement's verb, the binding, ...


@dataclass(frozen=True)
class Lane(Add):
    """One add in a swim-lane timeline: the add, and the stretches of its life."""

    segments: tuple[Segment, ...] = ()


@dataclass(frozen=True)
class Operation:
    """A database add's read and write: the value it read, the value it wrote, and when."""

    request: int
    start: float
    read_at: float
    read: int
    wrote_at: float
    wrote: int
    end: float


@dataclass
class AddsRun:
    """``n`` adds for one user, sent at once (within ``spread_ms``), and what the cart kept."""

    label: str
    n: int
    final: int
    adds: list[Add] = field(default_factory=list)
    hops: list[Hop] = field(default_factory=list)

    @property
    def acknowledged(self) -> int:
        """Adds the user was told succeeded."""
        return sum(a.ok for a in self.adds)

    @property
    def lost(self) -> int:
        """Items the user was told were added that the cart does not hold."""
        return max(0, self.acknowledged - self.final)

    @property
    def round_trips(self) -> int:
        return sum(a.round_trips for a in self.adds)


def _check_n(n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 1000:
        raise ConfigError(f"n must be an int from 1 to 1000 (adds sent at once), got {n!r}")
    return n


def _check_class(cls: object, base: type, what: str) -> type:
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise ConfigError(f"{what} must be a {base.__name__} subclass, got {cls!r}")
    return cls


async def _send_all(lab: Lab, network: Network, n: int, spread_ms: float, region: str, label: str,
                    call: Any) -> list[RequestRecord]:
    """``n`` requests from ``region``, each starting at a random moment within ``spread_ms``."""
    delays = [lab.rng.uniform(0, spread_ms / 1000.0) for _ in range(n)]
    records = [RequestRecord(i, label, USER, "add", region, region) for i in range(n)]

    async def one(i: int) -> None:
        await asyncio.sleep(delays[i])
        await network.user_request(records[i], call)

    await asyncio.gather(*(one(i) for i in range(n)))
    return records


def _adds(records: list[RequestRecord], answers: dict[int, Any]) -> list[Add]:
    return [Add(r.id, r.sent, r.done, r.ok, answers.get(r.id), r.error, r.round_trips) for r in records]


def db_adds(worker: type, n: int, *, seed: int = 0, region: str = "westeurope", db_region: str = "eastus",
            spread_ms: float = 0.0, label: str = "") -> AddsRun:
    """Send ``n`` adds to ``worker`` (a WorkerEntrypoint with ``async def add(self, user)`` that
    keeps the cart in ``self.env.DB``, a database in ``db_region`` holding :data:`CART_TABLE`)."""
    _check_class(worker, WorkerEntrypoint, "worker")
    n = _check_n(n)
    network = Network(first_use=False)
    with Lab(network=network, seed=seed) as lab:
        db = ExternalDatabase(lab, db_region)
        db.conn.execute(CART_TABLE)
        db.conn.execute("INSERT INTO carts VALUES (?, 0, 0)", (USER,))
        lab.env.DB = db
        stub = lab.worker(worker)
        answers: dict[int, Any] = {}

        async def call() -> Any:
            request = _current()
            answers[request] = await stub.add(USER)
            return answers[request]

        records = lab.run(_send_all(lab, network, n, spread_ms, region, label or worker.__name__, call))
        final = int(db.conn.execute("SELECT n FROM carts WHERE user = ?", (USER,)).fetchone()[0])
    return AddsRun(label or worker.__name__, n, final, _adds(records, answers), list(network.trace.hops))


def object_adds(cart: type, n: int, *, seed: int = 0, region: str = "westeurope", storage_latency: float = 0.001,
                spread_ms: float = 0.0, fail_write: bool = False, others: dict[str, type] | None = None,
                key: str = "count", label: str = "") -> AddsRun:
    """Send ``n`` adds to Alice's object of class ``cart`` (``async def add(self)``, keeping the count
    under ``key``). Each add gets its own stub, as each Worker request would. ``fail_write``: the
    object's first commit fails (``lab.fail_storage``). ``others``: more bindings it calls."""
    _check_class(cart, DurableObject, "cart")
    n = _check_n(n)
    network = Network(first_use=False)  # Alice's cart exists already: no first-use check here
    bindings = {"CART": cart, **(others or {})}
    with Lab(durable_objects=bindings, network=network, seed=seed, storage_latency=storage_latency) as lab:
        if fail_write:
            lab.fail_storage("disk-full", 1, target=lab.env.CART.getByName(USER))
        answers: dict[int, Any] = {}

        async def call() -> Any:
            request = _current()
            answers[request] = await lab.env.CART.getByName(USER).add()
            return answers[request]

        records = lab.run(_send_all(lab, network, n, spread_ms, region, label or cart.__name__, call))
        stored = lab.run(lab.run_in_durable_object(lab.env.CART.getByName(USER),
                                                   lambda obj, ctx: ctx.storage.get(key)))
    return AddsRun(label or cart.__name__, n, int(stored or 0), _adds(records, answers),
                   list(network.trace.hops))


def _current() -> int:
    request = current_request.get()  # the request network.user_request is running
    assert request is not None, "called outside network.user_request"
    return int(request.id)


def with_options(cart: type, read: dict[str, Any] | None = None, write: dict[str, Any] | None = None) -> type:
    """``cart`` with its ``read_options``/``write_options`` class attributes set (same class name)."""
    _check_class(cart, DurableObject, "cart")
    return type(cart.__name__, (cart,), {"read_options": dict(read or {}), "write_options": dict(write or {})})


def lanes(run: AddsRun) -> list[Lane]:
    """The run's adds as swim lanes, in the order they were sent (then by request number)."""
    by_request: dict[int, list[Segment]] = {}
    for hop in run.hops:
        kind = hop.kind
        holds = kind == "storage" and not hop.detail.endswith("allowConcurrency")
        if kind == "storage" and not holds:
            kind = "storage-concurrent"
        by_request.setdefault(hop.request, []).append(Segment(kind, hop.start, hop.end, holds, hop.detail))
    return [
        Lane(a.request, a.sent, a.done, a.ok, a.answer, a.error, a.round_trips, tuple(by_request.get(a.request, ())))
        for a in sorted(run.adds, key=lambda a: (a.sent, a.request))
    ]


def history(run: AddsRun) -> list[Operation]:
    """For a database run: when each add read (its first SELECT) and wrote (its last write), and what.

    An add that answered ``k`` wrote ``k`` and (in a read-modify-write) read ``k - 1``.
    """
    ops = []
    for lane in lanes(run):
        reads = [s.end for s in lane.segments if s.kind == "db" and s.detail == "SELECT"]
        writes = [s.end for s in lane.segments if s.kind == "db" and s.detail in ("UPDATE", "INSERT")]
        if lane.ok and reads and writes and isinstance(lane.answer, int):
            ops.append(Operation(lane.request, lane.sent, reads[0], lane.answer - 1, writes[-1], lane.answer,
                                 lane.done))
    return ops


def same_answers(run: AddsRun) -> list[tuple[int, int, Any]]:
    """Pairs of adds that answered the same count: both wrote it, so one add was lost (the smallest
    proof of a lost update). ``(request, request, count)``, earliest first."""
    seen: dict[Any, int] = {}
    pairs = []
    for add in sorted(run.adds, key=lambda a: (a.done, a.request)):
        if add.ok:
            if add.answer in seen:
                pairs.append((seen[add.answer], add.request, add.answer))
            else:
                seen[add.answer] = add.request
    return pairs


def summary(run: AddsRun) -> dict[str, Any]:
    """One row: what was kept and lost, round trips, lock waits and latency of the adds."""
    latencies = [a.latency_ms for a in run.adds]
    lock = sum(h.end - h.start for h in run.hops if h.kind == "lock")
    return {
        "approach": run.label,
        "adds": run.n,
        "kept": run.final,
        "lost": run.lost,
        "failed": run.n - run.acknowledged,
        "round_trips_per_add": run.round_trips / run.n,
        "lock_wait_ms_per_add": lock * 1000.0 / run.n,
        "p50_ms": statistics.median(latencies),
        "slowest_ms": max(latencies),
    }


def summaries(runs: Sequence[AddsRun]) -> list[dict[str, Any]]:
    return [summary(r) for r in runs]


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Keep the runtime's warning about a failed write out of a check's output (the check reports it)."""
    logger, handler = logging.getLogger("dolab"), logging.NullHandler()
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def answer_when_the_write_fails(cart: type, key: str = "count") -> tuple[str, Any]:
    """Alice's first add to a fresh ``cart`` whose first commit fails: ``("added", stored)`` if she
    got an answer, ``("error", stored)`` if the add failed; ``stored`` is what the cart kept."""
    _check_class(cart, DurableObject, "cart")
    with _quiet(), Lab(durable_objects={"CART": cart}, seed=0) as lab:
        lab.fail_storage("disk-full", 1, target=lab.env.CART.getByName(USER))
        try:
            lab.run(lab.env.CART.getByName(USER).add())
            outcome = "added"
        except Exception:  # noqa: BLE001 - whatever reached the caller, it was not an answer
            outcome = "error"
        stored = lab.run(lab.run_in_durable_object(lab.env.CART.getByName(USER),
                                                   lambda obj, ctx: ctx.storage.get(key)))
    return outcome, stored
