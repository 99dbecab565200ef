"""``ctx.storage``: Cloudflare's asynchronous KV API over the object's SQLite database.

Every method does its work at once and returns an awaitable, as the Python Workers SDK does (so
an un-awaited ``put`` still writes). Writes join the object's implicit transaction, which the
host commits at the next point where the object yields, and always before a reply leaves
(the output gate). Bad input raises before anything is written.
"""

from __future__ import annotations

import pickle
from collections.abc import Awaitable, Callable, Generator
from typing import TYPE_CHECKING, Any

from dolab.runtime.alarms import has_alarm_handler, to_ms
from dolab.runtime.database import MAX_LENGTH
from dolab.runtime.errors import ResetError, StorageError, StorageRangeError, StorageTypeError
from dolab.runtime.sql import SqlStorage
from dolab.runtime.values import JsDict, as_js, short, to_storable

if TYPE_CHECKING:
    from dolab.runtime.host import ObjectHost

MAX_KEYS = 128
MAX_LIST_LIMIT = 2**53
_MISSING: Any = object()
_GET_OPTIONS = frozenset({"allowConcurrency", "noCache"})
_PUT_OPTIONS = frozenset({"allowConcurrency", "allowUnconfirmed", "noCache"})
_ALARM_OPTIONS = frozenset({"allowConcurrency", "allowUnconfirmed"})
_LIST_OPTIONS = frozenset(
    {"start", "startAfter", "end", "prefix", "reverse", "limit", "allowConcurrency", "noCache"}
)


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


def _check_options(options: Any, allowed: frozenset[str], method: str) -> dict[str, Any]:
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise StorageTypeError(
            f"{method}() options must be a dict such as {{'limit': 10}}, got {type(options).__name__}"
        )
    for name in options:
        if name not in allowed:
            raise StorageTypeError(
                f"{method}() got an unknown option {name!r}; allowed: {', '.join(sorted(allowed))}"
            )
    return options


def _check_key(key: Any, method: str) -> str:
    if type(key) is not str:
        raise StorageTypeError(f"{method}() keys must be str, got {type(key).__name__}: {short(key)}")
    if not key.isascii():  # ASCII is always valid UTF-8; only other keys need the check
        _check_utf8(key, f"{method}() key")
    return key


