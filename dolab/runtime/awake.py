"""Why an object is still awake: what keeps it from hibernating, and where that was started.

On Cloudflare an idle object hibernates only if nothing it started is pending: no timer
(``setTimeout``/``setInterval``; in Python an ``asyncio`` task or sleep), no ``waitUntil`` work,
no WebSocket accepted with the standard API (``ws.accept()`` rather than ``ctx.acceptWebSocket``),
no event in progress. One forgotten timer, a library's keepalive say, keeps the object in memory
and billed around the clock, and Cloudflare offers no way to see which. The lab can:
``lab.why_awake(stub)`` lists each blocker with the line of code that started it.

The lab's task factory calls :func:`remember` for every task object code creates, noting the
first frame outside asyncio and dolab's runtime: the learner's own line.
"""

from __future__ import annotations

import asyncio
import functools
import linecache
import os
import sys
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from types import FrameType

    from dolab.runtime.host import ObjectHost

_RUNTIME = os.path.dirname(os.path.abspath(__file__))  # dolab's runtime: never the learner's line
_ASYNCIO = os.path.dirname(os.path.abspath(asyncio.__file__))
_origins: weakref.WeakKeyDictionary[asyncio.Task[Any], str] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Blocker:
    """One thing keeping an object awake: ``kind``, ``what`` it is and ``where`` it began."""

    kind: str  # "task", "waitUntil", "websocket" or "event"
    what: str
    where: str = ""

    def __str__(self) -> str:
        return f"{self.kind}: {self.what}" + (f" (started at {self.where})" if self.where else "")


@functools.lru_cache(maxsize=4096)
def _inside(filename: str) -> bool:
    """Whether code from ``filename`` is asyncio's or the runtime's (cached: this runs per task)."""
    return os.path.abspath(filename).startswith((_RUNTIME, _ASYNCIO))


def remember(task: asyncio.Task[Any]) -> None:
    """Note where object code started ``task`` (the first frame outside asyncio and the runtime)."""
    frame: FrameType | None = sys._getframe(2)
    while frame is not None:
        if not _inside(frame.f_code.co_filename):
            line = linecache.getline(frame.f_code.co_filename, frame.f_lineno, frame.f_globals).strip()
            place = f"{_place(frame.f_code.co_filename, frame.f_lineno)} in {frame.f_code.co_name}"
            _origins[task] = place + (f": {line}" if line else "")
            return
        frame = frame.f_back


def _place(path: str, line: int) -> str:
    """``file.py:12``, or for code typed in a notebook ``a notebook cell, line 12``: Jupyter's kernel
    keeps a cell's code in a file named after a hash (ipykernel_<pid>/<hash>.py), meaningless to a reader."""
    if os.path.basename(os.path.dirname(path)).startswith("ipykernel_"):
        return f"a notebook cell, line {line}"
    return f"{os.path.basename(path)}:{line}"


def _coroutine_name(task: asyncio.Task[Any]) -> str:
    coro = task.get_coro()
    name = getattr(coro, "__qualname__", None) or type(coro).__name__
    return f"{name}()"


def blockers(host: ObjectHost) -> list[Blocker]:
    """What keeps ``host`` from hibernating now (empty: nothing; it hibernates once idle)."""
    found = []
    if host.inflight:
        found.append(Blocker("event", f"{host.inflight} event(s) in progress or waiting at the input gate"))
    waiting = set(host.pending)
    for task in sorted(host.background, key=lambda t: _origins.get(t, "")):
        kind = "waitUntil" if task in waiting else "task"
        found.append(Blocker(kind, f"{_coroutine_name(task)} still pending", _origins.get(task, "")))
    if host.standard_sockets:
        found.append(Blocker("websocket", f"{len(host.standard_sockets)} WebSocket(s) accepted with ws.accept(); "
                                          "use ctx.acceptWebSocket(ws) to let the object hibernate"))
    return found
