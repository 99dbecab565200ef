"""The storage half of an object's host: its database, the implicit transaction, the alarm row.

An :class:`~dolab.runtime.host.ObjectHost` is a :class:`HostStorage`: this part opens the
object's database when it is first used (from its cold image, or its file in persist mode),
commits the implicit transaction at the next point where the object yields and always before a
reply leaves (the output gate), and runs ``transaction()``/``transactionSync()`` as savepoints.
A commit that fails resets the object: its replies are never sent, as on Cloudflare. A transaction
whose writes all asked for ``allowUnconfirmed`` does not hold replies: it commits after they leave,
so if that commit fails the caller has already been told yes (and the object is reset all the same).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from dolab.runtime import webidl
from dolab.runtime.context import current_request
from dolab.runtime.database import Database, object_file
from dolab.runtime.errors import ResetError, StorageFailure, mark_remote

if TYPE_CHECKING:
    from dolab.runtime.engine import Engine
    from dolab.runtime.ids import DurableObjectId
    from dolab.runtime.namespace import DurableObjectNamespace

log = logging.getLogger("dolab")
WRITE_FAILED = "Internal error in Durable Object storage write caused object to be reset."


class HostStorage:
    """The database side of one object's host (mixed into ``ObjectHost``)."""

    ns: DurableObjectNamespace
    engine: Engine
    loop: asyncio.AbstractEventLoop
    id: DurableObjectId
    raw: bytes
    db: Database | None
    cold_image: bytes | None
    txn_depth: int
    commit_deferred: bool
    commit_handle: asyncio.Handle | None
    alarm_dirty: bool
    confirm_at: float
    generation: int
    # True while every write of the open transaction asked for allowUnconfirmed (its replies need not
    # wait); None until a write says (a transaction opened by something else holds replies).
    unconfirmed_only: bool | None = None
    failed_write = -1  # the generation whose commit failed last (its requests are told so)

    @property
    def region(self) -> str | None:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def reset(self) -> None:
        raise NotImplementedError

    def database(self) -> Database:
        if self.db is None:
            persist = self.engine.persist
            faults = self.engine.storage_faults
            if persist is not None:
                db = Database.open_file(object_file(persist, self.ns.folder, self.id.toString()), faults, self.raw)
            else:
                # The image stays until the database closes cleanly: if it cannot, nothing that
                # was committed before this activation is lost.
                db = Database.open_memory(self.cold_image, faults, self.raw)
            db.on_begin = self._on_begin
            self.db = db
        return self.db

    def _on_begin(self) -> None:
        self.unconfirmed_only = None
        self.commit_handle = self.loop.call_soon(self._commit_point)

    def note_write(self, options: dict[str, Any]) -> None:
        """A write joined the open transaction. Replies wait for the transaction (the output gate)
        unless every one of its writes passed ``allowUnconfirmed`` (workerd: api/actor-state.c++)."""
        unconfirmed = webidl.truthy(options.get("allowUnconfirmed"))
        self.unconfirmed_only = unconfirmed if self.unconfirmed_only is None else self.unconfirmed_only and unconfirmed

    @property
    def holds_replies(self) -> bool:
        """Must a reply leaving now wait until the open transaction commits?"""
        return self.unconfirmed_only is not True

    def _commit_point(self) -> None:
        self.commit_handle = None
        if self.txn_depth:
            self.commit_deferred = True
            return
        try:
            self.commit()
        except ResetError as exc:
            log.warning("%s: %s (%s)", self.describe(), exc.message, exc.__cause__)

    def commit(self) -> None:
        """Make the writes durable. If that fails, the object is reset (its replies are never
        sent) and ResetError says so, as Cloudflare's output gate does."""
        if self.db is not None and self.txn_depth == 0:
            try:
                wrote = self.db.commit()
            except StorageFailure as exc:
                self.failed_write = self.generation  # requests of this instance still running see why
                self.reset()
                error = mark_remote(ResetError(WRITE_FAILED), durableObjectReset=True)
                raise error from exc
            if wrote and self.holds_replies:
                network = self.engine.network
                if network is not None and self.region is not None:
                    self.confirm_at = self.loop.vnow + network.replication_ms(self.region) / 1000.0  # type: ignore[attr-defined]
            self.unconfirmed_only = None
            if self.alarm_dirty:  # a committed alarm change: (re)arm or cancel its timer
                self.alarm_dirty = False
                self.engine.alarms.update(self.ns, self.raw, self.alarm_ms())

    def alarm_ms(self) -> float | None:
        return self.database().alarm()

    def set_alarm_row(self, ms: float | None) -> None:
        self.database().set_alarm(ms)
        self.alarm_dirty = True

    def delete_alarm_row(self) -> None:
        self.set_alarm_row(None)

    def count_rows(self, read: int, written: int) -> None:
        """Count one storage operation (billing rows, and the current request's storage ops)."""
        counters = self.engine.counters
        counters.rows_read += read
        counters.rows_written += written
        request = current_request.get()
        if request is not None:
            request.storage_ops += 1

    @contextlib.contextmanager
    def savepoint(self, txn: Any = None) -> Iterator[None]:
        db = self.database()
        db.begin()
        self.txn_depth += 1
        depth, generation = self.txn_depth, self.generation
        name = f"_cf_sync_savepoint_{depth}"
        db.savepoint(name, "SAVEPOINT")

        def still_ours() -> bool:
            # A reset or an eviction while the transaction was suspended at an await already
            # rolled it back (and may have closed the database): nothing left to undo here.
            return self.db is db and self.generation == generation

        try:
            yield
        except BaseException:
            if still_ours():
                if db.conn.in_transaction:
                    db.savepoint(name, "ROLLBACK TO")
                    db.savepoint(name, "RELEASE")
                else:  # an ON CONFLICT ROLLBACK already ended the whole transaction
                    db.in_txn = False
                db.cache.clear()
            raise
        else:
            if still_ours():
                if txn is not None and txn.rolled_back:
                    db.savepoint(name, "ROLLBACK TO")
                    db.cache.clear()
                db.savepoint(name, "RELEASE")
        finally:
            if still_ours():
                self.txn_depth = depth - 1
                if self.txn_depth == 0 and self.commit_deferred:
                    self.commit_deferred = False
                    self.loop.call_soon(self._commit_point)

    def roll_back_open_transaction(self) -> None:
        """Undo a ``storage.transaction()`` still suspended at an ``await``: it must not be
        committed half-way when the object is evicted or the lab closes."""
        if self.db is not None and self.txn_depth:
            if self.db.conn.in_transaction:
                self.db.savepoint("_cf_sync_savepoint_1", "ROLLBACK TO")
                self.db.savepoint("_cf_sync_savepoint_1", "RELEASE")
            self.db.cache.clear()
            self.txn_depth = 0
            self.commit_deferred = False

