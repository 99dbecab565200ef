"""One object's SQLite database: opening, implicit transactions, and where it rests when cold.

Each object has its own real ``sqlite3`` database, as on Cloudflare. KV data lives in a hidden
table ``_cf_KV`` inside it (workerd's name), created by the first KV write and dropped by
``deleteAll()``, so a fresh object's ``databaseSize`` is one page, as on workerd.

While an object is active its database is an open connection. When the object hibernates or is
evicted the connection is closed: in memory mode the database is serialized and compressed
(an evicted cart costs a few hundred bytes), in persist mode it is a file named by the object's
id, never by its name, so no name can reach the file system.

A commit that fails (a full disk, a read-only folder, an I/O error) rolls the transaction back
and empties the read cache, so what a later read sees always agrees with the disk. The
:class:`StorageFaults` seam lets tests (and chapter 02) make the next commits fail that way.
"""

from __future__ import annotations

import os
import sqlite3
import zlib
from pathlib import Path
from typing import Any

from dolab.runtime import connections as pool
from dolab.runtime.authorizer import deny_reason
from dolab.runtime.errors import ConfigError, StorageFailure

INTERNAL = pool.INTERNAL  # the marker of dolab's own statements (see connections.py)

_KV_TABLE = INTERNAL + "CREATE TABLE IF NOT EXISTS _cf_KV (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID"
_META_TABLE = INTERNAL + "CREATE TABLE IF NOT EXISTS _cf_METADATA (key TEXT PRIMARY KEY, value) WITHOUT ROWID"
_KV_PUT = INTERNAL + "INSERT OR REPLACE INTO _cf_KV (key, value) VALUES (?, ?)"
_KV_GET = INTERNAL + "SELECT value FROM _cf_KV WHERE key = ?"
_HAS_TABLES = INTERNAL + "SELECT name FROM sqlite_master WHERE name IN ('_cf_KV', '_cf_METADATA')"
CACHE_BYTES = 16 << 20  # Cloudflare's in-memory cache is a soft 16 MiB per object

#: What SQLite says for each storage failure a test (or a lesson) can inject.
FAULTS = {
    "disk-full": ("database or disk is full", "SQLITE_FULL"),
    "read-only": ("attempt to write a readonly database", "SQLITE_READONLY"),
    "io-error": ("disk I/O error", "SQLITE_IOERR"),
}


class StorageFaults:
    """The seam for storage failures: ``arm("disk-full", count=2)`` makes the next two commits
    (of one object, or of any) fail as SQLite would, without filling a real disk."""

    def __init__(self) -> None:
        self.armed: list[tuple[str, bytes | None]] = []  # (kind, object id or None for any)

    def arm(self, kind: str, count: int = 1, raw: bytes | None = None) -> None:
        if kind not in FAULTS:
            raise ConfigError(f"storage fault kind must be one of {', '.join(FAULTS)}, got {kind!r}")
        self.armed.extend([(kind, raw)] * count)

    def take(self, raw: bytes | None) -> sqlite3.OperationalError | None:
        for i, (kind, target) in enumerate(self.armed):
            if target is None or target == raw:
                del self.armed[i]
                message, code = FAULTS[kind]
                error = sqlite3.OperationalError(message)
                error.sqlite_errorname = code  # type: ignore[attr-defined]
                return error
        return None


