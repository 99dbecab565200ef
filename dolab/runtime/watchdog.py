"""The CPU limit: object code that never yields is stopped, as Cloudflare stops it.

On Cloudflare an object gets 30 s of CPU per event; every incoming request, WebSocket message or
alarm tops the budget up again. Code that runs past it is stopped ("Durable Object exceeded its
CPU time limit and was reset.") and the object is reset. Python Workers see it as
``CpuLimitExceeded``, a ``BaseException``, so ``except Exception`` cannot swallow it.

dolab does the same on the lab's thread, without slowing the common path: a watchdog thread
looks 20 times a second at what the lab's thread is running (``sys._current_frames``). Time spent
inside an object's event is charged to that object's budget; when a budget runs out, the watchdog
raises :class:`CpuLimitExceeded` inside the lab's thread (``PyThreadState_SetAsyncExc``) and
interrupts the object's SQLite statement if one is running (``Connection.interrupt``), so an
endless ``while True`` or a recursive CTE both stop. Time is the lab thread's own CPU time where
the platform can measure it, wall time elsewhere. The same mechanism serves Ctrl-C in a notebook:
a call stuck in object code is interrupted rather than left to wedge the lab.
"""

from __future__ import annotations

import ctypes
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dolab.runtime.host import ObjectHost

CPU_LIMIT = 30.0
CPU_MESSAGE = "Durable Object exceeded its CPU time limit and was reset."
INTERRUPT_MESSAGE = "the call was interrupted (Ctrl-C) while the object's code was running; the object was reset."


class CpuLimitExceeded(BaseException):  # noqa: N818 - the Python Workers SDK's name
    """Raised inside object code that ran past its CPU budget (a ``BaseException``, as in Pyodide)."""


class Interrupted(CpuLimitExceeded):
    """Raised inside object code when the learner interrupted a call that was stuck in it."""


def _thread_clock(ident: int) -> Any:
    """A function giving the CPU seconds of thread ``ident``, or wall seconds if unavailable."""
    try:
        clock = time.pthread_getcpuclockid(ident)
        time.clock_gettime(clock)
        return lambda: time.clock_gettime(clock)
    except (AttributeError, OSError):
        return time.monotonic


PERIOD = 0.05  # seconds between two looks at every lab thread
_watched: set[Watchdog] = set()
_lock = threading.Lock()
_watcher: threading.Thread | None = None


def _watch_all() -> None:
    """One thread for the whole process looks at every lab's thread in turn."""
    while True:
        time.sleep(PERIOD)
        with _lock:
            dogs = list(_watched)
        for dog in dogs:
            dog.look()


class Watchdog:
    """Watches one lab thread (see the module docstring)."""

    def __init__(self, thread: threading.Thread, host_code: Any, limit: float = CPU_LIMIT) -> None:
        global _watcher
        self.thread = thread
        self.ident = thread.ident or 0
        self.host_code = host_code  # ObjectHost.call's code object: frames running an event
        self.limit = limit
        self.clock = _thread_clock(self.ident)
        self.last = self.clock()
        # when a Ctrl-C asked for a stuck call to be stopped, and that call's future
        self.interrupt_requested = 0.0
        self.interrupted_call: Any = None
        self.fired: list[tuple[str, str]] = []  # (object, what) for each interruption
        with _lock:
            _watched.add(self)
            if _watcher is None:
                _watcher = threading.Thread(target=_watch_all, name="dolab-watchdog", daemon=True)
                _watcher.start()

    def stop(self) -> None:
        with _lock:
            _watched.discard(self)

    def request_interrupt(self, call: Any) -> None:
        """Ctrl-C in the notebook: stop the object code the lab is stuck in, if it stays stuck.

        ``call`` is the interrupted call's future: once it is done the request lapses, so a
        later, innocent call is never stopped for an old Ctrl-C.
        """
        self.interrupted_call = call
        self.interrupt_requested = time.monotonic()

    def _current_host(self) -> ObjectHost | None:
        frame = sys._current_frames().get(self.ident)
        while frame is not None:
            if frame.f_code is self.host_code:
                host = frame.f_locals.get("self")
                return host  # type: ignore[no-any-return]
            frame = frame.f_back
        return None

    def look(self) -> None:
        """Charge the time since the last look to the object the lab's thread is running now."""
        if not self.thread.is_alive():
            self.stop()
            return
        try:
            now = self.clock()
        except OSError:  # the thread ended between the two checks
            self.stop()
            return
        spent, self.last = now - self.last, now
        host = self._current_host()
        if host is None:
            return
        host.cpu_used += spent
        call = self.interrupted_call
        if call is not None and call.done():
            self.interrupt_requested, self.interrupted_call = 0.0, None
        if self.interrupt_requested and time.monotonic() - self.interrupt_requested > 0.2:
            self.interrupt_requested, self.interrupted_call = 0.0, None
            self._stop(host, Interrupted)
        elif host.cpu_used > self.limit and not host.cpu_stopping:
            self._stop(host, CpuLimitExceeded)

    def _stop(self, host: ObjectHost, kind: type[CpuLimitExceeded]) -> None:
        host.cpu_stopping = True
        self.fired.append((host.describe(), kind.__name__))
        db = host.db
        if db is not None:
            try:
                db.interrupt()  # a statement running in SQLite stops with "interrupted"
            except Exception:  # noqa: BLE001 - the connection may be closing this very moment
                pass
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self.ident), ctypes.py_object(kind))
