"""``ctx.storage``: Cloudflare's asynchronous KV API over the object's SQLite database.

Every method does its work at once and returns an awaitable, as the Python Workers SDK does (so
an un-awaited ``put`` still writes). Writes join the object's implicit transaction, which the
host commits at the next point where the object yields, and always before a reply leaves
(the output gate) unless every write of it asked for ``allowUnconfirmed``. Bad input raises
before anything is written. Arguments are read as workerd reads them (:mod:`dolab.runtime.webidl`):
``put(1, "x")`` stores under the key ``"1"``, unknown option names are ignored, keyword arguments
are options.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Generator
from typing import TYPE_CHECKING, Any

from dolab.runtime import webidl
from dolab.runtime.alarms import has_alarm_handler, to_ms
from dolab.runtime.authorizer import MAX_LENGTH
from dolab.runtime.codec import decode, encode
from dolab.runtime.errors import ResetError, StorageError, StorageRangeError, StorageTypeError
from dolab.runtime.sql import SqlStorage
from dolab.runtime.synckv import SyncKvStorage
from dolab.runtime.transaction import DurableObjectTransaction
from dolab.runtime.values import JsDict, short, to_wire
from dolab.runtime.webidl import MISSING

if TYPE_CHECKING:
    from dolab.runtime.host import ObjectHost

MAX_KEYS = 128
PUT_FORMS = (
    "put() may only be called with a single key-value pair and optional options as put(key, value, options) "
    "or with multiple key-value pairs and optional options as put(entries, options)"
)
_ENTRIES = (dict, bytes, memoryview, set)  # JavaScript objects: put() reads them as entries


class StorageResult:
    """An awaitable holding a result that is already there.

    With a storage latency configured (simulation), awaiting it takes that long on the virtual
    clock and holds the object's input gate meanwhile, as a real storage read does.
    """

    __slots__ = ("_host", "_hold", "_value")

    def __init__(self, value: Any, host: ObjectHost | None = None, hold: bool = True) -> None:
        self._value = value
        self._host = host
        self._hold = hold

    def __await__(self) -> Generator[Any, None, Any]:
        host = self._host
        if host is not None and host.engine.storage_latency > 0:
            yield from host.storage_delay(self._hold).__await__()
        return self._value


_DONE = StorageResult(None)  # the answer of every write when storage takes no simulated time


def _check_keys(keys: list[Any], method: str) -> list[str]:
    if len(keys) > MAX_KEYS:
        raise StorageRangeError(f"Maximum number of keys is {MAX_KEYS}. ({method}() got {len(keys)})")
    return [webidl.key(k) for k in keys]


def _encode(key: str, value: Any) -> bytes:
    blob = encode(to_wire(value, "RPC"))
    size = (len(key) if key.isascii() else len(key.encode())) + len(blob)
    if size > MAX_LENGTH:
        raise StorageRangeError(
            f"string or blob too big: SQLITE_TOOBIG (key {short(key, 40)} + value = {size:,} bytes; "
            f"a SQLite-backed Durable Object allows key + value <= {MAX_LENGTH:,} bytes)"
        )
    return blob


def _after(prefix: str) -> str | None:
    """The smallest string greater than every string that starts with ``prefix``."""
    chars = list(prefix)
    while chars:
        code = ord(chars[-1]) + 1
        if code == 0xD800:
            code = 0xE000  # surrogates cannot be stored; skip over them
        if code <= 0x10FFFF:
            chars[-1] = chr(code)
            return "".join(chars)
        chars.pop()
    return None


class DurableObjectStorage:
    """``ctx.storage`` of one object instance."""

    def __init__(self, host: ObjectHost, generation: int) -> None:
        self._host = host
        self._generation = generation

    # Made on first use: each points back at this storage, and a cycle per activation left for the
    # garbage collector costs a KV-only object more than the object itself.
    @functools.cached_property
    def sql(self) -> SqlStorage:
        """``ctx.storage.sql``."""
        return SqlStorage(self)

    @functools.cached_property
    def kv(self) -> SyncKvStorage:
        """``ctx.storage.kv``."""
        return SyncKvStorage(self)

    def _live(self) -> ObjectHost:
        host = self._host
        if host.generation != self._generation:
            raise ResetError(
                "Durable Object storage used by an instance that was reset or evicted; "
                "in-memory state of that instance is gone (storage is intact)"
            )
        return host

    # -- reads -----------------------------------------------------------------------------------

    def get(self, keys: Any = MISSING, options: Any = MISSING, **more: Any) -> StorageResult:
        """One key → value or ``None``; a list of keys → ``dict`` of found keys in key order."""
        if keys is MISSING:
            raise webidl.not_of_type("get", 1, "string or Array")
        opts = webidl.options(options, more, "get", 2)
        host = self._live()
        hold = not webidl.truthy(opts.get("allowConcurrency"))
        if isinstance(keys, list):
            wanted = sorted(set(_check_keys(keys, "get")))
            found = JsDict()
            for key in wanted:
                blob = host.database().kv_read(key)
                if blob is not None:
                    found[key] = decode(blob)
            host.count_rows(max(1, len(wanted)), 0)
            return StorageResult(found, host, hold)
        blob = host.database().kv_read(webidl.key(keys))
        host.count_rows(1, 0)
        return StorageResult(None if blob is None else decode(blob), host, hold)

    def list(self, options: Any = MISSING, **more: Any) -> StorageResult:
        """Pairs in UTF-8 byte order of keys, narrowed by start/startAfter/end/prefix/limit."""
        opts = webidl.options(options, more, "list", 1)
        bounds = {n: webidl.string_option(opts[n]) for n in ("start", "startAfter", "end", "prefix") if n in opts}
        if "start" in bounds and "startAfter" in bounds:
            raise StorageTypeError("list() cannot be called with both start and startAfter values.")
        limit = webidl.list_limit(opts["limit"]) if opts.get("limit", MISSING) is not MISSING else None
        where: list[str] = []
        args: list[Any] = []
        for name, test in (("start", "key >= ?"), ("startAfter", "key > ?"), ("end", "key < ?")):
            if name in bounds:
                where.append(test)
                args.append(bounds[name])
        prefix = bounds.get("prefix")
        if prefix:
            where.append("key >= ?")
            args.append(prefix)
            upper = _after(prefix)
            if upper is not None:
                where.append("key < ?")
                args.append(upper)
        host = self._live()
        pairs = host.database().kv_list(where, args, webidl.truthy(opts.get("reverse")), limit)
        result = JsDict((k, decode(v)) for k, v in pairs)
        host.count_rows(max(1, len(result)), 0)
        return StorageResult(result, host, not webidl.truthy(opts.get("allowConcurrency")))

    # -- writes ----------------------------------------------------------------------------------

    def put(self, key: Any = MISSING, value: Any = MISSING, options: Any = MISSING, **more: Any) -> StorageResult:
        """``put(key, value)`` or ``put({key: value, ...})``; several pairs are written atomically."""
        if key is MISSING or key is None and value is MISSING:
            raise webidl.not_of_type("put", 1, "string or object")
        if isinstance(key, _ENTRIES):
            if value is not MISSING and value is not None and not isinstance(value, dict):
                raise StorageTypeError(PUT_FORMS)
            opts = webidl.options(value, more, "put", 2)
            entries = key if isinstance(key, dict) else {}
            keys = _check_keys(list(entries), "put")
            encoded = [(k, _encode(k, v)) for k, v in zip(keys, entries.values(), strict=True)]
        else:
            opts = webidl.options(options, more, "put", 3)
            if value is MISSING:
                raise StorageTypeError("put() called with undefined value.")
            checked = webidl.key(key)
            encoded = [(checked, _encode(checked, value))]
        host = self._host
        if host.generation != self._generation:
            self._live()  # raises the reset error
        if encoded:
            (host.db or host.database()).kv_write(encoded)
            host.note_write(opts)
        host.count_rows(0, len(encoded))
        # A put goes to the object's write buffer: its promise resolves at once on Cloudflare,
        # even when storage is slow; the output gate, not the caller, waits for the disk.
        return _DONE

    def delete(self, keys: Any = MISSING, options: Any = MISSING, **more: Any) -> StorageResult:
        """One key → ``True`` if it existed; a list of keys → how many existed."""
        if keys is MISSING:
            raise webidl.not_of_type("delete", 1, "string or Array")
        opts = webidl.options(options, more, "delete", 2)
        if isinstance(keys, list):
            checked = _check_keys(keys, "delete")
            host = self._live()
            count = host.database().kv_delete(sorted(set(checked)))
            host.note_write(opts)
            host.count_rows(0, max(1, count))
            return StorageResult(count, host)
        host = self._live()
        existed = host.database().kv_delete([webidl.key(keys)]) == 1
        host.note_write(opts)
        host.count_rows(0, 1)
        return StorageResult(existed, host)

    def deleteAll(self, options: Any = MISSING, **more: Any) -> StorageResult:
        """Delete every KV pair and every SQL table: the object's storage becomes empty."""
        opts = webidl.options(options, more, "deleteAll", 1)
        host = self._live()
        if host.txn_depth:
            raise StorageError("Cannot call deleteAll() within a transaction")
        host.database().delete_all()
        host.note_write(opts)
        host.alarm_dirty = True  # deleteAll deletes the alarm too (compatibility date >= 2026-02-24)
        return StorageResult(None, host)

    def sync(self) -> StorageResult:
        """Resolves when earlier writes are durable; dolab commits them now."""
        host = self._live()
        host.commit()
        return StorageResult(None, host)

    # -- transactions ----------------------------------------------------------------------------

    def transactionSync(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn()`` (a plain function) atomically; if it raises, its writes are rolled back."""
        if not callable(fn):
            raise StorageTypeError(f"transactionSync() needs a function, got {type(fn).__name__}")
        host = self._live()
        with host.savepoint():
            result = fn()
            if hasattr(result, "__await__"):
                if hasattr(result, "close"):
                    result.close()
                raise StorageTypeError(
                    "transactionSync() callback must be synchronous; it returned an awaitable. "
                    "Use `await ctx.storage.transaction(fn)` for async code."
                )
        return result

    async def transaction(self, closure: Callable[[Any], Awaitable[Any]]) -> Any:
        """Run ``await closure(txn)`` atomically, with no other event delivered meanwhile."""
        if not callable(closure):
            raise StorageTypeError(f"transaction() needs an async function, got {type(closure).__name__}")
        host = self._live()

        async def body() -> Any:
            txn = DurableObjectTransaction(self)
            with host.savepoint(txn):
                try:
                    return await closure(txn)
                finally:
                    txn._done = True

        return await host.block_concurrency_while(body, reset_on_error=False)

    # -- the alarm ---------------------------------------------------------------------------------

    def setAlarm(self, when: Any = MISSING, options: Any = MISSING, **more: Any) -> StorageResult:
        """Set *the* alarm (one per object; a new time replaces the old): a datetime, or ms since
        the epoch. A time in the past is stored as now and fires at once. Committed with the
        writes around it."""
        opts = webidl.options(options, more, "setAlarm", 2)
        host = self._live()
        if not has_alarm_handler(host):
            raise StorageTypeError(
                "Your Durable Object class must have an alarm() handler in order to call setAlarm()"
            )
        ms = max(to_ms(None if when is MISSING else when), int(host.engine.time_ms))
        host.set_alarm_row(ms)
        host.note_write(opts)
        host.count_rows(0, 1)
        return StorageResult(None, host)

    def getAlarm(self, options: Any = MISSING, **more: Any) -> StorageResult:
        """The alarm time in whole ms since the epoch, or ``None``."""
        webidl.options(options, more, "getAlarm", 1)
        host = self._live()
        value = host.engine.alarms.shown_time(host) if has_alarm_handler(host) else None
        return StorageResult(value, host)

    def deleteAlarm(self, options: Any = MISSING, **more: Any) -> StorageResult:
        """Remove the alarm (a handler already running is not stopped)."""
        opts = webidl.options(options, more, "deleteAlarm", 1)
        host = self._live()
        host.delete_alarm_row()
        host.note_write(opts)
        return StorageResult(None, host)

    def __repr__(self) -> str:
        return f"<DurableObjectStorage of {self._host.id!r}>"
