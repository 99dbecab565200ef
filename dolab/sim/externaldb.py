"""A traditional database in one home region, shared by every stateless worker (simulation layer).

It is a real SQLite database, so a worker's read-modify-write really can lose updates. It has a
capacity model: ``connections`` queries run at once, each taking ``service_ms`` of the
database's time; further queries wait in a FIFO queue. Every query is a network round trip from
the caller's region to the database's region, recorded as hops (``network``, ``queue``, ``db``).

``async with db.transaction() as tx:`` is SQLite's ``BEGIN IMMEDIATE ... COMMIT``: each statement
is a round trip, and the database's write lock is taken when BEGIN reaches the database and
released when COMMIT does. Meanwhile every other statement waits for it, in arrival order (a
``lock`` hop). Postgres would lock only the rows ``SELECT ... FOR UPDATE`` names, one round trip
later; for one hot row, as in a cart, that is the same line to stand in.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from dolab.runtime.errors import ConfigError, LabStateError, SqlError
from dolab.sim.network import Network
from dolab.sim.trace import current_region, current_request

if TYPE_CHECKING:
    from dolab.runtime.lab import Lab


class ExternalDatabase:
    """``await db.query(sql, *params)`` from any worker; rows come back as tuples."""

    def __init__(self, lab: Lab, region: str, *, connections: int = 8, service_ms: float = 2.0) -> None:
        if not isinstance(lab.network, Network):
            raise ConfigError("ExternalDatabase needs a lab with a network: Lab(..., network=Network())")
        if not isinstance(connections, int) or connections < 1:
            raise ConfigError(f"connections must be an int >= 1, got {connections!r}")
        if service_ms < 0:
            raise ConfigError(f"service_ms must be >= 0, got {service_ms!r}")
        self.network = lab.network
        self.region = self.network.geo.region(region).code
        self.connections = connections
        self.service_ms = service_ms
        self.conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        self._busy = 0
        self._waiting: list[asyncio.Future[None]] = []
        self._lock: asyncio.Lock | None = None  # the write lock, made on the lab's loop when first needed
        self.queries = 0

    @property
    def queue_depth(self) -> int:
        """Queries waiting for a free connection right now."""
        return len(self._waiting)

    async def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Run one statement on the database: a round trip plus queueing plus service time."""
        return await self._round_trip(sql, params, None)

    def transaction(self) -> Transaction:
        """``async with db.transaction() as tx: await tx.query(...)``: BEGIN IMMEDIATE, the
        statements, then COMMIT (ROLLBACK if the block raised), one round trip each."""
        return Transaction(self._round_trip, self._abandon)

    async def _round_trip(self, sql: str, params: tuple[Any, ...], txn: Transaction | None) -> list[tuple[Any, ...]]:
        network = self.network
        src = current_region.get() or self.region
        loop = asyncio.get_running_loop()
        request = current_request.get()
        if request is not None:
            request.round_trips += 1
            request.storage_ops += 1
            request.target_region = self.region
        await network.transit(src, self.region, "network", "db query")
        locked = await self._take_lock(txn, sql)
        arrived = loop.time()
        if self._busy >= self.connections:
            waiter = loop.create_future()
            self._waiting.append(waiter)
            network.trace.sample(arrived, "db_queue", len(self._waiting))
            await waiter  # a finishing query hands its connection straight to us
        else:
            self._busy += 1
        started = loop.time()
        if started > arrived:
            network.trace.hop("queue", arrived, started, self.region, self.region, "db")
        try:
            await asyncio.sleep(self.service_ms / 1000.0)
            try:
                rows = self.conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise SqlError(f"{exc} (in {sql!r})") from None
            self.queries += 1
        finally:
            if self._waiting:
                self._waiting.pop(0).set_result(None)
                network.trace.sample(loop.time(), "db_queue", len(self._waiting))
            else:
                self._busy -= 1
            if locked and (txn is None or sql in ("COMMIT", "ROLLBACK")):
                self._release_lock(txn)
        network.trace.hop("db", started, loop.time(), self.region, self.region, sql.split(None, 1)[0].upper())
        await network.transit(self.region, src, "network", "db reply")
        return rows

    async def _take_lock(self, txn: Transaction | None, sql: str) -> bool:
        """At the database: BEGIN takes the write lock; any statement outside the transaction holding
        it waits for COMMIT. True if this statement holds the lock. (No lock held, no transaction
        asking: nothing to do, and nothing awaited.)"""
        if txn is not None and txn.holds_lock:
            return True
        lock = self._lock
        if txn is None and (lock is None or not lock.locked()):
            return False
        if lock is None:
            lock = self._lock = asyncio.Lock()
        start = asyncio.get_running_loop().time()
        await lock.acquire()
        waited = asyncio.get_running_loop().time()
        if waited > start:
            self.network.trace.hop("lock", start, waited, self.region, self.region, "write lock")
        if txn is not None:
            if sql != "BEGIN IMMEDIATE":
                lock.release()
                raise LabStateError(f"{sql!r} sent in a transaction that has not begun (or has ended)")
            txn.holds_lock = True
        return True

    def _release_lock(self, txn: Transaction | None) -> None:
        if txn is not None:
            txn.holds_lock = False
        if self._lock is not None and self._lock.locked():
            self._lock.release()

    def _abandon(self, txn: Transaction) -> None:
        """A transaction cancelled on its way out: roll it back and free the lock at once."""
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        self._release_lock(txn)


class Transaction:
    """One ``BEGIN IMMEDIATE ... COMMIT`` on an :class:`ExternalDatabase` (see its docstring)."""

    def __init__(self, send: Callable[[str, tuple[Any, ...], Transaction], Awaitable[list[tuple[Any, ...]]]],
                 abandon: Callable[[Transaction], None]) -> None:
        self._send = send  # the database's round trip for a statement of this transaction
        self._abandon = abandon
        self.holds_lock = False
        self.state = "new"

    async def __aenter__(self) -> Transaction:
        if self.state != "new":
            raise LabStateError("a transaction runs once: make a new one with db.transaction()")
        self.state = "open"
        await self._send("BEGIN IMMEDIATE", (), self)
        return self

    async def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """One statement inside the transaction (a round trip; the lock is already held)."""
        if self.state != "open":
            raise LabStateError(f"this transaction is {self.state}: query it inside `async with db.transaction()`")
        return await self._send(sql, params, self)

    async def __aexit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        self.state = "ending"
        try:
            await self._send("COMMIT" if kind is None else "ROLLBACK", (), self)
        finally:
            self.state = "over"
            if self.holds_lock:  # cancelled on the way out: never leave the database locked
                self._abandon(self)
