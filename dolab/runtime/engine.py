"""The engine of one lab: what its namespaces, object hosts, lifecycle, alarms and sockets share.

:class:`~dolab.runtime.lab.Lab` is the public face; the :class:`Engine` is what its parts are
given. It holds the loop thread and its virtual clock, the settings, the seeded generator, the
counters behind ``lab.statistics()``, the namespaces, and the three services that act on the
clock (the lifecycle, the alarm scheduler, the WebSocket hub). Nothing here imports the lab, so
the runtime's modules form no circle: the lab owns an engine, the engine owns the rest.
"""

from __future__ import annotations

import asyncio
import collections.abc
import random
from collections.abc import Callable, Coroutine, Generator
from dataclasses import dataclass
from pathlib import Path
from threading import get_ident
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, TypeVar

from dolab.runtime import awake
from dolab.runtime.alarms import AlarmScheduler
from dolab.runtime.context import current_host
from dolab.runtime.database import StorageFaults
from dolab.runtime.host import ObjectHost
from dolab.runtime.lifecycle import Lifecycle
from dolab.runtime.loop import LoopThread, VirtualLoop
from dolab.runtime.wallclock import EPOCH
from dolab.runtime.websockets import SocketHub

if TYPE_CHECKING:
    from dolab.runtime.context import Transport
    from dolab.runtime.namespace import DurableObjectNamespace

T = TypeVar("T")


@dataclass(slots=True)
class Counters:
    """Running totals since the lab started (lab thread only); ``lab.statistics()`` reads them."""

    requests: int = 0
    constructed: int = 0
    hibernated: int = 0
    evicted: int = 0
    resets: int = 0
    rows_read: int = 0
    rows_written: int = 0
    active_seconds: float = 0.0  # settled billed duration; running intervals are added on read
    incidents: int = 0  # objects taken out of memory after a failure (each one logged)


class PendingCall(collections.abc.Coroutine):  # type: ignore[type-arg]
    """A call made from outside the lab thread; awaiting it hands it to the lab's loop.

    It is a coroutine, so ``asyncio.run(stub.method())`` and ``asyncio.gather(...)`` in a cell
    work as they would with any other coroutine.
    """

    __slots__ = ("_steps", "coro", "engine")

    def __init__(self, engine: Engine, coro: Coroutine[Any, Any, Any]) -> None:
        self.engine = engine
        self.coro = coro
        self._steps: Generator[Any, Any, Any] | None = None

    def __await__(self) -> Generator[Any, None, Any]:
        caller = asyncio.get_running_loop()
        thread = self.engine.thread
        future = thread.submit(self.coro, defer=True)
        thread.kick_after_this_step(caller)
        return (yield from asyncio.wrap_future(future, loop=caller).__await__())

    def send(self, value: Any) -> Any:
        if self._steps is None:
            self._steps = self.__await__()
        return self._steps.send(value)

    def throw(self, *args: Any) -> Any:
        if self._steps is None:
            self.close()
            raise args[0] if len(args) == 1 else args[1]
        return self._steps.throw(*args)

    def close(self) -> None:
        if self._steps is not None:
            self._steps.close()
        else:
            self.coro.close()  # never started: the lab never saw it

    def __repr__(self) -> str:
        return f"<pending dolab call {getattr(self.coro, '__qualname__', self.coro)}>"


