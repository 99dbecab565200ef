"""The host of one Durable Object: its instance, its database, its gates and its lifecycle.

One host exists per active object. It delivers events one at a time through the **input gate**
(FIFO, so calls through one stub arrive in order), runs the handler, commits the implicit
transaction before any reply leaves (the **output gate**), and reports idleness to the lab,
which hibernates or evicts it. A cold object is just bytes in its namespace (or a file).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import inspect
from collections.abc import Awaitable, Iterator
from typing import TYPE_CHECKING, Any

from dolab.context import current_request
from dolab.database import Database, object_file
from dolab.errors import DurableObjectAbort, ResetError, RpcError, mark_remote, remote_copy
from dolab.objects import DurableObjectState
from dolab.values import to_wire

if TYPE_CHECKING:
    from dolab.ids import DurableObjectId
    from dolab.namespace import DurableObjectNamespace

current_host: contextvars.ContextVar[ObjectHost | None] = contextvars.ContextVar(
    "dolab_current_host", default=None
)

# Handler names Cloudflare does not let a stub call as RPC methods.
RESERVED = frozenset(
    {"fetch", "alarm", "connect", "webSocketMessage", "webSocketClose", "webSocketError", "preShutdown"}
)
BCW_TIMEOUT = 30.0


class ObjectHost:
    """Everything the lab knows about one object while it is active."""

    def __init__(self, ns: DurableObjectNamespace, id: DurableObjectId, cold: bytes | None) -> None:
        self.ns = ns
        self.lab = ns.lab
        self.loop = ns.lab._loop
        self.id = id
        self.raw: bytes = id._raw
        self.instance: Any = None
        self.ctx: DurableObjectState | None = None
        self.generation = 0
        self.db: Database | None = None
        self.cold_image: bytes | None = cold[1:] if cold else None
        self.was = chr(cold[0]) if cold else "new"  # state before this activation
        self.inflight = 0
        self.holders: list[asyncio.Task[Any] | None] = []
        self.waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self.passing = False
        self.open_waiters: list[asyncio.Future[None]] = []
        self.pending: set[asyncio.Future[Any]] = set()  # waitUntil
        self.background: set[asyncio.Task[Any]] = set()  # tasks the object started (its "timers")
        self.txn_depth = 0
        self.commit_deferred = False
        self.idle_epoch = 0
        self.queued = 0
        self.commit_handle: asyncio.Handle | None = None
        self.alarm_dirty = False  # the alarm changed in the open transaction
        self.standard_sockets: set[Any] = set()  # accept()ed WebSockets pin the object
        self.billing_since: float | None = None  # when duration billing (GB-s) started

    # -- events ---------------------------------------------------------------------------------

    @property
    def region(self) -> str | None:
        """Where the object lives (simulation only): fixed at its first request."""
        network = self.lab.network
        return None if network is None else network.placement_of(self.ns, self.raw)

    async def call(self, kind: str, name: str, args: Any, kwargs: Any) -> Any:
        """Deliver one event (an RPC call, a fetch, a test callback) and return its copied result."""
        lab = self.lab
        arrived = self.loop.vnow
        # Busy from arrival: an object with events queued at its gate is not idle (it must not
        # hibernate under them) and is billed for duration.
        self.inflight += 1
        self.idle_epoch += 1
        lab._lifecycle.busy(self)
        token = current_host.set(self)
        try:
            if self.holders or self.waiters or self.passing:
                await self._enter_gate()
            if lab.cpu_per_event:
                await self._use_cpu(arrived)
            elif lab.network is not None and self.loop.vnow > arrived:
                self._record("queue", arrived, self.loop.vnow)
            instance = self.instance if self.instance is not None else self._ensure_instance()
            generation = self.generation
            if self.holders:  # the constructor started blockConcurrencyWhile
                await self.wait_open()
                self._check_generation(generation)
                instance = self.instance
            result = self._dispatch(instance, kind, name, args, kwargs)
            if hasattr(result, "__await__"):
                result = await result
            if self.generation != generation:
                self._check_generation(generation)
            if kind == "rpc":
                result = to_wire(result, "RPC")
            if self.db is not None:
                self.commit()  # output gate: the reply leaves only after the writes before it
            return result
        except DurableObjectAbort as abort:
            self.reset()
            raise mark_remote(ResetError(str(abort)), durableObjectReset=True) from None
        except ResetError as exc:
            raise mark_remote(ResetError(*exc.args), durableObjectReset=True) from None
        except Exception as exc:
            self.commit()
            raise remote_copy(exc) from None
        finally:
            current_host.reset(token)
            self.inflight -= 1
            if self.inflight == 0:
                self.lab._lifecycle.maybe_idle(self)

    async def _use_cpu(self, arrived: float) -> None:
        """One object, one thread: each event keeps the object busy for ``cpu_per_event``."""
        holder = asyncio.current_task()
        self._hold(holder)
        self.queued += 1
        started = self.loop.time()
        try:
            await asyncio.sleep(self.lab.cpu_per_event)
        finally:
            self.queued -= 1
            self._release(holder)
        if self.lab.network is not None:
            if started > arrived:
                self._record("queue", arrived, started)
            self._record("cpu", started, self.loop.time())

    def _record(self, kind: str, start: float, end: float) -> None:
        network = self.lab.network
        if network is not None:
            region = self.region or ""
            network.record(kind, start, end, region, region, self.ns.binding)

    def _check_generation(self, generation: int) -> None:
        if self.generation != generation:
            raise ResetError("Durable Object was reset while this request was running.")

    def _dispatch(self, instance: Any, kind: str, name: str, args: Any, kwargs: Any) -> Any:
        if kind == "callback":
            return args(instance, self.ctx)
        if kind == "ws_message" or kind == "ws_close":
            handler = getattr(instance, name, None)
            return None if handler is None else handler(*args)
        if kind == "alarm":
            # Inside the handler getAlarm() is None, unless the handler sets a new alarm.
            self.delete_alarm_row()
            return instance.alarm(args)
        if kind == "fetch":
            handler = getattr(instance, "fetch", None)
            if handler is None:
                raise RpcError(
                    f"{type(instance).__name__} has no fetch() handler; define `async def fetch(self, request)`."
                )
            return handler(args)
        if name in RESERVED:
            raise RpcError(f'"{name}" is a handler that the runtime calls; it cannot be called over RPC.')
        method = getattr(instance, name, None)
        if method is None:
            raise RpcError(f'The RPC receiver does not implement the method "{name}".')
        if not callable(method):
            raise RpcError(
                f'"{name}" is a {type(method).__name__} attribute of {type(instance).__name__}, not a '
                "method; only methods can be called over RPC."
            )
        return method(*args, **kwargs)

    def _ensure_instance(self) -> Any:
        if self.instance is None:
            cls = self.ns.cls
            self.generation += 1
            ctx = DurableObjectState(self, self.generation)
            instance = cls.__new__(cls)  # type: ignore[call-overload]
            instance.ctx = ctx
            instance.env = self.lab.env
            self.ctx = ctx
            self.instance = instance
            self.lab._count("constructed")
            try:
                instance.__init__(ctx, self.lab.env)
            except BaseException:
                self.reset()
                raise
        return self.instance

    # -- the input gate ---------------------------------------------------------------------------

    async def _enter_gate(self) -> None:
        if not self.holders and not self.waiters and not self.passing:
            return
        future = self.loop.create_future()
        self.waiters.append(future)
        self._pump()
        try:
            while True:
                await future
                if not self.holders:
                    break
                self.passing = False
                future = self.loop.create_future()
                self.waiters.appendleft(future)
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.passing = False
                self._pump()
            raise
        self.passing = False
        self.loop.call_soon(self._pump)

    def _pump(self) -> None:
        if self.passing or self.holders:
            return
        while self.waiters:
            future = self.waiters.popleft()
            if not future.done():
                self.passing = True
                future.set_result(None)
                return

    async def wait_open(self) -> None:
        """Wait until no one else holds the gate (for a continuation of an event in flight)."""
        me = asyncio.current_task()
        while any(holder is not me for holder in self.holders):
            future = self.loop.create_future()
            self.open_waiters.append(future)
            await future

    def _hold(self, holder: asyncio.Task[Any] | None) -> None:
        self.holders.append(holder)

    def _release(self, holder: asyncio.Task[Any] | None) -> None:
        with contextlib.suppress(ValueError):
            self.holders.remove(holder)
        if not self.holders:
            waiting, self.open_waiters = self.open_waiters, []
            for future in waiting:
                if not future.done():
                    future.set_result(None)
            self._pump()

    async def storage_delay(self, hold: bool) -> None:
        """Simulated time of one storage operation; holds the input gate unless allowConcurrency."""
        holder = asyncio.current_task()
        if hold:
            self._hold(holder)
        start = self.loop.time()
        try:
            await asyncio.sleep(self.lab.storage_latency)
        finally:
            if hold:
                self._release(holder)
        self._record("storage", start, self.loop.time())

    def block_concurrency_while(self, callback: Any, reset_on_error: bool) -> asyncio.Task[Any]:
        generation = self.generation

        async def run() -> Any:
            try:
                awaitable = callback() if callable(callback) else callback
                if not inspect.isawaitable(awaitable):
                    return awaitable
                async with asyncio.timeout(BCW_TIMEOUT):
                    return await awaitable
            except TimeoutError:
                self._reset_after_bcw(reset_on_error, generation)
                raise ResetError(
                    f"blockConcurrencyWhile() callback ran longer than {BCW_TIMEOUT:g} s; the object was reset."
                ) from None
            except BaseException:
                # Reset now, in this step, before the pending implicit commit can run.
                self._reset_after_bcw(reset_on_error, generation)
                raise

        task = self.loop.create_task(run())
        self._hold(task)

        def done(t: asyncio.Task[Any]) -> None:
            self._release(t)
            if not t.cancelled():
                t.exception()  # retrieved here: an un-awaited failing callback must not log noise

        task.add_done_callback(done)
        return task

    def _reset_after_bcw(self, reset_on_error: bool, generation: int) -> None:
        if reset_on_error and self.generation == generation:
            self.reset()

    def wait_until(self, awaitable: Awaitable[Any]) -> None:
        future = asyncio.ensure_future(awaitable)
        self.pending.add(future)

        def done(f: asyncio.Future[Any]) -> None:
            self.pending.discard(f)
            if not f.cancelled():
                f.exception()  # retrieved: a failing waitUntil must not log "never retrieved"

        future.add_done_callback(done)

    def track(self, task: asyncio.Task[Any]) -> None:
        """Count a task the object started: while one is pending, the object cannot hibernate."""
        self.background.add(task)
        task.add_done_callback(self._untrack)

    def _untrack(self, task: asyncio.Task[Any]) -> None:
        self.background.discard(task)
        if self.inflight == 0 and self.instance is not None:
            self.lab._lifecycle.maybe_idle(self)

    # -- storage ----------------------------------------------------------------------------------

    def database(self) -> Database:
        if self.db is None:
            if self.lab.persist is not None:
                path = object_file(self.lab.persist, self.ns.cls.__name__, self.id.toString())
                db = Database.open_file(path)
            else:
                db = Database.open_memory(self.cold_image)
                self.cold_image = None
            db.on_begin = self._on_begin
            self.db = db
        return self.db

    def _on_begin(self) -> None:
        self.commit_handle = self.loop.call_soon(self._commit_point)

    def _commit_point(self) -> None:
        self.commit_handle = None
        if self.txn_depth:
            self.commit_deferred = True
        else:
            self.commit()

    def commit(self) -> None:
        if self.db is not None and self.txn_depth == 0:
            self.db.commit()
            if self.alarm_dirty:  # a committed alarm change: (re)arm or cancel its timer
                self.alarm_dirty = False
                self.lab._alarms.update(self.ns, self.raw, self.alarm_ms())

    # -- the alarm row ------------------------------------------------------------------------------

    def alarm_ms(self) -> float | None:
        return self.database().alarm()

    def set_alarm_row(self, ms: float | None) -> None:
        self.database().set_alarm(ms)
        self.alarm_dirty = True

    def delete_alarm_row(self) -> None:
        self.set_alarm_row(None)

    def count_rows(self, read: int, written: int) -> None:
        """Count one storage operation (billing rows, and the current request's storage ops)."""
        self.lab._rows[0] += read
        self.lab._rows[1] += written
        request = current_request.get()
        if request is not None:
            request.storage_ops += 1

    @contextlib.contextmanager
    def savepoint(self, txn: Any = None) -> Iterator[None]:
        db = self.database()
        db.begin()
        self.txn_depth += 1
        name = f"_cf_sync_savepoint_{self.txn_depth}"
        db.savepoint(name, "SAVEPOINT")
        try:
            yield
        except BaseException:
            if db.conn.in_transaction:
                db.savepoint(name, "ROLLBACK TO")
                db.savepoint(name, "RELEASE")
            else:  # an ON CONFLICT ROLLBACK already ended the whole transaction
                db.in_txn = False
            db.cache.clear()
            raise
        else:
            if txn is not None and txn.rolled_back:
                db.savepoint(name, "ROLLBACK TO")
                db.cache.clear()
            db.savepoint(name, "RELEASE")
        finally:
            self.txn_depth -= 1
            if self.txn_depth == 0 and self.commit_deferred:
                self.commit_deferred = False
                self.loop.call_soon(self._commit_point)

    # -- lifecycle --------------------------------------------------------------------------------

    def reset(self) -> None:
        """Drop the instance and every uncommitted write; the next event constructs anew."""
        if self.db is not None:
            self.db.rollback()  # also empties its cache
        self.alarm_dirty = False
        self.txn_depth = 0
        self.commit_deferred = False
        self.instance = None
        self.ctx = None
        self.generation += 1
        self.lab._count("resets")
        holders, self.holders = self.holders, []
        for holder in holders:
            self._release(holder)
        self._release(None)

    def deactivate(self, state: str) -> None:
        """Hibernate or evict: drop the instance, close the database, keep its bytes cold."""
        image = self.cold_image
        empty = False
        if self.commit_handle is not None:
            # A cancelled handle drops its callback: a cold object must not stay referenced from
            # the loop's ready queue (a million of them would each keep their host alive).
            self.commit_handle.cancel()
            self.commit_handle = None
        if self.db is not None:
            self.db.commit()
            empty = self.db.may_be_empty and self.db.is_empty()
            image = self.db.close()
            self.db = None
        elif self.was == "new":
            empty = True
        self.instance = None
        self.ctx = None
        self.generation += 1
        for task in list(self.background):
            task.cancel()  # an evicted object's timers die with it
        for ws in list(self.standard_sockets):
            ws.close(1001, "Durable Object evicted")
        self.standard_sockets.clear()
        self.lab._lifecycle.stop_billing(self)
        self.ns._store_cold(self, state, image, empty)

    def idle(self) -> bool:
        return self.inflight == 0 and self.instance is not None

    def hibernatable(self) -> bool:
        """Cloudflare's condition, as far as dolab can see it: nothing the object started is pending
        and no WebSocket was accepted with the standard API."""
        return not self.background and not self.standard_sockets
