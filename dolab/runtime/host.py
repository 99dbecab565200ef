"""The host of one Durable Object: its instance, its database, its gates and its lifecycle.

One host exists per active object. :meth:`ObjectHost.call` delivers one event in four stages:
*admit* it through the :class:`~dolab.runtime.gate.InputGate` (FIFO, so calls through one stub
arrive in order), *run* the handler, *reply* through the output gate (the implicit transaction
commits before any reply leaves), and on failure show the caller what Cloudflare would. When
the object is idle the lab's :class:`~dolab.runtime.lifecycle.Lifecycle` hibernates or evicts
it; a cold object is just bytes in its namespace (or a file).

A host is given what it needs (its namespace and the lab's :class:`~dolab.runtime.engine.Engine`)
and never imports the lab.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from dolab.runtime.context import current_host
from dolab.runtime.database import Database, object_file
from dolab.runtime.errors import (
    DurableObjectAbort,
    DurableObjectError,
    ResetError,
    RpcError,
    mark_remote,
    remote_copy,
)
from dolab.runtime.gate import InputGate
from dolab.runtime.hoststore import WRITE_FAILED, HostStorage
from dolab.runtime.lifecycle import Rest
from dolab.runtime.objects import DurableObjectState
from dolab.runtime.values import to_wire
from dolab.runtime.wallclock import STAND_INS, adopt
from dolab.runtime.watchdog import CPU_MESSAGE, INTERRUPT_MESSAGE, CpuLimitExceeded, Interrupted

if TYPE_CHECKING:
    import contextvars

    from dolab.runtime.ids import DurableObjectId
    from dolab.runtime.namespace import DurableObjectNamespace


# Handler names Cloudflare does not let a stub call as RPC methods.
RESERVED = frozenset(
    {"fetch", "alarm", "connect", "webSocketMessage", "webSocketClose", "webSocketError", "preShutdown"}
)
BCW_TIMEOUT = 30.0
# workerd's words, io/io-context.h (IoContext::blockConcurrencyWhile).
BCW_TIMEOUT_MESSAGE = ("A call to blockConcurrencyWhile() in a Durable Object waited for too long. "
                       "The call was canceled and the Durable Object was reset.")


def _overloaded(why: str) -> BaseException:
    """Cloudflare's overload error (never worth retrying: it would make the overload worse)."""
    return mark_remote(DurableObjectError(f"Durable Object is overloaded. {why}"), remote=False, overloaded=True)


