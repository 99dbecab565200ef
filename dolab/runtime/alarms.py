"""Alarms: one per object, on the lab's clock, delivered at least once with retries (runtime layer).

``ctx.storage.setAlarm(when)`` writes the alarm time into the object's own database (so it
commits or rolls back with the writes around it, and survives eviction and, in persist mode,
restarts). Once committed, the lab's :class:`AlarmScheduler` arms a timer. When it fires, the
object is constructed if needed and its ``alarm(alarm_info)`` handler runs as one event. If the
handler raises, the alarm is retried after 2 s, 4 s, 8 s, ... (x2 each time, plus 0-25 % jitter
from the lab's seed), at most 6 times, as workerd does. An alarm never repeats by itself: a
handler that wants another one sets it.
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime as _dt
import sqlite3
from typing import TYPE_CHECKING, Any

from dolab.runtime.errors import StorageTypeError
from dolab.runtime.values import JsDict

if TYPE_CHECKING:
    from dolab.runtime.engine import Engine
    from dolab.runtime.host import ObjectHost
    from dolab.runtime.namespace import DurableObjectNamespace

#: The lab clock's second 0 is this moment (Unix seconds): 2026-01-01T00:00:00Z.
EPOCH = 1_767_225_600.0
RETRY_START = 2.0
MAX_RETRIES = 6


def to_ms(when: Any) -> float:
    """An alarm time as milliseconds since the Unix epoch, checked as Cloudflare checks it."""
    if isinstance(when, _dt.datetime):
        if when.tzinfo is None:
            when = when.replace(tzinfo=_dt.UTC)
        return float(when.timestamp() * 1000.0)
    if isinstance(when, bool) or not isinstance(when, (int, float)):
        raise StorageTypeError(
            f"setAlarm() needs a datetime or milliseconds since the epoch, got {type(when).__name__}: {when!r:.60}"
        )
    if when <= 0 or when != when:
        raise StorageTypeError(f"setAlarm() time must be a positive number of milliseconds, got {when!r}")
    return float(when)


class AlarmScheduler:
    """Every object's pending alarm in one lab, with a timer for each (lab thread only)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.timers: dict[tuple[str, bytes], asyncio.TimerHandle] = {}
        self.retries: dict[tuple[str, bytes], int] = {}
        self.log: list[dict[str, Any]] = []

    def lab_time(self, ms: float) -> float:
        return max(self.engine.now, ms / 1000.0 - EPOCH)

    def now_ms(self) -> float:
        return (EPOCH + self.engine.now) * 1000.0

    def update(self, ns: DurableObjectNamespace, raw: bytes, ms: float | None) -> None:
        """The committed alarm of one object changed (``None``: deleted)."""
        key = (ns.binding, raw)
        old = self.timers.pop(key, None)
        if old is not None:
            old.cancel()
        if ms is not None:
            loop = self.engine.loop
            # A fresh context: the alarm belongs to no caller (and to no object's own tasks, which
            # die when it hibernates).
            self.timers[key] = loop.call_at(self.lab_time(ms), self._fire, ns, raw, context=contextvars.Context())

    def _fire(self, ns: DurableObjectNamespace, raw: bytes) -> None:
        self.timers.pop((ns.binding, raw), None)
        self.engine.loop.create_task(self.deliver(ns, raw), context=contextvars.Context())

    async def deliver(self, ns: DurableObjectNamespace, raw: bytes) -> None:
        """Run one alarm: the handler as an event; on failure, schedule a retry."""
        key = (ns.binding, raw)
        host = ns.host_by_raw(raw)
        retry = self.retries.get(key, 0)
        info = JsDict(retryCount=retry, isRetry=retry > 0)
        started = self.engine.now
        self.engine.counters.requests += 1
        try:
            await host.call("alarm", "alarm", info, None)
        except BaseException as exc:  # noqa: BLE001 - every failure is retried, as on Cloudflare
            if isinstance(exc, asyncio.CancelledError):
                raise
            self._record(ns, raw, started, retry, f"{type(exc).__name__}: {exc}")
            if retry >= MAX_RETRIES:
                self.retries.pop(key, None)
                self._record(ns, raw, self.engine.now, retry, "abandoned after 6 retries")
                return
            self.retries[key] = retry + 1
            if host.alarm_ms() is None:  # the handler did not set a new alarm: retry this one
                delay = RETRY_START * 2**retry * (1 + 0.25 * self.engine.rng.random())
                host.set_alarm_row(self.now_ms() + delay * 1000.0)
                host.commit()
            return
        self.retries.pop(key, None)
        self._record(ns, raw, started, retry, "ok")

    def _record(self, ns: DurableObjectNamespace, raw: bytes, at: float, retry: int, outcome: str) -> None:
        self.log.append({"binding": ns.binding, "id": raw.hex(), "at": at, "retryCount": retry, "outcome": outcome})

    def rearm_from_disk(self, ns: DurableObjectNamespace) -> None:
        """Persist mode: arm the alarms stored in the files of a namespace (after a restart)."""
        persist = self.engine.persist
        folder = None if persist is None else persist / ns.folder
        if folder is None or not folder.is_dir():
            return
        for path in sorted(folder.glob("*.sqlite")):
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                row = conn.execute("SELECT value FROM _cf_METADATA WHERE key = 'alarm'").fetchone()
            except sqlite3.Error:
                row = None
            finally:
                conn.close()
            if row is not None:
                self.update(ns, bytes.fromhex(path.stem), float(row[0]))


def has_alarm_handler(host: ObjectHost) -> bool:
    return callable(getattr(host.ns.cls, "alarm", None))
