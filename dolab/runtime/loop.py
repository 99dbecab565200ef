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

Serving real clients (``lab.run_real_time``, which ``dolab serve`` uses) is the exception: while it
runs, the clock follows the wall clock, so a browser waiting 10 s sees its object hibernate after 10 s.
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
from time import monotonic as _monotonic
from typing import Any

from dolab.runtime import wallclock
from dolab.runtime.errors import ConfigError, LabStateError


class _VirtualSelector:
    """Wraps the real selector; turns 'sleep until the next timer' into a jump of the clock."""

    def __init__(self, real: selectors.BaseSelector, loop: VirtualLoop) -> None:
        self._real = real
        self._loop = loop

    def select(self, timeout: float | None = None) -> list[Any]:
        if timeout is not None and timeout <= 0:
            return self._real.select(0)
        loop = self._loop
        if loop.realtime:
            return self._real.select(timeout)
        scheduled = loop._scheduled  # type: ignore[attr-defined]
        if loop.drives > 0 and scheduled:
            # Jump without polling: work handed over from another thread lands in the ready
            # queue first (call_soon_threadsafe), and a non-empty ready queue never gets here.
            # asyncio drops cancelled handles from the head before it calls select().
            when = scheduled[0]._when
            if when > loop.vnow:
                loop.vnow = when
            return []
        if loop.drives > 0:
            # Someone waits on the lab, yet nothing is ready and no timer is set: only another
            # thread can still hand work over. Give it a moment; after that it is a deadlock.
            events = self._real.select(loop.deadlock_after)
            if not events and not loop._ready and not loop._scheduled and loop.drives > 0:  # type: ignore[attr-defined]
                loop.on_deadlock()
            return events
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
        self.realtime = False  # serving: the clock follows the wall clock instead of jumping
        self.real_time_sessions = 0  # LoopThread.real_time() calls running now
        self._real_origin = (0.0, 0.0)  # (lab time, monotonic time) when real time began
        self.deadlock_after = 1.0  # wall seconds with nothing to do while someone waits
        self.on_deadlock: Callable[[], None] = lambda: None
        self._timer_seq = itertools.count()
        self._compact_at = 4096  # ready-queue length at which drop_cancelled() looks
        self._selector = _VirtualSelector(self._selector, self)  # type: ignore[has-type,arg-type]

    def drop_cancelled(self) -> None:
        """Take cancelled callbacks out of the ready queue once it is long (amortised O(1)).

        Code that awaits object calls in a tight loop never lets the loop run, and each object it
        wakes leaves a cancelled commit callback queued; each holds a copy of the context it was
        scheduled in, which names the object's host. A million of them would keep a million hosts.
        """
        ready = self._ready  # type: ignore[attr-defined]
        if len(ready) > self._compact_at:
            kept = collections.deque(h for h in ready if not h._cancelled)
            ready.clear()
            ready.extend(kept)  # the same deque, in the same order: asyncio holds it by name
            self._compact_at = max(4096, 2 * len(ready))

    def time(self) -> float:
        if self.realtime:
            start, wall = self._real_origin
            now = start + (_monotonic() - wall)
            if now > self.vnow:
                self.vnow = now
        return self.vnow

    def advance_to(self, when: float) -> None:
        """Move the clock forward to ``when`` (never back); used when a lab resumes a folder's clock."""
        if when > self.vnow:
            self.vnow = when
            self._real_origin = (self.vnow, _monotonic())

    def set_realtime(self, on: bool) -> None:
        """Let the clock follow the wall clock (serving real requests) or jump again (lessons).
        Either way it goes on from where it is and never runs backwards."""
        self._real_origin = (self.vnow, _monotonic())
        self.realtime = on

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
        if self.drives <= 0 or self.realtime or self._debug:  # type: ignore[attr-defined]
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
        ulp = math.ulp
        for _ in range(64):
            vnow = self.vnow
            end_time = vnow + max(1e-9, 2 * ulp(vnow))  # self._clock_resolution, inlined
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


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


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
        self.pending: set[concurrent.futures.Future[Any]] = set()  # calls handed over, not yet answered
        self.drive_tasks: set[asyncio.Task[Any]] = set()
        self.failure: BaseException | None = None  # what the lab's calls fail with (a deadlock)
        self.crashes: list[BaseException] = []  # what escaped the loop (the loop was restarted)
        self.closed = False
        self.watchdog: Any = None
        self.loop.on_deadlock = self._fail_drives
        self._thread = threading.Thread(target=self._main, name="dolab-lab", daemon=True)
        self._thread.start()
        self._ident = self._thread.ident

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        loop = self.loop
        wallclock.bind_thread(lambda: loop.vnow)  # time.time() on this thread is the lab's clock
        while not self.closed:
            try:
                loop.run_forever()
            except BaseException as exc:  # noqa: BLE001 - e.g. an interrupt that landed between callbacks
                # The loop itself is intact (asyncio restores its state on the way out); a lab must
                # never die with calls waiting on it, so it goes on.
                self.crashes.append(exc)
                continue
            if loop._stopping or self.closed:  # type: ignore[attr-defined]
                break

    def start_watchdog(self, host_code: Any, limit: float) -> None:
        """Stop object code that runs past ``limit`` CPU seconds per event (see watchdog.py)."""
        from dolab.runtime.watchdog import Watchdog

        self.watchdog = Watchdog(self._thread, host_code, limit)

    def _fail_drives(self) -> None:
        """A deadlock: every waiting call fails with the description the engine gives."""
        self.failure = LabStateError(self.describe_deadlock())
        for task in list(self.drive_tasks):
            task.cancel()

    def describe_deadlock(self) -> str:
        return "deadlock: a call waits on the lab, but nothing is ready to run and no timer is set"

    def on_lab_thread(self) -> bool:
        return threading.get_ident() == self._ident

    # -- handing work over -------------------------------------------------------------------

    def submit(self, coro: Coroutine[Any, Any, Any], defer: bool = False) -> concurrent.futures.Future[Any]:
        """Queue ``coro`` to run on the lab loop as a drive; return a thread-safe future."""
        if self.closed:
            coro.close()
            raise LabStateError("this lab is closed; create a new Lab()")
        cf: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self.pending.add(cf)
        cf.add_done_callback(self.pending.discard)
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
            self.drive_tasks.add(task)
            task.add_done_callback(self.drive_tasks.discard)
            task.add_done_callback(functools.partial(self._transfer, cf=cf))
            cf.add_done_callback(functools.partial(self._cancel_if_cancelled, task=task))

    def _transfer(self, task: asyncio.Task[Any], cf: concurrent.futures.Future[Any]) -> None:
        if cf.done():
            return
        if task.cancelled():
            if self.failure is not None:
                cf.set_exception(self.failure)
                if not self.drive_tasks - {task}:
                    self.failure = None  # every caller has been told
            else:
                cf.cancel()
        elif task.exception() is not None:
            cf.set_exception(task.exception())  # type: ignore[arg-type]
        else:
            cf.set_result(task.result())

    def _cancel_if_cancelled(self, cf: concurrent.futures.Future[Any], task: asyncio.Task[Any]) -> None:
        if cf.cancelled():
            if self.watchdog is not None:
                self.watchdog.request_interrupt(task)  # if object code is stuck, stop it
            self.loop.call_soon_threadsafe(task.cancel)

    async def sleep_until(self, when: float, relative: bool = False) -> None:
        """Wait on the lab clock until ``when`` (``now + when`` if ``relative``: measured here, on the
        lab thread, because a serving clock moves meanwhile). While serving, jump there at once."""
        loop = self.loop
        now = loop.time()
        when = now + when if relative else when
        if when < now:
            raise ConfigError(f"cannot run until t={when:g}: the clock already reads t={now:g}")
        if not loop.realtime:
            await asyncio.sleep(when - now)
            return
        # A jump, then the wall clock again. A timer set at `when` now fires after every timer due by
        # then (same-instant timers fire first-set-first), as asyncio.sleep's would on a virtual clock.
        loop.advance_to(when)
        done: asyncio.Future[None] = loop.create_future()
        loop.call_at(when, _resolve, done)
        await done

    async def real_time(self, main: Coroutine[Any, Any, Any]) -> Any:
        """Await ``main`` with the clock following the wall clock (serving real clients); nested or
        concurrent sessions keep it so until the last one ends."""
        loop = self.loop
        loop.real_time_sessions += 1
        if loop.real_time_sessions == 1:
            loop.set_realtime(True)
        try:
            return await main
        finally:
            loop.real_time_sessions -= 1
            if loop.real_time_sessions == 0:
                loop.set_realtime(False)

    async def drive(self, awaitable: Any) -> Any:
        """Await ``awaitable`` on the lab loop, letting the clock jump while it waits."""
        self.loop.drives += 1
        try:
            return await awaitable
        finally:
            self.loop.drives -= 1

    def close(self) -> None:
        """Stop the loop and its thread; every call still waiting fails with a clear error."""
        if self.closed:
            return
        self.closed = True
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=2)
        if self._thread.is_alive() and self.watchdog is not None:
            self.watchdog.request_interrupt(None)  # stuck in object code: stop it
            self.watchdog.interrupt_requested -= 1.0
            self._thread.join(timeout=3)
        if self.watchdog is not None:
            self.watchdog.stop()
        for cf in list(self.pending):
            if not cf.done():
                cf.set_exception(LabStateError("the lab was closed while this call was waiting for it"))
        while self._inbox:
            coro, cf, _ = self._inbox.popleft()
            coro.close()
        if not self._thread.is_alive():
            self.loop.close()