def _check_utf8(text: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise StorageTypeError(f"{what} {short(text)} is not valid UTF-8 (lone surrogate)") from None


def _check_keys(keys: list[Any], method: str) -> list[str]:
    if len(keys) > MAX_KEYS:
        raise StorageRangeError(f"Maximum number of keys is {MAX_KEYS}. ({method}() got {len(keys)})")
    return [_check_key(k, method) for k in keys]


def _encode(key: str, value: Any) -> bytes:
    blob = pickle.dumps(to_storable(value), protocol=5)
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
        self.sql = SqlStorage(self)

    def _live(self) -> ObjectHost:
        host = self._host
        if host.generation != self._generation:
            raise ResetError(
                "Durable Object storage used by an instance that was reset or evicted; "
                "in-memory state of that instance is gone (storage is intact)"
            )
        return host

    # -- reads -----------------------------------------------------------------------------------

    def get(self, keys: Any, options: dict[str, Any] | None = None) -> StorageResult:
        """One key → value or ``None``; a list of keys → ``dict`` of found keys in key order."""
        opts = _check_options(options, _GET_OPTIONS, "get")
        host = self._live()
        if isinstance(keys, list):
            wanted = sorted(set(_check_keys(keys, "get")))
            found = JsDict()
            for key in wanted:
                blob = host.database().kv_read(key)
                if blob is not None:
                    found[key] = as_js(pickle.loads(blob))
            host.count_rows(max(1, len(wanted)), 0)
            return StorageResult(found, host, not opts.get("allowConcurrency"))
        blob = host.database().kv_read(_check_key(keys, "get"))
        host.count_rows(1, 0)
        value = None if blob is None else as_js(pickle.loads(blob))
        return StorageResult(value, host, not opts.get("allowConcurrency"))

    def list(self, options: dict[str, Any] | None = None) -> StorageResult:
        """Pairs in UTF-8 byte order of keys, narrowed by start/startAfter/end/prefix/limit."""
        opts = _check_options(options, _LIST_OPTIONS, "list")
        for name in ("start", "startAfter", "end", "prefix"):
            if name in opts:
                if type(opts[name]) is not str:
                    raise StorageTypeError(
                        f"list() option {name!r} must be str, got {type(opts[name]).__name__}: {short(opts[name])}"
                    )
                _check_utf8(opts[name], f"list() option {name!r}")
        if "start" in opts and "startAfter" in opts:
            raise StorageTypeError("list() cannot be called with both start and startAfter values.")
        if "reverse" in opts and type(opts["reverse"]) is not bool:
            raise StorageTypeError(f"list() option 'reverse' must be bool, got {short(opts['reverse'])}")
        limit = opts.get("limit")
        if limit is not None:
            if type(limit) is not int:
                raise StorageTypeError(f"list() option 'limit' must be int, got {short(limit)}")
            if limit <= 0:
                raise StorageTypeError(f"List limit must be positive. (got {limit})")
            if limit > MAX_LIST_LIMIT:
                raise StorageRangeError(f"list() limit {limit} is larger than a JS number can hold exactly (2**53)")
        where: list[str] = []
        args: list[Any] = []
        if "start" in opts:
            where.append("key >= ?")
            args.append(opts["start"])
        if "startAfter" in opts:
            where.append("key > ?")
            args.append(opts["startAfter"])
        if "end" in opts:
            where.append("key < ?")
            args.append(opts["end"])
        prefix = opts.get("prefix")
        if prefix:
            where.append("key >= ?")
            args.append(prefix)
            upper = _after(prefix)
            if upper is not None:
                where.append("key < ?")
                args.append(upper)
        host = self._live()
        pairs = host.database().kv_list(where, args, bool(opts.get("reverse")), limit)
        result = JsDict((k, as_js(pickle.loads(v))) for k, v in pairs)
        host.count_rows(max(1, len(result)), 0)
        return StorageResult(result, host, not opts.get("allowConcurrency"))

    # -- writes ----------------------------------------------------------------------------------

    def put(self, key: Any, value: Any = _MISSING, options: dict[str, Any] | None = None) -> StorageResult:
        """``put(key, value)`` or ``put({key: value, ...})``; several pairs are written atomically."""
        if isinstance(key, dict):
            if value is not _MISSING:
                options, value = value, _MISSING
            _check_options(options, _PUT_OPTIONS, "put")
            keys = _check_keys(list(key), "put")
            encoded = [(k, _encode(k, key[k])) for k in keys]
        else:
            if options is not None:
                _check_options(options, _PUT_OPTIONS, "put")
            if value is _MISSING:
                raise StorageTypeError("put() called with undefined value.")
            checked = _check_key(key, "put")
            encoded = [(checked, _encode(checked, value))]
        host = self._host
        if host.generation != self._generation:
            self._live()  # raises the reset error
        (host.db or host.database()).kv_write(encoded)
        host.count_rows(0, len(encoded))
        return StorageResult(None, host) if host.engine.storage_latency else _DONE

    def delete(self, keys: Any, options: dict[str, Any] | None = None) -> StorageResult:
        """One key → ``True`` if it existed; a list of keys → how many existed."""
        _check_options(options, _PUT_OPTIONS, "delete")
        if isinstance(keys, list):
            checked = _check_keys(keys, "delete")
            host = self._live()
            count = host.database().kv_delete(sorted(set(checked)))
            host.count_rows(0, max(1, count))
            return StorageResult(count, host)
        host = self._live()
        existed = host.database().kv_delete([_check_key(keys, "delete")]) == 1
        host.count_rows(0, 1)
        return StorageResult(existed, host)

    def deleteAll(self, options: dict[str, Any] | None = None) -> StorageResult:
        """Delete every KV pair and every SQL table: the object's storage becomes empty."""
        _check_options(options, _PUT_OPTIONS, "deleteAll")
        host = self._live()
        if host.txn_depth:
            raise StorageError("Cannot call deleteAll() within a transaction")
        host.database().delete_all()
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

    def setAlarm(self, when: Any, options: dict[str, Any] | None = None) -> StorageResult:
        """Set *the* alarm (one per object; a new time replaces the old): a datetime, or ms since
        the epoch. A time in the past fires at once. Committed with the writes around it."""
        _check_options(options, _ALARM_OPTIONS, "setAlarm")
        host = self._live()
        if not has_alarm_handler(host):
            raise StorageTypeError(
                "Your Durable Object class must have an alarm() handler in order to call setAlarm()"
            )
        host.set_alarm_row(to_ms(when))
        host.count_rows(0, 1)
        return StorageResult(None, host)

    def getAlarm(self, options: dict[str, Any] | None = None) -> StorageResult:
        """The alarm time in ms since the epoch, or ``None``."""
        _check_options(options, _ALARM_OPTIONS, "getAlarm")
        host = self._live()
        value = host.alarm_ms() if has_alarm_handler(host) else None
        return StorageResult(value, host)

    def deleteAlarm(self, options: dict[str, Any] | None = None) -> StorageResult:
        """Remove the alarm (a handler already running is not stopped)."""
        _check_options(options, _ALARM_OPTIONS, "deleteAlarm")
        host = self._live()
        host.delete_alarm_row()
        return StorageResult(None, host)

    def __repr__(self) -> str:
        return f"<DurableObjectStorage of {self._host.id!r}>"


class DurableObjectTransaction:
    """The ``txn`` of ``storage.transaction``; on SQLite it is the storage itself plus rollback()."""

    def __init__(self, storage: DurableObjectStorage) -> None:
        self._storage = storage
        self._done = False
        self.rolled_back = False

    def _check(self) -> DurableObjectStorage:
        if self._done:
            raise StorageError("Transaction used after it finished; did you move `txn` outside of the closure?")
        if self.rolled_back:
            raise StorageError("Transaction was rolled back; no further operations are allowed on it.")
        return self._storage

    def get(self, keys: Any, options: dict[str, Any] | None = None) -> StorageResult:
        return self._check().get(keys, options)

    def list(self, options: dict[str, Any] | None = None) -> StorageResult:
        return self._check().list(options)

    def put(self, key: Any, value: Any = _MISSING, options: dict[str, Any] | None = None) -> StorageResult:
        return self._check().put(key, value, options)

    def delete(self, keys: Any, options: dict[str, Any] | None = None) -> StorageResult:
        return self._check().delete(keys, options)

    def deleteAll(self, options: dict[str, Any] | None = None) -> StorageResult:
        raise StorageError("Cannot call deleteAll() within a transaction")

    def getAlarm(self, options: dict[str, Any] | None = None) -> StorageResult:
        return self._check().getAlarm(options)

    def setAlarm(self, when: Any, options: dict[str, Any] | None = None) -> StorageResult:
        return self._check().setAlarm(when, options)

    def deleteAlarm(self, options: dict[str, Any] | None = None) -> StorageResult:
        return self._check().deleteAlarm(options)

    def rollback(self) -> None:
        """Discard this transaction's writes when the closure returns."""
        self._check()
        self.rolled_back = True
