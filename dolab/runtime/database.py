"""One object's SQLite database: opening, implicit transactions, and where it rests when cold.

Each object has its own real ``sqlite3`` database, as on Cloudflare. KV data lives in a hidden
table ``_cf_KV`` inside it (workerd's name), so ``deleteAll()`` and ``databaseSize`` see both APIs.

While an object is active its database is an open connection. When the object hibernates or is
evicted the connection is closed: in memory mode the database is serialized and compressed
(an evicted cart costs a few hundred bytes), in persist mode it is a file named by the object's
id, never by its name, so no name can reach the file system.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import zlib
from pathlib import Path
from typing import Any

from dolab.runtime.errors import ConfigError, SqlError

# sqlite3 caches prepared statements by their text, and SQLite asks the authorizer only when a
# statement is prepared. dolab's own statements start with this per-process marker, so no user
# statement can ever share their cache entry (and skip the authorizer).
INTERNAL = f"/*dolab:{secrets.token_hex(8)}*/ "

# Limits of SQLite-backed Durable Objects (Cloudflare's documented values).
MAX_LENGTH = 2_000_000  # key + value <= 2 MB; checked by dolab before SQLite sees the row
LIMITS = {
    # SQLite's own length limit also counts a row's header bytes, so it sits a little higher
    # and the 2 MB rule above is the one a put meets.
    sqlite3.SQLITE_LIMIT_LENGTH: MAX_LENGTH + 1024,
    sqlite3.SQLITE_LIMIT_SQL_LENGTH: 100_000,
    sqlite3.SQLITE_LIMIT_COLUMN: 100,
    sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER: 100,
    sqlite3.SQLITE_LIMIT_FUNCTION_ARG: 32,
    sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH: 50,
    sqlite3.SQLITE_LIMIT_EXPR_DEPTH: 100,
    sqlite3.SQLITE_LIMIT_COMPOUND_SELECT: 5,
    sqlite3.SQLITE_LIMIT_TRIGGER_DEPTH: 10,
    sqlite3.SQLITE_LIMIT_ATTACHED: 0,
}

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS _cf_KV (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS _cf_METADATA (key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
)

_ALLOWED_PRAGMAS = frozenset(
    {
        "table_list", "table_info", "table_xinfo", "data_version", "page_size",
        "case_sensitive_like", "foreign_keys", "defer_foreign_keys", "ignore_check_constraints",
        "legacy_alter_table", "recursive_triggers", "reverse_unordered_selects",
        "foreign_key_check", "foreign_key_list", "index_info", "index_list", "index_xinfo",
        "quick_check", "optimize",
    }
)
_ALLOWED_VTABLES = frozenset({"fts5", "fts5vocab", "rtree", "rtree_i32"})
_DENIED_FUNCTIONS = frozenset({"sqlite_version", "sqlite_source_id", "sqlite_compileoption_used",
                               "sqlite_compileoption_get", "load_extension", "sqlite_offset"})
_TEMP_ACTIONS = frozenset(
    {
        sqlite3.SQLITE_CREATE_TEMP_INDEX, sqlite3.SQLITE_CREATE_TEMP_TABLE,
        sqlite3.SQLITE_CREATE_TEMP_TRIGGER, sqlite3.SQLITE_CREATE_TEMP_VIEW,
        sqlite3.SQLITE_DROP_TEMP_INDEX, sqlite3.SQLITE_DROP_TEMP_TABLE,
        sqlite3.SQLITE_DROP_TEMP_TRIGGER, sqlite3.SQLITE_DROP_TEMP_VIEW,
    }
)
_NAMED_ACTIONS = frozenset(
    {
        sqlite3.SQLITE_CREATE_TABLE, sqlite3.SQLITE_CREATE_INDEX, sqlite3.SQLITE_CREATE_TRIGGER,
        sqlite3.SQLITE_CREATE_VIEW, sqlite3.SQLITE_DROP_TABLE, sqlite3.SQLITE_DROP_INDEX,
        sqlite3.SQLITE_DROP_TRIGGER, sqlite3.SQLITE_DROP_VIEW, sqlite3.SQLITE_READ,
        sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_INSERT, sqlite3.SQLITE_DELETE,
        sqlite3.SQLITE_ALTER_TABLE, sqlite3.SQLITE_ANALYZE, sqlite3.SQLITE_REINDEX,
    }
)

TXN_MESSAGE = (
    "To execute a transaction, please use the state.storage.transaction() or "
    "state.storage.transactionSync() APIs instead of the SQL BEGIN TRANSACTION or SAVEPOINT "
    "statements. The JavaScript API is safer because it will automatically roll back on "
    "exceptions, and because it interacts correctly with Durable Objects' automatic atomic "
    "write coalescing."
)


_KV_PUT = INTERNAL + "INSERT OR REPLACE INTO _cf_KV (key, value) VALUES (?, ?)"


def _empty_image() -> bytes:
    conn = sqlite3.connect(":memory:")
    conn.executescript(_SCHEMA)
    image = conn.serialize()
    conn.close()
    return image


EMPTY_IMAGE = _empty_image()


class Database:
    """The open database of one active object."""

    __slots__ = ("cache", "conn", "denied", "in_txn", "internal", "may_be_empty", "on_begin", "path")

    def __init__(self, conn: sqlite3.Connection, path: Path | None) -> None:
        self.conn = conn
        self.path = path
        self.in_txn = False
        self.internal = False
        self.denied: str | None = None
        self.on_begin: Any = None  # set by the host: schedules the commit at the next await
        self.cache: dict[str, bytes | None] = {}  # KV values as stored, like Cloudflare's cache
        # Whether is_empty() needs asking at shutdown: a database that held data and only saw
        # puts since cannot be empty, and the query costs ~90 us per hibernation.
        self.may_be_empty = True
        for limit, value in LIMITS.items():
            conn.setlimit(limit, value)
        conn.set_authorizer(self._authorize)

    # -- opening and closing -------------------------------------------------------------------

    @classmethod
    def open_memory(cls, image: bytes | None) -> Database:
        conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        conn.deserialize(zlib.decompress(image) if image else EMPTY_IMAGE)
        db = cls(conn, None)
        db.may_be_empty = image is None
        return db

    @classmethod
    def open_file(cls, path: Path) -> Database:
        fresh = not path.exists()
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        # Rollback journal + synchronous=FULL: a commit that returned survives a killed
        # process and a power cut; the output gate waits for it.
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute("PRAGMA synchronous=FULL")
        if fresh:
            conn.executescript(_SCHEMA)
        db = cls(conn, path)
        db.may_be_empty = fresh
        return db

    def close(self) -> bytes | None:
        """Commit, close, and return the compressed image (memory mode) or None (file mode)."""
        self.commit()
        image = None
        if self.path is None:
            image = zlib.compress(self.conn.serialize(), 1)
        # Break the reference cycles (connection -> authorizer -> self, self -> host) so that a
        # closed database is freed at once rather than by the cycle collector, much later.
        self.conn.set_authorizer(None)
        self.conn.close()
        self.on_begin = None
        self.cache = {}
        return image

    def is_empty(self) -> bool:
        """True if nothing was ever stored: no KV pair, no table, no metadata."""
        with self.privileged():
            row = self.conn.execute(
                INTERNAL + "SELECT (SELECT count(*) FROM _cf_KV) + (SELECT count(*) FROM _cf_METADATA)"
                " + (SELECT count(*) FROM sqlite_master WHERE name NOT LIKE '\\_cf\\_%' ESCAPE '\\')"
            ).fetchone()
        return bool(row[0] == 0)

    # -- implicit transactions ------------------------------------------------------------------

    def begin(self) -> None:
        """Open the implicit transaction if none is open; the host commits it at the next await."""
        if not self.in_txn:
            self.internal = True
            try:
                self.conn.execute(INTERNAL + "BEGIN")
            finally:
                self.internal = False
            self.in_txn = True
            if self.on_begin is not None:
                self.on_begin()

    def commit(self) -> None:
        if self.in_txn:
            self.in_txn = False
            self.internal = True
            try:
                self.conn.execute(INTERNAL + "COMMIT")
            finally:
                self.internal = False

    def rollback(self) -> None:
        self.cache.clear()
        if self.in_txn:
            self.in_txn = False
            self.internal = True
            try:
                self.conn.execute(INTERNAL + "ROLLBACK")
            finally:
                self.internal = False

    # -- the hidden KV table ------------------------------------------------------------------------

    def kv_read(self, key: str) -> bytes | None:
        cache = self.cache
        if key in cache:
            return cache[key]
        with self.privileged() as conn:
            row = conn.execute(INTERNAL + "SELECT value FROM _cf_KV WHERE key = ?", (key,)).fetchone()
        blob = None if row is None else row[0]
        if len(cache) > 4096:  # a bounded cache, like Cloudflare's (which is 16 MiB soft)
            cache.clear()
        cache[key] = blob
        return blob

    def kv_list(self, where: list[str], args: list[Any], reverse: bool, limit: int | None) -> list[Any]:
        sql = INTERNAL + "SELECT key, value FROM _cf_KV"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY key DESC" if reverse else " ORDER BY key"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self.privileged() as conn:
            return conn.execute(sql, args).fetchall()

    def kv_write(self, pairs: list[tuple[str, bytes]]) -> None:
        if not self.in_txn:
            self.begin()
        self.internal = True
        try:
            if len(pairs) == 1:  # execute() is ~40 % cheaper than executemany() for one row
                pair = pairs[0]
                self.conn.execute(_KV_PUT, pair)
                self.cache[pair[0]] = pair[1]
            else:
                self.conn.executemany(_KV_PUT, pairs)
                self.cache.update(pairs)
        finally:
            self.internal = False

    def kv_delete(self, keys: list[str]) -> int:
        self.may_be_empty = True
        self.begin()
        count = 0
        with self.privileged() as conn:
            for key in keys:
                count += conn.execute(INTERNAL + "DELETE FROM _cf_KV WHERE key = ?", (key,)).rowcount
                self.cache[key] = None
        return count

    def delete_all(self) -> None:
        self.may_be_empty = True
        self.begin()
        with self.privileged() as conn:
            conn.execute(INTERNAL + "DELETE FROM _cf_KV")
            conn.execute(INTERNAL + "DELETE FROM _cf_METADATA")
            schema = conn.execute(
                INTERNAL + "SELECT type, name FROM sqlite_master WHERE name NOT LIKE '\\_cf\\_%' ESCAPE '\\' "
                "AND type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
            ).fetchall()
            conn.execute(INTERNAL + "PRAGMA defer_foreign_keys = ON")
            for kind, name in schema:
                quoted = '"' + name.replace('"', '""') + '"'
                conn.execute(f"{INTERNAL}DROP {kind.upper()} IF EXISTS {quoted}")
        self.cache.clear()

    # -- the alarm, kept in _cf_METADATA as workerd does ------------------------------------------------

    def alarm(self) -> float | None:
        with self.privileged() as conn:
            row = conn.execute(INTERNAL + "SELECT value FROM _cf_METADATA WHERE key = 'alarm'").fetchone()
        return None if row is None else float(row[0])

    def set_alarm(self, ms: float | None) -> None:
        """Set (``ms``) or delete (``None``) the alarm, inside the implicit transaction."""
        self.begin()
        with self.privileged() as conn:
            if ms is None:
                conn.execute(INTERNAL + "DELETE FROM _cf_METADATA WHERE key = 'alarm'")
            else:
                conn.execute(INTERNAL + "INSERT OR REPLACE INTO _cf_METADATA (key, value) VALUES ('alarm', ?)", (ms,))

    def savepoint(self, name: str, verb: str) -> None:
        self.internal = True
        try:
            self.conn.execute(f"{INTERNAL}{verb} {name}")
        finally:
            self.internal = False

    def privileged(self) -> _Privileged:
        return _Privileged(self)

    def size(self) -> int:
        with self.privileged():
            pages = self.conn.execute(INTERNAL + "PRAGMA page_count").fetchone()[0]
            free = self.conn.execute(INTERNAL + "PRAGMA freelist_count").fetchone()[0]
            page = self.conn.execute(INTERNAL + "PRAGMA page_size").fetchone()[0]
        return int((pages - free) * page)

    # -- what user SQL may do --------------------------------------------------------------------

    def _authorize(self, action: int, arg1: Any, arg2: Any, dbname: Any, source: Any) -> int:
        if self.internal:
            return sqlite3.SQLITE_OK
        reason = self._deny_reason(action, arg1, arg2)
        if reason is None:
            return sqlite3.SQLITE_OK
        self.denied = reason
        return sqlite3.SQLITE_DENY

    @staticmethod
    def _deny_reason(action: int, arg1: Any, arg2: Any) -> str | None:
        if action in (sqlite3.SQLITE_TRANSACTION, sqlite3.SQLITE_SAVEPOINT):
            return TXN_MESSAGE
        if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
            return "ATTACH and DETACH are not allowed: each Durable Object has exactly one database."
        if action in _TEMP_ACTIONS:
            return "TEMP tables, views, indexes and triggers are not allowed."
        if action == sqlite3.SQLITE_PRAGMA:
            name = str(arg1).lower()
            if name not in _ALLOWED_PRAGMAS:
                return f"PRAGMA {arg1} is not allowed."
            if name in ("page_size", "data_version") and arg2 is not None:
                return f"PRAGMA {arg1} is read-only."
            if name in ("table_info", "table_xinfo") and str(arg2 or "").lower().startswith("_cf_"):
                return f"access to {arg2} is prohibited."
            return None
        vtable = action in (sqlite3.SQLITE_CREATE_VTABLE, sqlite3.SQLITE_DROP_VTABLE)
        if vtable and str(arg2).lower() not in _ALLOWED_VTABLES:
            return f"virtual table module {arg2!r} is not allowed."
        if action == sqlite3.SQLITE_FUNCTION and str(arg2).lower() in _DENIED_FUNCTIONS:
            return f"not authorized to use function: {arg2}"
        if action in _NAMED_ACTIONS or action in (sqlite3.SQLITE_CREATE_VTABLE,):
            for name in (arg1, arg2):
                if isinstance(name, str) and name.lower().startswith("_cf_"):
                    return f"access to {name} is prohibited: names starting with _cf_ are reserved."
        return None


class _Privileged:
    """Context manager: statements inside it bypass the user authorizer (dolab's own SQL)."""

    __slots__ = ("_db",)

    def __init__(self, db: Database) -> None:
        self._db = db

    def __enter__(self) -> sqlite3.Connection:
        self._db.internal = True
        return self._db.conn

    def __exit__(self, *exc: object) -> None:
        self._db.internal = False


def sql_error(exc: sqlite3.Error, db: Database) -> SqlError:
    """Turn a sqlite3 error into dolab's, with Cloudflare's wording where it differs."""
    if db.denied is not None:
        message, db.denied = db.denied, None
        return SqlError(f"not authorized: {message}: SQLITE_AUTH")
    code = getattr(exc, "sqlite_errorname", "SQLITE_ERROR")
    return SqlError(f"{exc}: {code}")


def object_file(root: Path, class_name: str, hex_id: str) -> Path:
    """The file of one object in persist mode: named by id, inside the class folder."""
    folder = root / class_name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hex_id}.sqlite"
    if os.path.commonpath([root.resolve(), path.resolve()]) != str(root.resolve()):
        raise ConfigError(f"object file {path} would lie outside the persist folder {root}")
    return path