class ObjectHost(HostStorage):
    """Everything the lab knows about one object while it is active."""

    # The error of a blockConcurrencyWhile() callback that reset the object, with the generation it
    # ended: the events that waited behind it fail with that error, as workerd rejects the waiters
    # of a broken input gate with it (io/io-gate.c++, InputGate::setBroken). A class default, so an
    # object that never failed carries nothing.
    bcw_failure: tuple[int, BaseException] | None = None

    def __init__(self, ns: DurableObjectNamespace, id: DurableObjectId, cold: bytes | None) -> None:
        self.ns = ns
        self.engine = ns.engine
        self.loop = ns.engine.loop
        self.id = id
        self.raw: bytes = id._raw
        self.instance: Any = None
        self.ctx: DurableObjectState | None = None
        self.generation = 0  # bumped by every reset and deactivation: old ctx objects go stale
        self.db: Database | None = None
        self.cold_image: bytes | None = cold[1:] if cold else None
        self.was = Rest(chr(cold[0])) if cold else Rest.NEW  # its state before this activation
        self.gate = InputGate(self.loop)
        self.inflight = 0  # events arrived and not yet answered (running or waiting at the gate)
        self.queued = 0  # events waiting for their CPU slot (simulations with cpu_per_event)
        self.pending: set[asyncio.Future[Any]] = set()  # waitUntil
        self.background: set[asyncio.Task[Any]] = set()  # tasks the object started (its "timers")
        self.standard_sockets: set[Any] = set()  # accept()ed WebSockets pin the object
        self.txn_depth = 0
        self.commit_deferred = False
        self.commit_handle: asyncio.Handle | None = None
        self.alarm_dirty = False  # the alarm changed in the open transaction
        self.idle_epoch = 0  # bumped whenever the object is busy again: stale idle timers are ignored
        self.billing_since: float | None = None  # when duration billing (GB-s) started
        self.cpu_used = 0.0  # CPU seconds of the current event so far (charged by the watchdog)
        self.cpu_stopping = False  # the watchdog is stopping this object's code
        self.confirm_at = 0.0  # lab time the last committed writes are confirmed by the followers

    def describe(self) -> str:
        """How a learner names this object: ``CART 'alice'`` (or its id, if it has no name)."""
        name = self.id.name
        return f"{self.ns.binding} {name!r}" if name is not None else f"{self.ns.binding} {self.id.toString()[:12]}…"

    @property
    def region(self) -> str | None:
        """Where the object lives (simulation only): fixed at its first request."""
        network = self.engine.network
        return None if network is None else network.placement_of(self.ns, self.raw)

    # -- one event, in four stages ---------------------------------------------------------------

    async def call(self, kind: str, name: str, args: Any, kwargs: Any) -> Any:
        """Deliver one event (an RPC call, a fetch, an alarm, a test callback); return its result."""
        if self.inflight >= self.engine.max_queue:
            raise _overloaded("Too many requests queued.")
        token = self._arrive()
        try:
            # Stage 1, admit: wait at the input gate only if someone is inside (on an idle object
            # the event walks straight in, with no extra await), then construct if needed.
            gate = self.gate
            if gate.holders or gate.waiters or gate.passing or self.engine.cpu_per_event:  # gate.busy, inlined
                arrived = self.generation
                await self._admit()
                failure = self.bcw_failure
                if failure is not None and failure[0] >= arrived:
                    raise failure[1]  # a setup that failed while this event waited: it fails with that error
            instance = self.instance if self.instance is not None else self._construct()
            generation = self.generation
            if gate.holders:  # the constructor started blockConcurrencyWhile
                await self.gate.wait_open()
                failure = self.bcw_failure
                if failure is not None and failure[0] == generation:
                    raise failure[1]  # the constructor's setup failed: this event fails with its error
                self._check_generation(generation)
                instance = self.instance
            # Stage 2, run the handler.
            names = self.ns.module_names  # needs_adopting(names), inlined: it runs on every call
            if id(names.get("datetime")) in STAND_INS or id(names.get("date")) in STAND_INS:
                adopt(self.ns.cls)
            result = self._dispatch(instance, kind, name, args, kwargs)
            if hasattr(result, "__await__"):
                result = await result
            # Stage 3, reply through the output gate.
            result = self._reply(kind, result, generation)
            if self.confirm_at > self.loop.vnow:  # type: ignore[attr-defined]
                await self._confirmed()
            return result
        except CpuLimitExceeded as exc:
            # Stopped by the watchdog: the object is reset, as Cloudflare resets it.
            self.reset()
            self.cpu_stopping = False
            message = INTERRUPT_MESSAGE if isinstance(exc, Interrupted) else CPU_MESSAGE
            raise mark_remote(ResetError(message), durableObjectReset=True) from None
        except (SystemExit, KeyboardInterrupt) as exc:
            # Python code raised them (sys.exit() in a handler): an error of the object's, never
            # the end of the lab's thread.
            raise self._as_caller_sees_it(exc) from exc
        except (DurableObjectAbort, Exception) as exc:
            # Stage 4, what the caller sees when it failed.
            seen = self._as_caller_sees_it(exc)
            if kind == "callback" and seen is not exc and not isinstance(exc, DurableObjectAbort):
                raise  # lab.run_in_durable_object runs test code in place: its errors are its own
            raise seen from seen.__cause__  # dolab keeps the original as the cause (Cloudflare sends none)
        finally:
            self._leave(token)

    def _arrive(self) -> contextvars.Token[ObjectHost | None]:
        """Busy from arrival: an object with events queued at its gate must not hibernate under
        them, and it is billed for duration. Code from here on runs as this object."""
        self.inflight += 1
        self.idle_epoch += 1
        self.cpu_used = 0.0  # every event tops the CPU budget up again
        self.engine.lifecycle.busy(self)
        return current_host.set(self)

    def _leave(self, token: contextvars.Token[ObjectHost | None]) -> None:
        current_host.reset(token)
        self.inflight -= 1
        if self.inflight == 0:
            self.engine.lifecycle.maybe_idle(self)

    async def _admit(self) -> None:
        """Queue at the input gate behind earlier events, then take a CPU slot if simulated."""
        arrived = self.loop.time()
        if self.gate.busy:
            try:
                async with asyncio.timeout(self.engine.max_queue_wait):
                    await self.gate.enter()
            except TimeoutError:
                raise _overloaded("Requests queued for too long.") from None
        if self.engine.cpu_per_event:
            await self._use_cpu(arrived)
        elif self.engine.network is not None and self.loop.time() > arrived:
            self._record("queue", arrived, self.loop.time())

    def _reply(self, kind: str, result: Any, generation: int) -> Any:
        """The output gate: copy the result out, then commit the writes before it leaves (unless all
        of them asked for allowUnconfirmed: then the commit follows the reply)."""
        if self.generation != generation:
            self._check_generation(generation)
        if kind == "rpc":
            result = to_wire(result, "RPC")
        if self.db is not None and self.holds_replies:
            self.commit()
        return result

    async def _confirmed(self) -> None:
        """The output gate also waits until the writes are confirmed by the storage followers
        (simulations only: the network says how long that takes; see sim/network.py)."""
        start = self.loop.time()
        await asyncio.sleep(self.confirm_at - start)
        self._record("replication", start, self.loop.time())

    def _as_caller_sees_it(self, exc: BaseException) -> BaseException:
        """``ctx.abort()`` resets the object; any other error keeps the writes made before it
        and reaches the caller as a copy marked ``.remote``."""
        if isinstance(exc, DurableObjectAbort):
            self.reset()
            return mark_remote(ResetError(str(exc)), durableObjectReset=True)
        if isinstance(exc, ResetError):
            return mark_remote(ResetError(exc.message), durableObjectReset=True)
        self.commit()
        return remote_copy(exc)

    async def _use_cpu(self, arrived: float) -> None:
        """One object, one thread: each event keeps the object busy for ``cpu_per_event``."""
        holder = asyncio.current_task()
        self.gate.hold(holder)
        self.queued += 1
        started = self.loop.time()
        try:
            await asyncio.sleep(self.engine.cpu_per_event)
        finally:
            self.queued -= 1
            self.gate.release(holder)
        if self.engine.network is not None:
            if started > arrived:
                self._record("queue", arrived, started)
            self._record("cpu", started, self.loop.time())

    def _record(self, kind: str, start: float, end: float, note: str = "") -> None:
        network = self.engine.network
        if network is not None:
            region = self.region or ""
            network.record(kind, start, end, region, region, f"{self.ns.binding} {note}" if note else self.ns.binding)

    def _check_generation(self, generation: int) -> None:
        if self.generation != generation:
            if self.failed_write == generation:  # held replies become the write's error (output gate)
                raise ResetError(WRITE_FAILED)
            raise ResetError("Durable Object was reset while this request was running.")

    def _dispatch(self, instance: Any, kind: str, name: str, args: Any, kwargs: Any) -> Any:
        if kind == "rpc" and name not in RESERVED:  # the common case first
            method = getattr(instance, name, None)
            if method is not None and callable(method):
                return method(*args, **kwargs)
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
            raise RpcError(f"'{name}' is a reserved method and cannot be called over RPC.")
        method = getattr(instance, name, None)
        if method is None:
            raise RpcError(f'The RPC receiver does not implement the method "{name}".')
        if not callable(method):
            raise RpcError(
                f'"{name}" is a {type(method).__name__} attribute of {type(instance).__name__}, not a '
                "method; only methods can be called over RPC."
            )
        return method(*args, **kwargs)

    def _construct(self) -> Any:
        cls = self.ns.cls
        self.generation += 1
        ctx = DurableObjectState(self, self.generation)
        instance = cls.__new__(cls)  # type: ignore[call-overload]
        instance.ctx = ctx
        instance.env = self.engine.env
        self.ctx = ctx
        self.instance = instance
        self.engine.counters.constructed += 1
        try:
            instance.__init__(ctx, self.engine.env)
        except BaseException:
            self.reset()
            raise
        return instance

    # -- what the object's ctx asks of its host ---------------------------------------------------

    async def storage_delay(self, hold: bool) -> None:
        """Simulated time of one storage operation; holds the input gate unless allowConcurrency."""
        holder = asyncio.current_task()
        if hold:
            self.gate.hold(holder)
        start = self.loop.time()
        try:
            await asyncio.sleep(self.engine.storage_latency)
        finally:
            if hold:
                self.gate.release(holder)
        self._record("storage", start, self.loop.time(), "" if hold else "allowConcurrency")

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
                # A timeout resets the object even for transaction(), which workerd runs inside
                # blockConcurrencyWhile too (api/actor-state.c++); its writes are rolled back.
                self._reset_after_bcw(True, generation)
                raise ResetError(BCW_TIMEOUT_MESSAGE) from None
            except BaseException as exc:
                # Reset now, in this step, before the pending implicit commit can run.
                if reset_on_error and self.generation == generation:
                    self.bcw_failure = (generation, exc)
                self._reset_after_bcw(reset_on_error, generation)
                raise

        task = self.loop.create_task(run())
        self.gate.hold(task)

        def done(t: asyncio.Task[Any]) -> None:
            self.gate.release(t)
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
        waited = task in self.pending
        self.pending.discard(task)
        # A task that ends is no incoming event: it may let an idle object hibernate, or end a
        # waitUntil's grace, but it does not restart the 70-140 s eviction clock (Cloudflare
        # counts that from the last request or event; a timer that keeps firing never resets it).
        if self.inflight == 0 and self.instance is not None and (waited or self.hibernatable()):
            self.engine.lifecycle.maybe_idle(self)

    # -- lifecycle --------------------------------------------------------------------------------

    def reset(self) -> None:
        """Drop the instance and every uncommitted write; the next event constructs anew."""
        if self.db is not None:
            self.db.rollback()  # also empties its cache
        self.alarm_dirty = False
        self.unconfirmed_only = None
        self.txn_depth = 0
        self.commit_deferred = False
        self.instance = None
        self.ctx = None
        self.generation += 1
        self.engine.counters.resets += 1
        self.gate.release_all()

    def deactivate(self, state: Rest) -> None:
        """Hibernate or evict: drop the instance, close the database, keep its bytes cold.

        An object is forgotten only if its database was opened and found empty: a new object that
        never stored anything. One that merely was not opened this time (it woke, answered
        without touching storage, went cold again) keeps whatever it has, on disk or in memory.
        """
        image = self.cold_image
        empty = False
        if self.commit_handle is not None:
            # A cancelled handle drops its callback: a cold object must not stay referenced from
            # the loop's ready queue (a million of them would each keep their host alive).
            self.commit_handle.cancel()
            self.commit_handle = None
            self.loop.drop_cancelled()  # type: ignore[attr-defined]
        if self.db is not None:
            self.roll_back_open_transaction()
            self.db.commit()
            empty = self.db.may_be_empty and self.db.is_empty()
            image = self.db.close()
            self.db = None
        elif self.was is Rest.NEW:
            persist = self.engine.persist
            # In persist mode a fresh lab knows nothing about the files already there: look.
            empty = persist is None or not object_file(
                persist, self.ns.folder, self.id.toString(), create=False).exists()
        self.instance = None
        self.ctx = None
        self.generation += 1
        for task in list(self.background):
            task.cancel()  # an evicted object's timers die with it
        for ws in list(self.standard_sockets):
            ws.close(1001, "Durable Object evicted")
        self.standard_sockets.clear()
        self.engine.lifecycle.stop_billing(self)
        self.ns.store_cold(self, state, image, empty)

    def drop(self) -> None:
        """Out of memory after a failed deactivation: roll back, close, keep what was committed."""
        db, self.db = self.db, None
        if db is not None:
            try:
                image = db.close(commit=False)  # the committed state: nothing committed is lost
                if image is not None:
                    self.cold_image = image
            except Exception:  # noqa: BLE001 - a damaged database may refuse even this
                pass  # then the image it was opened from (kept for this) stands
        self.instance = self.ctx = None
        self.generation += 1
        for task in list(self.background):
            task.cancel()
        self.engine.lifecycle.stop_billing(self)
        self.ns.store_cold(self, Rest.EVICTED, self.cold_image, empty=False)

    def idle(self) -> bool:
        return self.inflight == 0 and self.instance is not None

    def hibernatable(self) -> bool:
        """Cloudflare's condition, as far as dolab can see it: nothing the object started is pending
        and no WebSocket was accepted with the standard API."""
        return not self.background and not self.standard_sockets
