"""``time.time()`` and ``datetime.now()`` inside a lab read the lab's clock.

On Cloudflare, ``Date.now()`` (and so Python's ``time.time()`` and ``datetime.now()`` in a Python
Worker) is the time of the last I/O: it does not move while code computes. In a lab the equivalent
is the virtual clock, so object code asks for the time the portable way, ``time.time()`` or
``datetime.now(UTC)``, instead of using a helper the notebook would have to put on ``env``.

How: dolab replaces ``time.time`` and ``time.time_ns`` with versions that ask, on the calling
thread, whether it is a lab's thread. Elsewhere (a notebook cell, another library) they answer
exactly as before. ``datetime.now()`` is C code that reads the system clock directly; replacing it
in the ``datetime`` module itself breaks C extensions such as pandas. So, instead, the module that
defines a Durable Object or Worker class gets lab-aware stand-ins for the names it bound to
``datetime`` (the module), ``datetime.datetime`` and ``datetime.date`` (:func:`adopt`): their
``now()``, ``today()`` and ``utcnow()`` read the lab clock on a lab's thread and the machine's
clock elsewhere; everything else is the real thing, and the values they make are real
``datetime`` objects. ``time.monotonic()`` and ``perf_counter()`` are left alone: asyncio and
timing code rely on them.
"""

from __future__ import annotations

import builtins
import datetime as _dt
import sys
import threading
import time as _time_module
import types
from collections.abc import Callable
from typing import Any

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


class _StandIn(type):
    """The metaclass of the stand-ins: ``isinstance(x, datetime)`` still means the real class."""

    real: type

    def __instancecheck__(cls, obj: object) -> bool:
        return isinstance(obj, cls.real)

    def __subclasscheck__(cls, sub: type) -> bool:
        return issubclass(sub, cls.real)


class LabDatetime(_dt.datetime, metaclass=_StandIn):
    """``datetime.datetime`` whose ``now()``, ``today()`` and ``utcnow()`` follow the lab clock on a
    lab's thread; constructors and every other method make real ``datetime`` objects."""

    real = _dt.datetime

    def __new__(cls, *args: Any, **kwargs: Any) -> _dt.datetime:  # type: ignore[misc]
        return _dt.datetime(*args, **kwargs)

    @classmethod
    def now(cls, tz: _dt.tzinfo | None = None) -> _dt.datetime:  # type: ignore[override]
        t = lab_time()
        if t is None:
            return _dt.datetime.now(tz)
        if tz is None:  # a Worker's local time zone is UTC
            return _dt.datetime.fromtimestamp(t, _dt.UTC).replace(tzinfo=None)
        return _dt.datetime.fromtimestamp(t, tz)

    @classmethod
    def today(cls) -> _dt.datetime:  # type: ignore[override]
        return cls.now()

    @classmethod
    def utcnow(cls) -> _dt.datetime:  # type: ignore[override]
        return cls.now(_dt.UTC).replace(tzinfo=None)


class LabDate(_dt.date, metaclass=_StandIn):
    """``datetime.date`` whose ``today()`` follows the lab clock on a lab's thread."""

    real = _dt.date

    def __new__(cls, *args: Any, **kwargs: Any) -> _dt.date:  # type: ignore[misc]
        return _dt.date(*args, **kwargs)

    @classmethod
    def today(cls) -> _dt.date:  # type: ignore[override]
        return LabDatetime.now().date()


class _LabDatetimeModule(types.ModuleType):
    """The ``datetime`` module with the two stand-ins; every other name is the module's own."""

    def __getattr__(self, name: str) -> Any:
        return getattr(_dt, name)


lab_datetime_module = _LabDatetimeModule("datetime", _dt.__doc__)
lab_datetime_module.datetime = LabDatetime  # type: ignore[attr-defined]
lab_datetime_module.date = LabDate  # type: ignore[attr-defined]
_STAND_INS: dict[int, object] = {id(_dt): lab_datetime_module, id(_dt.datetime): LabDatetime, id(_dt.date): LabDate}
STAND_INS = _STAND_INS  # read on every call by the host (needs_adopting, inlined)


_adopted: set[int] = set()  # ids of the namespaces of modules that define a lab's classes
_real_import = builtins.__import__


def _import(name: str, globals: Any = None, *args: Any, **kwargs: Any) -> Any:  # noqa: A002 - __import__'s own name
    """``import datetime`` inside a function of an adopted module, on a lab's thread, gets the
    stand-in module too (an import in a method binds a local name that adopt() cannot see)."""
    if name == "datetime" and globals is not None and id(globals) in _adopted and lab_time() is not None:
        return lab_datetime_module
    return _real_import(name, globals, *args, **kwargs)


def adopt(cls: type) -> dict[str, Any]:
    """Give the module defining ``cls`` lab-aware ``datetime`` names (see the module docstring);
    returns that module's names (empty if the module is unknown)."""
    module = sys.modules.get(cls.__module__)
    if module is None:
        return {}
    names = vars(module)
    _adopted.add(id(names))
    for name, value in list(names.items()):
        stand_in = _STAND_INS.get(id(value))
        if stand_in is not None:
            names[name] = stand_in
    return names


def needs_adopting(names: dict[str, Any]) -> bool:
    """Whether a module's usual ``datetime`` names are the real ones again (a cell imported
    ``datetime`` after the class was bound); two lookups, cheap enough for every call."""
    return id(names.get("datetime")) in _STAND_INS or id(names.get("date")) in _STAND_INS


def install() -> None:
    """Put the lab-aware ``time.time`` and ``time.time_ns`` in place (once)."""
    if _time_module.time is not _time:
        _time_module.time = _time
        _time_module.time_ns = _time_ns
    if builtins.__import__ is not _import:
        builtins.__import__ = _import


install()
