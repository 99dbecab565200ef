"""The lab's event loop: asyncio on a virtual clock, running in a thread of its own.

Why a thread: a Jupyter kernel already runs an asyncio loop on the main thread, and that loop
also carries the kernel's messages. dolab never patches it or nests inside it. Instead the lab's
loop runs beside it, and a call from the kernel is handed over and awaited as a future.

Why virtual time: ``loop.time()`` returns the lab's clock, and when nothing is ready to run the
loop *jumps* to the next timer instead of sleeping. So ``asyncio.sleep(3600)`` inside an object
takes no wall time, and two runs with the same seed see the same times.

Time only moves while someone waits for the lab: a call being awaited, ``lab.run(...)`` or
``lab.advance(...)``. Between two notebook cells the clock stands still, so an object does not
hibernate while the learner reads.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextvars
import functools
import heapq
import itertools
import math
import selectors
import threading
from collections.abc import Callable, Coroutine
from typing import Any

from dolab.runtime.errors import LabStateError


class _VirtualSelector:
    """Wraps the real selector; turns 'sleep until the next timer' into a jump of the clock."""

    def __init__(self, real: selectors.BaseSelector, loop: VirtualLoop) -> None:
        self._real = real
        self._loop = loop

    def select(self, timeout: float | None = None) -> list[Any]:
        if timeout is not None and timeout <= 0:
            return self._real.select(0)
        loop = self._loop
        scheduled = loop._scheduled  # type: ignore[attr-defined]
        if loop.drives > 0 and scheduled:
            # Jump without polling: work handed over from another thread lands in the ready
            # queue first (call_soon_threadsafe), and a non-empty ready queue never gets here.
            # asyncio drops cancelled handles from the head before it calls select().
            when = scheduled[0]._when
            if when > loop.vnow:
                loop.vnow = when
            return []
        # Nobody is waiting on the lab: block until another thread hands work over.
        return self._real.select(None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class _FifoTimer(asyncio.TimerHandle):
    """A timer that breaks ties by the order timers were set, as SimPy's ``(time, priority, eid)``
    and JavaScript's timers do. asyncio compares ``when`` only, so on a virtual clock (where ties
    are common: whole-second sleeps, every hibernation at t + 10) same-instant timers would fire
    in heap order: repeatable, but not first-set-first-fired."""

    __slots__ = ("_seq",)
    _seq: int

    def __lt__(self, other: asyncio.TimerHandle) -> bool:
        when, other_when = self._when, other._when  # type: ignore[attr-defined]
        return bool(when < other_when or (when == other_when and self._seq < other._seq))  # type: ignore[attr-defined]

    def __le__(self, other: asyncio.TimerHandle) -> bool:
        return not other < self


class VirtualLoop(asyncio.SelectorEventLoop):
    """An asyncio loop whose ``time()`` is a virtual clock that only moves forward."""

    def __init__(self) -> None:
        super().__init__()
        self.vnow = 0.0
        self.drives = 0  # how many callers are waiting on the lab now; the clock moves only while > 0
        self._timer_seq = itertools.count()
        self._selector = _VirtualSelector(self._selector, self)  # type: ignore[has-type,arg-type]

    def time(self) -> float:
        return self.vnow

    # asyncio runs every timer due before ``time() + _clock_resolution``. A fixed resolution
    # (1 ns) stops working once the clock passes 2**24 s (~194 days): adding 1 ns no longer changes
    # the float, a timer due "now" is never due, and the loop spins. So the resolution grows with
    # the clock: two units in the last place, never less than 1 ns. A year of alarms stays a lesson.
    @property
    def _clock_resolution(self) -> float:
        return max(1e-9, 2 * math.ulp(self.vnow))

    @_clock_resolution.setter
    def _clock_resolution(self, value: float) -> None:
        pass  # asyncio's __init__ sets it; ours is computed

    def call_at(  # type: ignore[override]
        self, when: float, callback: Callable[..., Any], *args: Any, context: contextvars.Context | None = None
    ) -> asyncio.TimerHandle:
        """asyncio's own ``call_at``, with a sequence number that keeps same-instant timers FIFO."""
        if when is None:
            raise TypeError("when cannot be None")
        self._check_closed()  # type: ignore[attr-defined]
        timer = _FifoTimer(when, callback, args, self, context)
        timer._seq = next(self._timer_seq)
        heapq.heappush(self._scheduled, timer)  # type: ignore[attr-defined]
        timer._scheduled = True  # type: ignore[attr-defined]
        return timer

    def _run_once(self) -> None:
        """One loop iteration, streamlined for virtual time while someone waits on the lab.

        The lab has no sockets, so while a drive is running there is nothing to poll: work from
        other threads arrives in the ready queue (``call_soon_threadsafe``). We run what is
        ready, or jump the clock to the next timer. Without drives, or in debug mode, asyncio's
        own iteration runs (it blocks in the selector until another thread hands work over).
        """
        if self.drives <= 0 or self._debug:  # type: ignore[attr-defined]
            super()._run_once()  # type: ignore[misc]
            return
        scheduled = self._scheduled  # type: ignore[attr-defined,has-type]
        ready = self._ready  # type: ignore[attr-defined]
        if self._timer_cancelled_count > len(scheduled) // 2 > 50:  # type: ignore[has-type]
            kept = [h for h in scheduled if not h._cancelled]
            for handle in scheduled:
                if handle._cancelled:
                    handle._scheduled = False
            heapq.heapify(kept)
            self._scheduled = scheduled = kept
            self._timer_cancelled_count = 0
        while scheduled and scheduled[0]._cancelled:
            self._timer_cancelled_count -= 1
            heapq.heappop(scheduled)._scheduled = False
        if not ready and not self._stopping:  # type: ignore[attr-defined]
            if not scheduled:
                super()._run_once()  # type: ignore[misc]
                return
            when = scheduled[0]._when
            if when > self.vnow:
                self.vnow = when
        popleft = ready.popleft
        heappop = heapq.heappop
        # Up to a batch of iterations here, without returning to run_forever between them.
        for _ in range(64):
            end_time = self.vnow + self._clock_resolution
            while scheduled and scheduled[0]._when < end_time:
                handle = heappop(scheduled)
                handle._scheduled = False
                ready.append(handle)
            for _ in range(len(ready)):
                handle = popleft()
                if not handle._cancelled:
                    handle._run()
            if self._stopping or self.drives <= 0:  # type: ignore[attr-defined]
                return
            if not ready:
                while scheduled and scheduled[0]._cancelled:
                    self._timer_cancelled_count -= 1
                    heappop(scheduled)._scheduled = False
                if not scheduled:
                    return
                when = scheduled[0]._when
                if when > self.vnow:
                    self.vnow = when


