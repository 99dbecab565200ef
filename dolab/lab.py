"""``Lab``: the whole in-process "account" — bindings, virtual clock, seed, storage location.

Everything lives on the lab object, so two labs never share state. Its event loop runs in a
thread of its own (see :mod:`dolab.loop`), which is why the same calls work from a script, from
a widget callback and from a notebook cell's top-level ``await``.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Awaitable, Callable, Coroutine, Generator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

from dolab.alarms import EPOCH, AlarmScheduler
from dolab.context import Transport
from dolab.errors import LabError
from dolab.host import ObjectHost, current_host
from dolab.ids import DurableObjectId
from dolab.lifecycle import Lifecycle
from dolab.loop import LoopThread
from dolab.namespace import DurableObjectNamespace, DurableObjectStub
from dolab.objects import DurableObject
from dolab.websockets import SocketHub
from dolab.worker import WorkerEntrypoint, WorkerStub

T = TypeVar("T")
_BINDING = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


INJECTED = {
    "disconnect": ("Network connection lost.", {"retryable": True}),
    "overloaded": ("Durable Object is overloaded. Too many requests queued.", {"overloaded": True}),
}


@dataclass(frozen=True)
class LabStatistics:
    """Counts since the lab started, and objects in memory now.

    ``active_seconds`` is billed duration: time objects spent handling events or sitting idle
    but unable to hibernate (x 0.128 GB = GB-s on Cloudflare's bill). ``active`` and ``cold``
    count objects now: ``hibernating`` of the cold ones hibernated, the rest were evicted.
    ``hibernated`` and ``evicted`` count events since the start; ``ws_messages`` counts incoming
    WebSocket messages (billed 20:1).
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


class _External:
    """A call made from outside the lab thread; awaiting it hands it to the lab's loop."""

    __slots__ = ("coro", "lab")

    def __init__(self, lab: Lab, coro: Coroutine[Any, Any, Any]) -> None:
        self.lab = lab
        self.coro = coro

    def __await__(self) -> Generator[Any, None, Any]:
        caller = asyncio.get_running_loop()
        thread = self.lab._thread
        future = thread.submit(self.coro, defer=True)
        thread.kick_after_this_step(caller)
        return (yield from asyncio.wrap_future(future, loop=caller).__await__())

    def __repr__(self) -> str:
        return f"<pending dolab call {getattr(self.coro, '__qualname__', self.coro)}>"


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
        network: a :class:`~dolab.network.Network`: stub calls then pay transit time between the
            caller's region and the object's, and every hop is recorded in ``network.trace``.
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
    ) -> None:
        _check_config(hibernate_after, evict_after, max_active, storage_latency)
        if not isinstance(cpu_per_event, (int, float)) or cpu_per_event < 0:
            raise LabError(f"cpu_per_event must be >= 0 seconds, got {cpu_per_event!r}")
        self.cpu_per_event = float(cpu_per_event)
        self.seed = seed
        self.rng = random.Random(seed)
        self.persist = Path(persist).resolve() if persist is not None else None
        if self.persist is not None:
            self.persist.mkdir(parents=True, exist_ok=True)
        self.hibernate_after = float(hibernate_after)
        self.evict_after = (float(evict_after[0]), float(evict_after[1]))
        self.max_active = max_active
        self.storage_latency = float(storage_latency)
        self._counts = {"requests": 0, "constructed": 0, "hibernated": 0, "evicted": 0, "resets": 0}
        self._rows = [0, 0]
        self._thread = LoopThread()
        self._loop = self._thread.loop
        self._lifecycle = Lifecycle(self)
        self._alarms = AlarmScheduler(self)
        self._sockets = SocketHub(self)
        self._active_seconds = 0.0
        self._injected: dict[tuple[str, bytes], list[str]] = {}
        self._loop.set_task_factory(_track_object_tasks)
        self.network = network
        if network is not None:
            network.attach(self)
        self.env = SimpleNamespace(**(vars or {}))
        self.namespaces: dict[str, DurableObjectNamespace] = {}
        try:
            for binding, cls in (durable_objects or {}).items():
                self.bind(binding, cls)
            if self.persist is not None:  # alarms survive restarts: arm the stored ones
                self._on_lab(self._rearm_alarms)
        except BaseException:
            self._thread.close()
            raise

    def bind(self, binding: str, cls: type) -> DurableObjectNamespace:
        """Add a Durable Object binding: ``env.<binding>`` becomes a namespace of ``cls``."""
        if not isinstance(binding, str) or not _BINDING.match(binding):
            raise LabError(f"binding name must be an identifier such as 'CART', got {binding!r}")
        if not (isinstance(cls, type) and issubclass(cls, DurableObject)):
            raise LabError(f"binding {binding!r} needs a DurableObject subclass, got {cls!r}")
        ns = DurableObjectNamespace(self, binding, cls)
        self.namespaces[binding] = ns
        setattr(self.env, binding, ns)
        return ns

    # -- time -------------------------------------------------------------------------------------

    @property
    def now(self) -> float:
        """Seconds on the lab's virtual clock since the lab started."""
        return self._loop.vnow

    def run(self, awaitable: Awaitable[T] | None = None, *, until: float | None = None) -> T:
        """Run ``awaitable`` on the lab and return its result (from sync code).

        ``lab.run(until=t)`` instead runs the lab until its clock reads ``t``: timers, alarms,
        hibernation and eviction due before then all happen.
        """
        if (awaitable is None) == (until is None):
            raise LabError("lab.run() takes either an awaitable or until=<time>, not both or neither")
        if self._thread.on_lab_thread():
            if isinstance(awaitable, Coroutine):
                awaitable.close()
            raise LabError("lab.run() was called from code running inside the lab; use `await` there")
        if until is not None:
            awaitable = self._sleep_until(until)  # type: ignore[assignment]
        if isinstance(awaitable, _External):
            coro = awaitable.coro
        elif isinstance(awaitable, Coroutine):
            coro = awaitable
        else:
            coro = _await(awaitable)  # type: ignore[arg-type]
        future = self._thread.submit(coro)
        try:
            return future.result()  # type: ignore[no-any-return]
        except KeyboardInterrupt:
            future.cancel()  # Jupyter's "interrupt kernel": stop the lab's side too
            raise

    def advance(self, seconds: float) -> float:
        """Let ``seconds`` pass on the lab clock (everything due meanwhile happens); returns ``now``."""
        if not isinstance(seconds, (int, float)) or seconds < 0:
            raise LabError(f"advance() needs seconds >= 0; the clock never goes back (got {seconds!r})")
        self.run(until=self.now + seconds)
        return self.now

    async def _sleep_until(self, when: float) -> None:
        if when < self._loop.vnow:
            raise LabError(f"cannot run until t={when:g}: the clock already reads t={self._loop.vnow:g}")
        await asyncio.sleep(when - self._loop.vnow)

    def _enter(self, coro: Coroutine[Any, Any, T]) -> Any:
        """Hand ``coro`` to the lab: as is on the lab thread, wrapped for the outside world."""
        if self._thread.on_lab_thread():
            return coro
        return _External(self, coro)

    def worker(self, cls: type[WorkerEntrypoint]) -> WorkerStub:
        """A stub for a stateless Worker class: each request runs on a fresh instance."""
        return WorkerStub(self, cls)

    # -- test helpers (cloudflare:test in spirit, snake_case because they are dolab's own) ------

    def run_in_durable_object(self, stub: DurableObjectStub, fn: Callable[[Any, Any], Any]) -> Any:
        """Run ``fn(instance, ctx)`` inside the object, as one event through its gates."""
        return self._enter(stub._invoke("callback", "callback", fn, None))

    def fail_next(self, target: DurableObjectStub | DurableObjectId, kind: str = "disconnect", count: int = 1) -> None:
        """Make the next ``count`` calls to an object fail as the network or runtime would.

        ``kind="disconnect"`` raises a ``.retryable`` error ("Network connection lost."),
        ``kind="overloaded"`` an ``.overloaded`` one; the object never sees those calls. A
        teaching helper (dolab's own): real failures are not scheduled.
        """
        if kind not in INJECTED:
            raise LabError(f"kind must be one of {', '.join(INJECTED)}, got {kind!r}")
        if not isinstance(count, int) or count < 1:
            raise LabError(f"count must be an int >= 1, got {count!r}")
        ident = target.id if isinstance(target, DurableObjectStub) else target
        for ns in self.namespaces.values():
            if ns._key == ident._key:
                self._injected.setdefault((ns.binding, ident._raw), []).extend([kind] * count)
                return
        raise LabError(f"{ident!r} belongs to no namespace of this lab")

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
        for ns in self.namespaces.values():
            self._alarms.rearm_from_disk(ns)

    @property
    def time_ms(self) -> float:
        """The lab clock as JavaScript's ``Date.now()``: ms since the Unix epoch (t=0 is 2026-01-01Z)."""
        return (EPOCH + self.now) * 1000.0

    @property
    def alarm_log(self) -> list[dict[str, Any]]:
        """Every alarm delivery so far: object id, lab time, retryCount, outcome."""
        return list(self._alarms.log)

    def list_durable_object_ids(self, namespace: DurableObjectNamespace | str) -> list[DurableObjectId]:
        """Ids of the objects of ``namespace`` that have something in storage."""
        ns = self.namespaces[namespace] if isinstance(namespace, str) else namespace
        return self._on_lab(ns.stored_ids)

    def evict(self, target: DurableObjectStub | DurableObjectId) -> bool:
        """Evict one object now, as if it had been idle long enough. False if it was not in memory."""
        def go() -> bool:
            for ns in self.namespaces.values():
                ident = target.id if isinstance(target, DurableObjectStub) else target
                host = ns._hosts.get(ident._raw)
                if host is not None and ns._key == ident._key:
                    return self._evict_host(host)
            return False
        return self._on_lab(go)

    def evict_all(self) -> int:
        """Evict every object in memory; returns how many were evicted."""
        def go() -> int:
            hosts = [h for ns in self.namespaces.values() for h in list(ns._hosts.values())]
            return sum(self._evict_host(h) for h in hosts)
        return self._on_lab(go)

    def _evict_host(self, host: ObjectHost) -> bool:
        if host.inflight or host.pending:
            raise LabError(f"cannot evict {host.id!r}: it is handling a request right now")
        if host.instance is None and host.db is None:
            host.ns._store_cold(host, "evicted", host.cold_image, host.was == "new")
            return False
        host.deactivate("evicted")
        return True

    def _call_soon_anywhere(self, fn: Callable[..., Any], *args: Any) -> None:
        """Schedule ``fn(*args)`` on the lab loop, from the lab thread or any other."""
        if self._thread.on_lab_thread():
            self._loop.call_soon(fn, *args)
        else:
            self._loop.call_soon_threadsafe(fn, *args)

    def _on_lab(self, fn: Callable[[], T]) -> T:
        if self._thread.on_lab_thread():
            return fn()

        async def call() -> T:
            return fn()

        return self._thread.submit(call()).result()  # type: ignore[no-any-return]

    def statistics(self) -> LabStatistics:
        """A snapshot of the lab's counters."""
        def snap() -> LabStatistics:
            c = self._counts
            return LabStatistics(
                now=self.now,
                active=len(self._lifecycle.active),
                active_seconds=self._lifecycle.billed_seconds(),
                cold=sum(len(ns._cold) for ns in self.namespaces.values()),
                requests=c["requests"], constructed=c["constructed"], hibernated=c["hibernated"],
                evicted=c["evicted"], resets=c["resets"], rows_read=self._rows[0], rows_written=self._rows[1],
                ws_messages=self._sockets.messages,
                hibernating=sum(ns.hibernating for ns in self.namespaces.values()),
            )
        return self._on_lab(snap)

    def stored_bytes(self) -> int:
        """Bytes of storage all objects hold now (the sum of their ``databaseSize``)."""
        return self._on_lab(lambda: sum(ns.stored_bytes() for ns in self.namespaces.values()))

    def _count(self, what: str) -> None:
        self._counts[what] += 1

    # -- closing ----------------------------------------------------------------------------------

    def close(self) -> None:
        """Commit and close every open database, then stop the lab's thread."""
        if self._thread.closed:
            return

        def shut() -> None:
            for ns in self.namespaces.values():
                for host in list(ns._hosts.values()):
                    for task in list(host.background):
                        task.cancel()  # runs before the loop stops: no "destroyed but pending" noise
                    if host.db is not None:
                        host.db.commit()
                        host.db.close()
                        host.db = None

        self._on_lab(shut)
        self._thread.close()

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        bindings = ", ".join(f"{b}={ns.cls.__name__}" for b, ns in self.namespaces.items())
        return f"<Lab seed={self.seed} t={self.now:g}s {bindings}>"


def _track_object_tasks(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
    """Task factory of the lab loop: a task started by object code is that object's "timer"."""
    task = asyncio.Task(coro, loop=loop, **kwargs)
    host = current_host.get()
    if host is not None:
        host.track(task)
    return task


async def _await(awaitable: Awaitable[T]) -> T:
    return await awaitable


def _check_config(hibernate_after: float, evict_after: tuple[float, float], max_active: int, latency: float) -> None:
    if not isinstance(hibernate_after, (int, float)) or hibernate_after <= 0:
        raise LabError(f"hibernate_after must be a positive number of seconds, got {hibernate_after!r}")
    if (not isinstance(evict_after, tuple) or len(evict_after) != 2
            or not 0 < evict_after[0] <= evict_after[1]):
        raise LabError(f"evict_after must be (low, high) seconds with 0 < low <= high, got {evict_after!r}")
    if not isinstance(max_active, int) or max_active < 1:
        raise LabError(f"max_active must be an int >= 1, got {max_active!r}")
    if not isinstance(latency, (int, float)) or latency < 0:
        raise LabError(f"storage_latency must be >= 0 seconds, got {latency!r}")


__all__ = ["Lab", "LabStatistics", "current_host"]