class Database:
    """The open database of one active object."""

    __slots__ = ("_conn", "began", "cache", "cache_bytes", "denied", "faults", "has_kv", "has_meta", "image",
                 "in_txn", "internal", "may_be_empty", "on_begin", "path", "raw", "reused", "base_changes",
                 "user_sql")

    def __init__(self, conn: sqlite3.Connection | None, path: Path | None, faults: StorageFaults | None,
                 raw: bytes | None) -> None:
        self.path = path
        self.faults = faults
        self.raw = raw  # the object's id bytes (for faults aimed at one object)
        self.in_txn = False
        self.internal = False
        self.denied: str | None = None  # why the authorizer refused the last statement
        self.on_begin: Any = None  # set by the host: schedules the commit at the next await
        self.cache: dict[str, bytes | None] = {}  # KV values as stored, like Cloudflare's cache
        self.cache_bytes = 0
        # Whether is_empty() needs asking at shutdown: a database that held data and only saw
        # puts since cannot be empty, and the query costs ~90 us per hibernation.
        self.may_be_empty = True
        self.has_kv: bool | None = None  # None: not known yet (asked on first use)
        self.has_meta: bool | None = None
        # The compressed image it was opened from, and whether anything began a transaction since:
        # if nothing did, closing hands that image back instead of serializing the same bytes again.
        self.image: bytes | None = None
        self.began = False
        self.user_sql = False  # set by sql.exec: the connection may carry the user's settings
        self.reused = False  # its connection served another object before (see user_statements)
        self.base_changes = 0  # the connection's total_changes when this database got it
        # A new object's database is opened only when something needs SQLite (a write, SQL, its
        # size): a new object that only reads finds nothing without it, and goes away as it came.
        self._conn = None if conn is None else self._prepare(conn)

    def _prepare(self, conn: sqlite3.Connection) -> sqlite3.Connection:
        pool.configure(conn)
        conn.set_authorizer(self._authorize)
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        conn = self._conn
        if conn is None:
            if pool.IDLE:  # a closed object's connection, emptied: cheaper than connecting anew
                conn = pool.IDLE.pop()
                conn.deserialize(pool.EMPTY)
                conn.set_authorizer(self._authorize)
                self._conn = conn
                self.reused = True
                self.base_changes = conn.total_changes
            else:
                conn = self._conn = self._prepare(pool.fresh())
        return conn

    # -- opening and closing -------------------------------------------------------------------

    @classmethod
    def open_memory(cls, image: bytes | None, faults: StorageFaults | None = None,
                    raw: bytes | None = None) -> Database:
        if image is None:
            db = cls(None, None, faults, raw)
            db.has_kv = db.has_meta = False  # a new database has no tables at all
            return db
        # A connection that another object closed, if there is one: deserialize() replaces all of
        # its database, and connecting anew costs as much as the rest of a cold start.
        reused = bool(pool.IDLE)
        conn = pool.IDLE.pop() if reused else pool.configure(pool.fresh())
        try:
            conn.deserialize(zlib.decompress(image))
        except BaseException:
            conn.close()
            raise
        db = cls(None, None, faults, raw)
        db._conn = conn
        db.reused = reused
        db.base_changes = conn.total_changes
        conn.set_authorizer(db._authorize)
        db.image = image
        # Only an object that held something keeps an image (one found empty ceases to exist).
        db.may_be_empty = False
        return db

    @classmethod
    def open_file(cls, path: Path, faults: StorageFaults | None = None, raw: bytes | None = None) -> Database:
        fresh = not path.exists()
        try:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            # Rollback journal + synchronous=FULL: a commit that returned survives a killed
            # process and a power cut; the output gate waits for it.
            conn.execute("PRAGMA journal_mode=DELETE")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # a damaged file fails here
        except sqlite3.DatabaseError as exc:
            raise StorageFailure(f"cannot open the object's database file {path.name}: {exc}") from None
        db = cls(conn, path, faults, raw)
        db.may_be_empty = fresh
        if fresh:
            db.has_kv = db.has_meta = False
        return db

    def close(self, commit: bool = True) -> bytes | None:
        """Commit, close, and return the compressed image (memory mode) or None (file mode)."""
        if commit:
            self.commit()
        else:
            self.rollback()
        image = None
        if self._conn is None:  # never opened: nothing was ever stored
            self._conn = pool.CLOSED
            self.on_begin = None
            self.cache = {}
            return None
        if self.path is None and self.image is not None and not self.began:
            image = self.image  # read only since it opened: the image it came from is still exact
        elif self.path is None:
            # Privileged: serialize() reads the sqlite_dbpage table, which user SQL may not.
            with self.privileged() as conn:
                if conn.execute(INTERNAL + "PRAGMA page_count").fetchone()[0]:
                    image = zlib.compress(conn.serialize(), 1)  # no pages: no image (none can be made)
        # Break the reference cycles (connection -> authorizer -> self, self -> host) so that a
        # closed database is freed at once rather than by the cycle collector, much later.
        conn = self._conn
        conn.set_authorizer(None)
        # Kept for the next cold start unless the user's SQL ran on it (a PRAGMA of theirs must
        # not reach another object) or the file is on disk.
        if self.path is not None or self.user_sql or conn.in_transaction:
            conn.close()
        else:
            pool.release(conn)
        self._conn = pool.CLOSED  # any later use fails, as on a closed connection
        self.on_begin = None
        self.cache = {}
        self.image = None
        return image

    def user_statements(self) -> sqlite3.Connection:
        """The connection, ready for the user's SQL (see :func:`connections.for_user`)."""
        conn = self.conn
        if self.reused:
            self.reused = False
            self.internal = True
            try:
                conn = self._conn = pool.for_user(conn, self._authorize, self.base_changes)
            finally:
                self.internal = False
        return conn

    def interrupt(self) -> None:
        """Stop the statement running now (from the watchdog's thread: never opens SQLite)."""
        conn = self._conn
        if conn is not None:
            conn.interrupt()

    def _tables(self) -> None:
        with self.privileged() as conn:
            names = {row[0] for row in conn.execute(_HAS_TABLES)}
        self.has_kv = "_cf_KV" in names
        self.has_meta = "_cf_METADATA" in names

    def is_empty(self) -> bool:
        """True if nothing is stored: no KV pair, no table of the user's, no alarm."""
        if self._conn is None:
            return True
        with self.privileged() as conn:
            names = [row[0] for row in conn.execute(INTERNAL + "SELECT name FROM sqlite_master")]
            if any(not n.startswith(("_cf_", "sqlite_")) for n in names):
                return False
            for table in ("_cf_KV", "_cf_METADATA"):
                if table in names and conn.execute(f"{INTERNAL}SELECT 1 FROM {table} LIMIT 1").fetchone():
                    return False
        return True

    # -- implicit transactions ------------------------------------------------------------------

    def begin(self) -> None:
        """Open the implicit transaction if none is open; the host commits it at the next await."""
        if not self.in_txn:
            self.began = True
            self.internal = True
            try:
                self.conn.execute(INTERNAL + "BEGIN")
            finally:
                self.internal = False
            self.in_txn = True
            if self.on_begin is not None:
                self.on_begin()

    def commit(self) -> bool:
        """Make the open transaction durable (``True`` if there was one); if that fails, none of
        it is kept (not even in the read cache) and :class:`StorageFailure` says why."""
        if not self.in_txn:
            return False
        self.internal = True
        try:
            fault = self.faults.take(self.raw) if self.faults is not None and self.faults.armed else None
            if fault is not None:
                raise fault
            self.conn.execute(INTERNAL + "COMMIT")
            self.in_txn = False
            return True
        except sqlite3.Error as exc:
            self.internal = False
            self.rollback()
            code = getattr(exc, "sqlite_errorname", "SQLITE_ERROR")
            raise StorageFailure(f"{exc}: {code}") from exc
        finally:
            self.internal = False

    def rollback(self) -> None:
        self.may_be_empty = True  # what was written may have been all there was
        self.cache.clear()
        self.cache_bytes = 0
        if self._conn is None:
            return  # never opened: no table to have lost, no transaction to undo
        self.has_kv = self.has_meta = None  # a rolled-back CREATE TABLE is gone again
        if self.in_txn:
            self.in_txn = False
            if self.conn.in_transaction:
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
        if self.has_kv is None:
            self._tables()
        blob = None
        if self.has_kv:
            with self.privileged() as conn:
                row = conn.execute(_KV_GET, (key,)).fetchone()
            blob = None if row is None else row[0]
        self._remember(key, blob)
        return blob

    def _remember(self, key: str, blob: bytes | None) -> None:
        size = len(key) + (len(blob) if blob is not None else 0)
        if self.cache_bytes + size > CACHE_BYTES:
            self.cache.clear()  # bounded by bytes, like Cloudflare's cache
            self.cache_bytes = 0
        self.cache[key] = blob
        self.cache_bytes += size

    def kv_list(self, where: list[str], args: list[Any], reverse: bool, limit: int | None) -> list[Any]:
        if self.has_kv is None:
            self._tables()
        if not self.has_kv:
            return []
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
        conn = self.conn
        self.internal = True
        try:
            if not self.has_kv:
                conn.execute(_KV_TABLE)  # lazily, as workerd: a fresh object has no tables
                self.has_kv = True
            if len(pairs) == 1:  # execute() is ~40 % cheaper than executemany() for one row
                pair = pairs[0]
                conn.execute(_KV_PUT, pair)
                self._remember(*pair)
            else:
                conn.executemany(_KV_PUT, pairs)
                for pair in pairs:
                    self._remember(*pair)
            # A stored pair: not empty until a delete, a statement or a rollback says it may be.
            self.may_be_empty = False
        finally:
            self.internal = False

    def kv_delete(self, keys: list[str]) -> int:
        self.may_be_empty = True
        if self.has_kv is None:
            self._tables()
        if not self.has_kv:
            return 0
        self.begin()
        count = 0
        with self.privileged() as conn:
            for key in keys:
                count += conn.execute(INTERNAL + "DELETE FROM _cf_KV WHERE key = ?", (key,)).rowcount
                self._remember(key, None)
        return count

    def delete_all(self) -> None:
        """Drop every table, dolab's and the user's: the database is as new (one page)."""
        self.may_be_empty = True
        self.begin()
        with self.privileged() as conn:
            schema = conn.execute(
                INTERNAL + "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view') "
                "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
            ).fetchall()
            conn.execute(INTERNAL + "PRAGMA defer_foreign_keys = ON")
            for kind, name in schema:
                quoted = '"' + name.replace('"', '""') + '"'
                conn.execute(f"{INTERNAL}DROP {kind.upper()} IF EXISTS {quoted}")
            if conn.execute(INTERNAL + "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone():
                conn.execute(INTERNAL + "DELETE FROM sqlite_sequence")
        self.cache.clear()
        self.cache_bytes = 0
        self.has_kv = self.has_meta = False

    # -- the alarm, kept in _cf_METADATA as workerd does ------------------------------------------------

    def alarm(self) -> float | None:
        if self.has_meta is None:
            self._tables()
        if not self.has_meta:
            return None
        with self.privileged() as conn:
            row = conn.execute(INTERNAL + "SELECT value FROM _cf_METADATA WHERE key = 'alarm'").fetchone()
        return None if row is None else float(row[0])

    def set_alarm(self, ms: float | None) -> None:
        """Set (``ms``) or delete (``None``) the alarm, inside the implicit transaction."""
        if self.has_meta is None:
            self._tables()
        if ms is None and not self.has_meta:
            return
        if ms is None:
            self.may_be_empty = True  # the alarm may have been all it stored
        self.begin()
        with self.privileged() as conn:
            if not self.has_meta:
                conn.execute(_META_TABLE)
                self.has_meta = True
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
        if verb == "ROLLBACK TO":
            # What the savepoint undid may include a table dolab created lazily, and cached reads.
            self.may_be_empty = True
            self.cache.clear()
            self.cache_bytes = 0
            self.has_kv = self.has_meta = None

    def privileged(self) -> _Privileged:
        return _Privileged(self)

    def size(self) -> int:
        """``databaseSize``: (pages - free pages) x page size; at least one page, as on workerd."""
        with self.privileged():
            pages = self.conn.execute(INTERNAL + "PRAGMA page_count").fetchone()[0]
            free = self.conn.execute(INTERNAL + "PRAGMA freelist_count").fetchone()[0]
            page = self.conn.execute(INTERNAL + "PRAGMA page_size").fetchone()[0]
        return int(max(1, pages - free) * page)

    # -- what user SQL may do --------------------------------------------------------------------

    def _authorize(self, action: int, arg1: Any, arg2: Any, dbname: Any, source: Any) -> int:
        if self.internal:
            return sqlite3.SQLITE_OK
        reason = deny_reason(action, arg1, arg2, dbname)
        if reason is None:
            return sqlite3.SQLITE_OK
        self.denied = reason
        return sqlite3.SQLITE_DENY


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


def object_file(root: Path, class_name: str, hex_id: str, create: bool = True) -> Path:
    """The file of one object in persist mode: named by id, inside the class folder."""
    folder = root / class_name
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hex_id}.sqlite"
    if os.path.commonpath([root.resolve(), path.resolve()]) != str(root.resolve()):
        raise ConfigError(f"object file {path} would lie outside the persist folder {root}")
    return path


_HEX = frozenset("0123456789abcdef")


def object_files(folder: Path) -> list[Path]:
    """The object files of one persist folder: 64 hex digits and ``.sqlite``; anything else there
    (a stray file, an editor's backup) is not an object and is left alone."""
    return sorted(p for p in folder.glob("*.sqlite") if len(p.stem) == 64 and _HEX.issuperset(p.stem))
