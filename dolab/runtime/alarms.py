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
import logging
import math
import sqlite3
from typing import TYPE_CHECKING, Any

from dolab.runtime.database import object_files
from dolab.runtime.errors import StorageTypeError
from dolab.runtime.values import MAX_SAFE, JsDict, js_date
from dolab.runtime.wallclock import EPOCH

if TYPE_CHECKING:
    from dolab.runtime.engine import Engine
    from dolab.runtime.host import ObjectHost
    from dolab.runtime.namespace import DurableObjectNamespace

log = logging.getLogger("dolab")
RETRY_START = 2.0
MAX_RETRIES = 6


def to_ms(when: Any) -> int:
    """An alarm time as whole milliseconds since the Unix epoch, checked as workerd checks it.

    A ``datetime`` (naive means UTC) or a number of milliseconds; fractions are dropped, as a
    JavaScript ``Date`` drops them.
    """
    if isinstance(when, _dt.datetime):
        when = js_date(when).replace(tzinfo=_dt.UTC).timestamp() * 1000.0
    elif isinstance(when, bool) or not isinstance(when, (int, float)) or (
            isinstance(when, int) and not -MAX_SAFE <= when <= MAX_SAFE):
        # a BigInt, a string, a list...: not something a Date can be made of
        raise StorageTypeError(
            "Failed to execute 'setAlarm' on 'DurableObjectStorage': parameter 1 is not of type 'date'."
        )
    if math.isnan(when) or math.isinf(when):
        raise StorageTypeError("The value cannot be converted because it is not a valid Date.")
    if when <= 0:
        raise StorageTypeError("setAlarm() cannot be called with an alarm time <= 0")
    return int(when)


class AlarmScheduler:
    """Every object's pending alarm in one lab, with a timer for each (lab thread only)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.timers: dict[tuple[str, bytes], asyncio.TimerHandle] = {}
        self.retries: dict[tuple[str, bytes], int] = {}
        # While a retry is pending, getAlarm() shows the time first scheduled (as workerd does):
        # key -> (the retry's stored time, the original time).
        self.shown: dict[tuple[str, bytes], tuple[float, float]] = {}
        self.log: list[dict[str, Any]] = []

    def lab_time(self, ms: float) -> float:
        """When an alarm for ``ms`` fires on the lab clock: then, or a millisecond from now if that
        has passed. (An alarm re-armed in the past by its own handler would otherwise fire again
        at the same instant for ever, and the clock would never move on.)"""
        now = self.engine.now
        due = ms / 1000.0 - EPOCH
        soonest = now + 0.001  # (ms -> seconds is inexact: "now" in ms can land a hair after now)
        return due if due >= soonest else soonest

    def shown_time(self, host: ObjectHost) -> int | None:
        """What ``getAlarm()`` returns: the stored time, or during a retry the original one."""
        ms = host.alarm_ms()
        if ms is None:
            return None
        shown = self.shown.get((host.ns.binding, host.raw))
        return int(shown[1] if shown is not None and shown[0] == ms else ms)

    def now_ms(self) -> float:
        return (EPOCH + self.engine.now) * 1000.0

    def update(self, ns: DurableObjectNamespace, raw: bytes, ms: float | None) -> None:
        """The committed alarm of one object changed (``None``: deleted)."""
        key = (ns.binding, raw)
        old = self.timers.pop(key, None)
        if old is not None:
            old.cancel()
        shown = self.shown.get(key)
        if shown is not None and shown[0] != ms:  # the object set or deleted an alarm itself
            del self.shown[key]
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
        scheduled = host.alarm_ms() or self.now_ms()  # the time this delivery was set for
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
                self.shown.pop(key, None)
                self._record(ns, raw, self.engine.now, retry, "abandoned after 6 retries")
                return
            self.retries[key] = retry + 1
            if host.alarm_ms() is None:  # the handler did not set a new alarm: retry this one
                delay = RETRY_START * 2**retry * (1 + 0.25 * self.engine.rng.random())
                retry_ms = float(int(self.now_ms() + delay * 1000.0))
                original = self.shown.get(key, (0.0, scheduled))[1]
                host.set_alarm_row(retry_ms)
                host.commit()
                self.shown[key] = (retry_ms, original)
            return
        self.retries.pop(key, None)
        self.shown.pop(key, None)
        self._record(ns, raw, started, retry, "ok")

    def _record(self, ns: DurableObjectNamespace, raw: bytes, at: float, retry: int, outcome: str) -> None:
        self.log.append({"binding": ns.binding, "id": raw.hex(), "at": at, "retryCount": retry, "outcome": outcome})

    def rearm_from_disk(self, ns: DurableObjectNamespace) -> None:
        """Persist mode: arm the alarms stored in the files of a namespace (after a restart)."""
        persist = self.engine.persist
        folder = None if persist is None else persist / ns.folder
        if folder is None or not folder.is_dir():
            return
        for path in object_files(folder):
            try:
                conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
                try:
                    has = conn.execute("SELECT 1 FROM sqlite_master WHERE name = '_cf_METADATA'").fetchone()
                    row = conn.execute("SELECT value FROM _cf_METADATA WHERE key = 'alarm'").fetchone() if has else None
                finally:
                    conn.close()
            except sqlite3.Error as exc:  # a damaged file: say which, and arm the others
                log.warning("persist folder: %s could not be read (%s); its alarm is not armed", path, exc)
                continue
            if row is not None:
                self.update(ns, bytes.fromhex(path.stem), float(row[0]))


def has_alarm_handler(host: ObjectHost) -> bool:
    return callable(getattr(host.ns.cls, "alarm", None))