class Engine:
    """Settings, clock, counters and services of one lab (see the module docstring)."""

    def __init__(
        self,
        *,
        seed: int,
        persist: Path | None,
        env: SimpleNamespace,
        hibernate_after: float,
        evict_after: tuple[float, float],
        max_active: int,
        storage_latency: float,
        cpu_per_event: float,
        network: Transport | None,
        cpu_limit: float = 30.0,
        max_queue: int = 1_000,
        max_queue_wait: float = 30.0,
    ) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.persist = persist
        self.env = env
        self.hibernate_after = hibernate_after
        self.evict_after = evict_after
        self.max_active = max_active
        self.storage_latency = storage_latency
        self.cpu_per_event = cpu_per_event
        self.cpu_limit = cpu_limit
        self.max_queue = max_queue
        self.max_queue_wait = max_queue_wait
        self.network = network
        self.counters = Counters()
        self.namespaces: dict[str, DurableObjectNamespace] = {}
        self.failures: dict[tuple[str, bytes], list[str]] = {}  # lab.fail_next: what to inject
        self.storage_faults = StorageFaults()  # lab.fail_storage: commits that will fail
        self.thread = LoopThread()
        self.loop: VirtualLoop = self.thread.loop
        self.loop.set_task_factory(_track_object_tasks)
        self.lifecycle = Lifecycle(self)
        self.alarms = AlarmScheduler(self)
        self.sockets = SocketHub(self)
        self.thread.start_watchdog(ObjectHost.call.__code__, cpu_limit)
        self.thread.describe_deadlock = self.describe_deadlock  # type: ignore[method-assign]

    @property
    def now(self) -> float:
        """Seconds on the lab's virtual clock."""
        return self.loop.vnow

    @property
    def time_ms(self) -> float:
        """The lab clock as JavaScript's ``Date.now()``."""
        return (EPOCH + self.loop.vnow) * 1000.0

    def enter(self, coro: Coroutine[Any, Any, T]) -> Any:
        """Hand ``coro`` to the lab: as is on the lab thread, wrapped for the outside world."""
        if get_ident() == self.thread._ident:  # self.thread.on_lab_thread(), inlined: once per call
            return coro
        return PendingCall(self, coro)

    def call_soon_anywhere(self, fn: Callable[..., Any], *args: Any) -> None:
        """Schedule ``fn(*args)`` on the lab loop, from the lab thread or any other."""
        if self.thread.on_lab_thread():
            self.loop.call_soon(fn, *args)
        else:
            self.loop.call_soon_threadsafe(fn, *args)

    def on_lab(self, fn: Callable[[], T]) -> T:
        """Run ``fn()`` on the lab thread (at once if already there) and return its result."""
        if self.thread.on_lab_thread():
            return fn()

        async def call() -> T:
            return fn()

        return self.thread.submit(call()).result()  # type: ignore[no-any-return]

    def host_of(self, binding: str, raw: bytes) -> ObjectHost | None:
        """The host of one object (activating it), or ``None`` if the binding is gone."""
        ns = self.namespaces.get(binding)
        return None if ns is None else ns.host_by_raw(raw)

    def describe_deadlock(self) -> str:
        """Which objects wait on what, when nothing in the lab can move any more."""
        lines = [f"deadlock at t={self.now:g} s: a call waits on the lab, but nothing is ready to run, "
                 "no timer is set, and nothing outside the lab is handing work over."]
        busy = [h for h in self.hosts() if h.inflight]
        for host in busy[:8]:
            s = host.gate.statistics()
            lines.append(f"  - {host.describe()}: {host.inflight} event(s) inside; input gate held "
                         f"{s.held_by} time(s), {s.waiting} waiting at it")
        for task in list(asyncio.all_tasks(self.loop))[:8]:
            where = _await_point(task)
            if where:
                lines.append(f"  - a task waits at {where}")
        if not busy:
            lines.append("  (no object is handling anything: the awaited thing is outside every object)")
        lines.append("Something awaited will never finish: an asyncio.Future or Event nobody sets, "
                     "or two objects waiting for each other.")
        return "\n".join(lines)

    def unique_namespaces(self) -> list[DurableObjectNamespace]:
        """Each namespace once (a class bound under two names is one namespace, as on Cloudflare)."""
        return list(dict.fromkeys(self.namespaces.values()))

    def hosts(self) -> list[ObjectHost]:
        """Every object in memory now, in every namespace."""
        return [h for ns in self.unique_namespaces() for h in ns.hosts.values()]


def _await_point(task: asyncio.Task[Any]) -> str | None:
    """Where a task is suspended, as ``file:line: code``, skipping dolab's and asyncio's frames."""
    import linecache
    import os

    frames = []
    coro: Any = task.get_coro()
    while coro is not None:  # follow the chain of awaits down to the innermost coroutine
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        if frame is not None:
            frames.append(frame)
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
    for frame in reversed(frames):
        name = frame.f_code.co_filename
        if f"{os.sep}dolab{os.sep}runtime{os.sep}" in name or f"{os.sep}asyncio{os.sep}" in name:
            continue
        line = linecache.getline(name, frame.f_lineno).strip()
        return f"{os.path.basename(name)}:{frame.f_lineno}: {line}"
    return None


def _track_object_tasks(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
    """Task factory of the lab loop: a task started by object code is that object's "timer"."""
    task = asyncio.Task(coro, loop=loop, **kwargs)
    host = current_host.get()
    if host is not None:
        host.track(task)
        awake.remember(task)  # for lab.why_awake(): which line started it
    return task