class LoopThread:
    """Owns a :class:`VirtualLoop` in a daemon thread and hands coroutines to it."""

    def __init__(self) -> None:
        self.loop = VirtualLoop()
        self._inbox: collections.deque[
            tuple[Any, concurrent.futures.Future[Any], contextvars.Context]
        ] = collections.deque()
        self._lock = threading.Lock()
        self._kick_pending = False
        self._kick_loops: set[int] = set()
        self._thread = threading.Thread(target=self._main, name="dolab-lab", daemon=True)
        self._thread.start()
        self._ident = self._thread.ident
        self.closed = False

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def on_lab_thread(self) -> bool:
        return threading.get_ident() == self._ident

    # -- handing work over -------------------------------------------------------------------

    def submit(self, coro: Coroutine[Any, Any, Any], defer: bool = False) -> concurrent.futures.Future[Any]:
        """Queue ``coro`` to run on the lab loop as a drive; return a thread-safe future."""
        if self.closed:
            coro.close()
            raise LabStateError("this lab is closed; create a new Lab()")
        cf: concurrent.futures.Future[Any] = concurrent.futures.Future()
        # The caller's context variables (e.g. the simulated region it stands in) go along.
        self._inbox.append((coro, cf, contextvars.copy_context()))
        if not defer:
            self.kick()
        return cf

    def kick(self) -> None:
        with self._lock:
            if self._kick_pending:
                return
            self._kick_pending = True
        self.loop.call_soon_threadsafe(self._drain)

    def kick_after_this_step(self, caller: asyncio.AbstractEventLoop) -> None:
        """Kick once the caller's loop has run every task that is ready now.

        ``asyncio.gather(stub.a(), stub.b())`` in a notebook starts both calls in one step of the
        kernel's loop; kicking afterwards hands both over together, so they start at the same
        virtual instant in the same order on every run.
        """
        key = id(caller)
        if key in self._kick_loops:
            return
        self._kick_loops.add(key)

        def go() -> None:
            self._kick_loops.discard(key)
            self.kick()

        caller.call_soon(go)

    def _drain(self) -> None:
        with self._lock:
            self._kick_pending = False
        while self._inbox:
            coro, cf, context = self._inbox.popleft()
            if cf.cancelled():
                coro.close()
                continue
            task = self.loop.create_task(self.drive(coro), context=context)
            task.add_done_callback(functools.partial(_transfer, cf=cf))
            cf.add_done_callback(functools.partial(self._cancel_if_cancelled, task=task))

    def _cancel_if_cancelled(self, cf: concurrent.futures.Future[Any], task: asyncio.Task[Any]) -> None:
        if cf.cancelled():
            self.loop.call_soon_threadsafe(task.cancel)

    async def drive(self, awaitable: Any) -> Any:
        """Await ``awaitable`` on the lab loop, letting the clock jump while it waits."""
        self.loop.drives += 1
        try:
            return await awaitable
        finally:
            self.loop.drives -= 1

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self.loop.close()


def _transfer(task: asyncio.Task[Any], cf: concurrent.futures.Future[Any]) -> None:
    if cf.done():
        return
    if task.cancelled():
        cf.cancel()
    elif task.exception() is not None:
        cf.set_exception(task.exception())  # type: ignore[arg-type]
    else:
        cf.set_result(task.result())
