"""``Lab``: the whole in-process "account" — bindings, virtual clock, seed, storage location.

Everything lives on the lab object, so two labs never share state. Its event loop runs in a
thread of its own (see :mod:`dolab.runtime.loop`), which is why the same calls work from a script,
from a widget callback and from a notebook cell's top-level ``await``. The lab is the public
face of an :class:`~dolab.runtime.engine.Engine`, which its namespaces and objects are given.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import math
import re
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

from dolab.runtime.awake import Blocker, blockers
from dolab.runtime.context import Transport
from dolab.runtime.engine import Engine, PendingCall
from dolab.runtime.errors import FAILURES, ConfigError, LabStateError
from dolab.runtime.folder import FolderLock
from dolab.runtime.gate import GateStatistics
from dolab.runtime.host import ObjectHost
from dolab.runtime.ids import DurableObjectId
from dolab.runtime.lifecycle import Rest
from dolab.runtime.namespace import DurableObjectNamespace, DurableObjectStub
from dolab.runtime.objects import DurableObject
from dolab.runtime.worker import WorkerEntrypoint, WorkerStub

T = TypeVar("T")
log = logging.getLogger("dolab")
_BINDING = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class LabStatistics:
    """Counts since the lab started, and objects in memory now.

    ``active_seconds`` is billed duration: time objects spent handling events or sitting idle
    but unable to hibernate (x 0.128 GB = GB-s on Cloudflare's bill). ``active`` and ``cold``
    count objects now: ``hibernating`` of the cold ones hibernated, the rest were evicted.
    ``hibernated`` and ``evicted`` count events since the start; ``ws_messages`` counts incoming
    WebSocket messages (billed 20:1); ``deepest_queue`` is the most events inside one object now
    (the one running plus those waiting at its input gate).
    """

    now: float
    active: int
    active_seconds: float
    cold: int
    requests: int
    constructed: int
    hibernated: int
    evicted: int
    resets: int
    rows_read: int
    rows_written: int
    ws_messages: int = 0
    hibernating: int = 0
    deepest_queue: int = 0


class Lab:
    """An in-process Cloudflare account: ``Lab(durable_objects={"CART": Cart})``.

    Args:
        durable_objects: binding name -> ``DurableObject`` subclass; each becomes ``lab.env.NAME``.
        seed: seeds every random choice the lab makes (unique ids, eviction times).
        persist: a folder to keep every object's SQLite database in; ``None`` keeps them in memory.
        vars: extra values to put on ``env`` (like Worker environment variables).
        hibernate_after: idle seconds before a hibernatable object hibernates (Cloudflare: 10).
        evict_after: range of idle seconds before a non-hibernatable object is evicted (70-140).
        max_active: objects kept in memory at most; the least recently used idle ones go first.
        storage_latency: simulated seconds each awaited storage call takes (default 0).
        cpu_per_event: simulated CPU seconds each event keeps its object busy (default 0); with
            it, one object serves at most ``1 / cpu_per_event`` events per second.
        network: a :class:`~dolab.sim.network.Network`: stub calls then pay transit time between the
            caller's region and the object's, and every hop is recorded in ``network.trace``.
        cpu_limit: CPU seconds an object may run per event before it is stopped and reset
            (Cloudflare: 30). Code that never yields cannot wedge the lab.
        max_queue: events that may wait at one object at once; one more fails as overloaded
            ("Too many requests queued."). Cloudflare does not publish its limit; see the README.
        max_queue_wait: seconds an event may wait at an object's input gate before it fails as
            overloaded ("Requests queued for too long.").
    """

    def __init__(
        self,
        durable_objects: dict[str, type] | None = None,
        *,
        seed: int = 0,
        persist: str | Path | None = None,
        vars: dict[str, Any] | None = None,
        hibernate_after: float = 10.0,
        evict_after: tuple[float, float] = (70.0, 140.0),
        max_active: int = 2_000,
        storage_latency: float = 0.0,
        cpu_per_event: float = 0.0,
        network: Transport | None = None,
        cpu_limit: float = 30.0,
        max_queue: int = 1_000,
        max_queue_wait: float = 30.0,
    ) -> None:
        _check_config(hibernate_after, evict_after, max_active, storage_latency, cpu_per_event)
        check_seconds("cpu_limit", cpu_limit, positive=True)
        check_seconds("max_queue_wait", max_queue_wait, positive=True)
        if isinstance(max_queue, bool) or not isinstance(max_queue, int) or max_queue < 1:
            raise ConfigError(f"max_queue must be an int >= 1, got {max_queue!r}")
        folder = Path(persist).resolve() if persist is not None else None
        lock = None
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            lock = FolderLock(folder, self.close)
        self.env = SimpleNamespace(**(vars or {}))
        self._engine = engine = Engine(
            seed=seed, persist=folder, env=self.env, hibernate_after=float(hibernate_after),
            evict_after=(float(evict_after[0]), float(evict_after[1])), max_active=max_active,
            storage_latency=float(storage_latency), cpu_per_event=float(cpu_per_event), network=network,
            cpu_limit=float(cpu_limit), max_queue=max_queue, max_queue_wait=float(max_queue_wait),
        )
        if lock is not None and (resume := lock.saved_clock()) > 0:
            engine.on_lab(lambda: engine.loop.advance_to(resume))  # time never runs backwards
        self.seed = seed
        self.rng = engine.rng
        self.persist = folder
        self.network = network
        self.namespaces: dict[str, DurableObjectNamespace] = engine.namespaces
        # Closing commits and stops the thread; it also runs if the lab is garbage-collected
        # unclosed (a notebook cell re-run), so an abandoned lab leaks no thread and no files.
        self._finalizer = weakref.finalize(self, _shut_down, engine, lock)
        if network is not None:
            network.attach(self)
        try:
            for binding, cls in (durable_objects or {}).items():
                self.bind(binding, cls)
            if folder is not None:  # alarms survive restarts: arm the stored ones
                engine.on_lab(self._rearm_alarms)
        except BaseException:
            self._finalizer()
            raise

    # -- settings, read-only once the lab exists ----------------------------------------------------

    @property
    def hibernate_after(self) -> float:
        return self._engine.hibernate_after

    @property
    def evict_after(self) -> tuple[float, float]:
        return self._engine.evict_after

    @property
    def max_active(self) -> int:
        return self._engine.max_active

    @property
    def storage_latency(self) -> float:
        return self._engine.storage_latency

    @property
    def cpu_per_event(self) -> float:
        return self._engine.cpu_per_event

    def bind(self, binding: str, cls: type) -> DurableObjectNamespace:
        """Add a Durable Object binding: ``env.<binding>`` becomes a namespace of ``cls``."""
        if not isinstance(binding, str) or not _BINDING.match(binding):
            raise ConfigError(f"binding name must be an identifier such as 'CART', got {binding!r}")
        if not (isinstance(cls, type) and issubclass(cls, DurableObject)):
            raise ConfigError(f"binding {binding!r} needs a DurableObject subclass, got {cls!r}")
        if binding in self.namespaces:
            raise ConfigError(f"binding {binding!r} is already bound to {self.namespaces[binding].cls.__name__}")
        name = cls.__name__
        if not name.isidentifier():
            raise ConfigError(f"a Durable Object class needs a name that is a Python identifier, got {name!r}")
        # On Cloudflare a namespace is a class of the Worker: two bindings of one class reach the
        # same objects, and a Worker cannot export two classes under one name.
        same = [ns for ns in self._engine.unique_namespaces() if ns.cls.__name__ == name]
        if same and same[0].cls is not cls:
            raise ConfigError(
                f"binding {binding!r}: another class named {name!r} is already bound (as "
                f"{same[0].binding!r}); a Worker exports one class per name, so rename one of them"
            )
        ns = same[0] if same else DurableObjectNamespace(self._engine, binding, cls)
        self.namespaces[binding] = ns
        setattr(self.env, binding, ns)
        return ns

    # -- time -------------------------------------------------------------------------------------

    @property
    def now(self) -> float:
        """Seconds on the lab's virtual clock since the lab started."""
        return self._engine.loop.time()

    @property
    def time_ms(self) -> float:
        """The lab clock as JavaScript's ``Date.now()``: ms since the Unix epoch (t=0 is 2026-01-01Z)."""
        return self._engine.time_ms

    def run(self, awaitable: Awaitable[T] | None = None, *, until: float | None = None) -> T:
        """Run ``awaitable`` on the lab and return its result (from sync code).

        ``lab.run(until=t)`` instead runs the lab until its clock reads ``t``: timers, alarms,
        hibernation and eviction due before then all happen.
        """
        if (awaitable is None) == (until is None):
            raise ConfigError("lab.run() takes either an awaitable or until=<time>, not both or neither")
        thread = self._engine.thread
        if thread.on_lab_thread():
            if isinstance(awaitable, Coroutine):
                awaitable.close()
            raise LabStateError("lab.run() was called from code running inside the lab; use `await` there")
        if isinstance(awaitable, PendingCall) and awaitable.engine is not self._engine:
            awaitable.close()
            if awaitable.engine.thread.closed:
                raise LabStateError("this call belongs to a lab that is closed; make the stub again from this lab")
            raise ConfigError(f"this call belongs to another lab, not to {self!r}: run it with that lab's run()")
        if isinstance(awaitable, asyncio.Future):
            raise ConfigError(
                "lab.run() got an asyncio future or task (asyncio.gather(...)?), which belongs to another "
                "event loop; in a cell write `await asyncio.gather(...)`, or define `async def main(): "
                "return await asyncio.gather(...)` and call lab.run(main())"
            )
        if until is not None:
            if isinstance(until, bool) or not isinstance(until, (int, float)) or not math.isfinite(until):
                raise ConfigError(f"run(until=...) needs a finite time in seconds, got {until!r}")
            awaitable = self._sleep_until(until)  # type: ignore[assignment]
        if isinstance(awaitable, PendingCall):
            coro = awaitable.coro
        elif isinstance(awaitable, Coroutine):
            coro = awaitable
        else:
            coro = _await(awaitable)  # type: ignore[arg-type]
        future = thread.submit(coro)
        try:
            return future.result()  # type: ignore[no-any-return]
        except KeyboardInterrupt:
            # Jupyter's "interrupt kernel": stop the lab's side too; cancelling the future cancels
            # its task and asks the watchdog to stop object code that stays stuck (LoopThread).
            future.cancel()
            raise

    def advance(self, seconds: float) -> float:
        """Let ``seconds`` pass on the lab clock (everything due meanwhile happens); returns ``now``."""
        if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and seconds < 0:
            raise ConfigError(f"advance() needs seconds >= 0; the clock never goes back (got {seconds!r})")
        seconds = check_seconds("advance() seconds", seconds)
        if self._engine.loop.realtime:  # measured on the lab thread: the wall clock moves meanwhile
            self.run(self._sleep_until(seconds, relative=True))
        else:
            self.run(until=self.now + seconds)
        return self.now

    async def _sleep_until(self, when: float, relative: bool = False) -> None:
        await self._engine.thread.sleep_until(when, relative)

    def run_real_time(self, main: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Start ``main`` on the lab in the background; until it ends, the lab clock follows the wall
        clock (``dolab serve`` runs its server so), and ``lab.advance(s)`` jumps it ``s`` seconds ahead
        at once. Cancel the returned future to stop ``main``."""
        return self._engine.thread.submit(self._engine.thread.real_time(main))

    def worker(self, cls: type[WorkerEntrypoint]) -> WorkerStub:
        """A stub for a stateless Worker class: each request runs on a fresh instance."""
        return WorkerStub(self._engine, cls)

    # -- test helpers (cloudflare:test in spirit, snake_case because they are dolab's own) ------

    def run_in_durable_object(self, stub: DurableObjectStub, fn: Callable[[Any, Any], Any]) -> Any:
        """Run ``fn(instance, ctx)`` inside the object, as one event through its gates."""
        return self._engine.enter(stub._invoke("callback", "callback", fn, None))

    def fail_next(self, target: DurableObjectStub | DurableObjectId, kind: str = "disconnect", count: int = 1) -> None:
        """Make the next ``count`` calls to an object fail as the network or runtime would.

        ``kind="disconnect"`` raises a ``.retryable`` error ("Network connection lost."),
        ``kind="overloaded"`` an ``.overloaded`` one; the object never sees those calls. A
        teaching helper (dolab's own): real failures are not scheduled.
        """
        if kind not in FAILURES:
            raise ConfigError(f"kind must be one of {', '.join(FAILURES)}, got {kind!r}")
        if not isinstance(count, int) or count < 1:
            raise ConfigError(f"count must be an int >= 1, got {count!r}")
        ident = target.id if isinstance(target, DurableObjectStub) else target
        for ns in self.namespaces.values():
            if ns.key == ident._key:
                self._engine.failures.setdefault((ns.binding, ident._raw), []).extend([kind] * count)
                return
        raise ConfigError(f"{ident!r} belongs to no namespace of this lab")

    def fail_storage(self, kind: str = "disk-full", count: int = 1,
                     target: DurableObjectStub | DurableObjectId | None = None) -> None:
        """Make the next ``count`` commits (of one object, or of any) fail as SQLite would.

        ``kind`` is ``"disk-full"``, ``"read-only"`` or ``"io-error"``. A failed commit is what
        Cloudflare's output gate guards against: the reply is never sent, the object is reset,
        and the caller gets "Internal error in Durable Object storage write caused object to be
        reset." A teaching and testing helper (dolab's own).
        """
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ConfigError(f"count must be an int >= 1, got {count!r}")
        ident = target.id if isinstance(target, DurableObjectStub) else target
        self._engine.storage_faults.arm(kind, count, None if ident is None else ident._raw)

    def run_durable_object_alarm(self, stub: DurableObjectStub) -> Any:
        """Run the object's pending alarm now: ``False`` if none was set, else ``True``.

        As ``runDurableObjectAlarm`` in ``cloudflare:test``: the alarm is deleted and ``alarm()``
        is called inside the object (without ``alarm_info``).
        """
        async def body(instance: Any, ctx: Any) -> bool:
            if await ctx.storage.getAlarm() is None:
                return False
            await ctx.storage.deleteAlarm()
            result = instance.alarm()
            if hasattr(result, "__await__"):
                await result
            return True

        return self.run_in_durable_object(stub, body)

    def _rearm_alarms(self) -> None:
        for ns in self._engine.unique_namespaces():
            self._engine.alarms.rearm_from_disk(ns)

    @property
    def alarm_log(self) -> list[dict[str, Any]]:
        """Every alarm delivery so far: object id, lab time, retryCount, outcome."""
        return list(self._engine.alarms.log)

    def list_durable_object_ids(self, namespace: DurableObjectNamespace | str) -> list[DurableObjectId]:
        """Ids of the objects of ``namespace`` that have something in storage."""
        ns = self.namespaces[namespace] if isinstance(namespace, str) else namespace
        return self._engine.on_lab(ns.stored_ids)

    def evict(self, target: DurableObjectStub | DurableObjectId) -> bool:
        """Evict one object now, as if it had been idle long enough. False if it was not in memory."""
        def go() -> bool:
            ident = target.id if isinstance(target, DurableObjectStub) else target
            for ns in self._engine.unique_namespaces():
                host = ns.hosts.get(ident._raw)
                if host is not None and ns.key == ident._key:
                    return self._evict_host(host)
            return False
        return self._engine.on_lab(go)

    def evict_all(self) -> int:
        """Evict every object in memory; returns how many were evicted."""
        return self._engine.on_lab(lambda: sum(self._evict_host(h) for h in self._engine.hosts()))

    def _evict_host(self, host: ObjectHost) -> bool:
        if host.inflight or host.pending:
            raise LabStateError(f"cannot evict {host.id!r}: it is handling a request right now")
        was_in_memory = host.instance is not None or host.db is not None
        host.deactivate(Rest.EVICTED)
        return was_in_memory

    def gate_statistics(self, stub: DurableObjectStub) -> GateStatistics | None:
        """Who holds the object's input gate and how many events wait at it (``None``: not in memory)."""
        def go() -> GateStatistics | None:
            host = stub._ns.hosts.get(stub.id._raw)
            return None if host is None else host.gate.statistics()
        return self._engine.on_lab(go)

    def why_awake(self, stub: DurableObjectStub) -> list[Blocker]:
        """What keeps an object from hibernating, each with the line that started it.

        Empty when nothing does: an idle object then hibernates after ``hibernate_after``, or is
        already out of memory. Cloudflare has no such view; in dolab it finds the forgotten timer
        that keeps an object awake, and billed, around the clock.
        """
        def go() -> list[Blocker]:
            host = stub._ns.hosts.get(stub.id._raw)
            return [] if host is None or host.instance is None else blockers(host)
        return self._engine.on_lab(go)

    def statistics(self) -> LabStatistics:
        """A snapshot of the lab's counters."""
        engine = self._engine

        def snap() -> LabStatistics:
            c = engine.counters
            active = engine.lifecycle.active
            namespaces = engine.unique_namespaces()
            return LabStatistics(
                now=self.now,
                active=len(active),
                active_seconds=engine.lifecycle.billed_seconds(),
                cold=sum(len(ns.cold) for ns in namespaces),
                requests=c.requests, constructed=c.constructed, hibernated=c.hibernated,
                evicted=c.evicted, resets=c.resets, rows_read=c.rows_read, rows_written=c.rows_written,
                ws_messages=engine.sockets.messages,
                hibernating=sum(ns.hibernating for ns in namespaces),
                deepest_queue=max((h.inflight for h in active), default=0),
            )
        return engine.on_lab(snap)

    def stored_bytes(self) -> int:
        """Bytes of storage all objects hold now (the sum of their ``databaseSize``)."""
        return self._engine.on_lab(lambda: sum(ns.stored_bytes() for ns in self._engine.unique_namespaces()))

    # -- closing ----------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """Becomes ``True`` once :meth:`close` has run."""
        return self._engine.thread.closed

    def close(self) -> None:
        """Commit and close every open database, then stop the lab's thread (and free its folder)."""
        self._finalizer()

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        bindings = ", ".join(f"{b}={ns.cls.__name__}" for b, ns in self.namespaces.items())
        return f"<Lab seed={self.seed} t={self.now:g}s {bindings}>"


def _shut_down(engine: Engine, lock: FolderLock | None) -> None:
    """Close one lab: commit every open database, stop its thread, release its folder."""
    thread = engine.thread
    try:
        if not thread.closed:

            def shut() -> None:
                current = asyncio.current_task()
                thread.failure = LabStateError("the lab was closed while this call was waiting for it")
                for task in asyncio.all_tasks(engine.loop):  # nothing is left half-run at exit
                    if task is not current:
                        task.cancel()
                for host in engine.hosts():
                    for task in list(host.background):
                        task.cancel()  # runs before the loop stops: no "destroyed but pending" noise
                    if host.db is not None:
                        try:
                            host.roll_back_open_transaction()  # never commit half a transaction()
                            host.db.commit()
                        except Exception as exc:  # noqa: BLE001 - one object's failure must not stop the rest
                            log.warning("closing the lab: %s could not commit (%s); its last "
                                        "committed state is kept", host.describe(), exc)
                        finally:
                            host.db.close(commit=False)
                            host.db = None

            if not thread.on_lab_thread():
                engine.on_lab(shut)
            thread.close()
    finally:
        if lock is not None:
            try:
                lock.save_clock(engine.loop.vnow)
            except OSError as exc:  # a read-only folder: the next lab starts its clock at 0
                log.warning("persist folder: could not save the clock (%s)", exc)
            lock.release()


async def _await(awaitable: Awaitable[T]) -> T:
    return await awaitable


def check_seconds(name: str, value: object, *, positive: bool = False) -> float:
    """``value`` as a finite number of seconds, or a :class:`ConfigError` naming it and the rule."""
    rule = "a positive" if positive else "a finite, non-negative"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{name} must be {rule} number of seconds, got {type(value).__name__}: {value!r}")
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        raise ConfigError(f"{name} must be {rule} number of seconds, got {value!r}")
    return float(value)


def _check_config(hibernate_after: float, evict_after: tuple[float, float], max_active: int, latency: float,
                  cpu_per_event: float) -> None:
    check_seconds("hibernate_after", hibernate_after, positive=True)
    if not isinstance(evict_after, tuple) or len(evict_after) != 2:
        raise ConfigError(f"evict_after must be (low, high) seconds with 0 < low <= high, got {evict_after!r}")
    low, high = (check_seconds("evict_after", v, positive=True) for v in evict_after)
    if low > high:
        raise ConfigError(f"evict_after must be (low, high) seconds with 0 < low <= high, got {evict_after!r}")
    if isinstance(max_active, bool) or not isinstance(max_active, int) or max_active < 1:
        raise ConfigError(f"max_active must be an int >= 1, got {max_active!r}")
    check_seconds("storage_latency", latency)
    check_seconds("cpu_per_event", cpu_per_event)


__all__ = ["Lab", "LabStatistics"]
