"""``time.time()`` inside a lab reads the lab's clock.

On Cloudflare, ``Date.now()`` (and so Python's ``time.time()`` in a Python Worker) is the time of
the last I/O: it does not move while code computes. In a lab the equivalent is the virtual clock,
so object code asks for the time the portable way, ``time.time()`` (for a ``datetime``:
``datetime.fromtimestamp(time.time(), UTC)``), instead of using a helper the notebook would have
to put on ``env``.

How: dolab replaces ``time.time`` and ``time.time_ns`` with versions that ask, on the calling
thread, whether it is a lab's thread. Elsewhere (a notebook cell, another library) they answer
exactly as before. ``datetime.now()`` is C code that reads the system clock directly, and cannot
be redirected without breaking C extensions such as pandas: in a lab it still says the machine's
time (the README lists this difference). ``time.monotonic()`` and ``perf_counter()`` are left
alone: asyncio and timing code rely on them.
"""

from __future__ import annotations

import threading
import time as _time_module
from collections.abc import Callable

EPOCH = 1_767_225_600.0  # the lab clock's second 0, in Unix seconds: 2026-01-01T00:00:00Z

_local = threading.local()
_real_time = _time_module.time
_real_time_ns = _time_module.time_ns


def bind_thread(now: Callable[[], float]) -> None:
    """Make the calling thread (a lab's loop thread) read ``now()`` as seconds since EPOCH."""
    _local.now = now


def lab_time() -> float | None:
    """Unix seconds on this thread's lab clock, or ``None`` when this is not a lab's thread."""
    now = getattr(_local, "now", None)
    return None if now is None else EPOCH + now()


def _time() -> float:
    t = lab_time()
    return _real_time() if t is None else t


def _time_ns() -> int:
    t = lab_time()
    return _real_time_ns() if t is None else int(t * 1_000_000_000)


def install() -> None:
    """Put the lab-aware ``time.time`` and ``time.time_ns`` in place (once)."""
    if _time_module.time is not _time:
        _time_module.time = _time
        _time_module.time_ns = _time_ns


install()
