"""``ctx.storage.sql``: synchronous SQL on the object's own SQLite database, Cloudflare-shaped.

``exec`` runs at once (no ``await``), like Cloudflare's. Rows come out as :class:`JsDict`.
Differences from Cloudflare, on purpose or by necessity, are listed in the README; the main one
is that ``rowsRead`` counts rows returned (plus rows changed), not rows SQLite scanned.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from dolab.runtime.database import INTERNAL, Database, sql_error
from dolab.runtime.errors import SqlError, StorageRangeError, StorageTypeError
from dolab.runtime.values import JsDict
from dolab.runtime.values import short as _short

if TYPE_CHECKING:
    from dolab.runtime.storage import DurableObjectStorage

_MAX_SAFE_INT = 2**53
# SQLite's authorizer sees the old name of a renamed table, not the new one, so a statement
# that may rename runs inside a savepoint and is undone if a reserved name appears.
_RENAME = re.compile(r"\bRENAME\b", re.IGNORECASE)
_INT64 = (-(2**63), 2**63 - 1)


def split_statements(query: str) -> list[str]:
    """Split ``query`` at the semicolons that end complete statements (not those in strings)."""
    statements: list[str] = []
    start = 0
    index = query.find(";")
    while index != -1:
        chunk = query[start : index + 1]
        if sqlite3.complete_statement(chunk):
            statements.append(chunk)
            start = index + 1
        index = query.find(";", index + 1)
    statements.append(query[start:])
    return [s for s in statements if _has_code(s)]


def _has_code(statement: str) -> bool:
    """False for text that is only whitespace, semicolons and comments."""
    text = statement.strip().rstrip(";").strip()
    while text:
        if text.startswith("--"):
            newline = text.find("\n")
            text = "" if newline == -1 else text[newline + 1 :].strip()
        elif text.startswith("/*"):
            end = text.find("*/")
            text = "" if end == -1 else text[end + 2 :].strip()
        elif text.startswith(";"):
            text = text[1:].strip()
        else:
            return True
    return False


def _reserved_names_appeared(db: Database) -> bool:
    with db.privileged() as conn:
        row = conn.execute(
            INTERNAL + "SELECT count(*) FROM sqlite_master WHERE name LIKE '\\_cf\\_%' ESCAPE '\\' "
            "AND name NOT IN ('_cf_KV', '_cf_METADATA')"
        ).fetchone()
    return bool(row[0])


def _check_binding(value: Any, index: int) -> Any:
    if type(value) is int and not _INT64[0] <= value <= _INT64[1]:
        raise StorageRangeError(f"SQL binding {index} is {value}, outside SQLite's 64-bit integer range")
    if type(value) is str:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise StorageTypeError(f"SQL binding {index} {_short(value)} is not valid UTF-8 (lone surrogate)") from None
    if value is None or type(value) in (int, float, str, bytes):
        return value
    if isinstance(value, memoryview):
        return bytes(value)
    raise StorageTypeError(
        f"SQL binding {index} has type {type(value).__name__} ({_short(value)}); "
        "bindings must be None, int, float, str or bytes."
    )


def _from_sqlite(value: Any) -> Any:
    # Cloudflare hands INTEGER to JS as a double: beyond 2**53 precision is lost. So here too.
    if type(value) is int and not -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT:
        return int(float(value))
    return value


class SqlStorageCursor:
    """The result of ``sql.exec``: iterate rows, or use ``toArray()``, ``one()``, ``raw()``."""

    def __init__(self, columns: list[str], rows: list[tuple[Any, ...]], written: int) -> None:
        self.columnNames = columns
        self._rows = rows
        self._pos = 0
        self.rowsWritten = written
        self.rowsRead = len(rows) + written

    def _take_raw(self) -> list[Any] | None:
        if self._pos >= len(self._rows):
            return None
        row = self._rows[self._pos]
        self._pos += 1
        return [_from_sqlite(v) for v in row]

    def _as_dict(self, raw: list[Any]) -> JsDict:
        return JsDict(zip(self.columnNames, raw, strict=True))

    def __iter__(self) -> Iterator[JsDict]:
        return self

    def __next__(self) -> JsDict:
        raw = self._take_raw()
        if raw is None:
            raise StopIteration
        return self._as_dict(raw)

    def next(self) -> JsDict:
        """JS-style step: ``{"done": bool, "value": row}``."""
        raw = self._take_raw()
        if raw is None:
            return JsDict(done=True, value=None)
        return JsDict(done=False, value=self._as_dict(raw))

    def toArray(self) -> list[JsDict]:
        """All remaining rows."""
        return list(self)

    def one(self) -> JsDict:
        """Exactly one row; anything else is an error."""
        remaining = len(self._rows) - self._pos
        if remaining == 0:
            raise SqlError("Expected exactly one result from SQL query, but got no results.")
        if remaining > 1:
            raise SqlError("Expected exactly one result from SQL query, but got multiple results.")
        return next(self)

    def raw(self) -> _RawIterator:
        """Rows as lists of values; shares its position with this cursor."""
        return _RawIterator(self)

    def __repr__(self) -> str:
        return f"<SqlStorageCursor columns={self.columnNames} rows={len(self._rows) - self._pos} left>"


class _RawIterator:
    def __init__(self, cursor: SqlStorageCursor) -> None:
        self._cursor = cursor

    def __iter__(self) -> _RawIterator:
        return self

    def __next__(self) -> list[Any]:
        raw = self._cursor._take_raw()
        if raw is None:
            raise StopIteration
        return raw

    def toArray(self) -> list[list[Any]]:
        return list(self)


class SqlStorage:
    """``ctx.storage.sql``."""

    def __init__(self, storage: DurableObjectStorage) -> None:
        self._storage = storage

    def exec(self, query: str, *bindings: Any) -> SqlStorageCursor:
        """Run ``query`` now. Several ``;``-separated statements are allowed; bindings and the
        returned cursor belong to the last one. A failing call changes nothing."""
        if not isinstance(query, str):
            raise StorageTypeError(f"sql.exec() needs the query as a str, got {type(query).__name__}")
        try:
            query.encode("utf-8")
        except UnicodeEncodeError:
            raise StorageTypeError(f"sql.exec() query {_short(query)} is not valid UTF-8 (lone surrogate)") from None
        statements = split_statements(query)
        if not statements:
            raise SqlError("SQL code did not contain a statement.")
        values = tuple(_check_binding(v, i) for i, v in enumerate(bindings, start=1))
        host = self._storage._live()
        db = host.database()
        db.may_be_empty = True  # any statement might have dropped or deleted everything
        db.begin()
        conn = db.conn
        before = conn.total_changes
        many = len(statements) > 1 or any(_RENAME.search(st) for st in statements)
        if many:
            db.savepoint("_cf_exec", "SAVEPOINT")
        try:
            for statement in statements[:-1]:
                conn.execute(statement).fetchall()
            cursor = conn.execute(statements[-1], values)
            rows = cursor.fetchall()
        except sqlite3.ProgrammingError as exc:
            if many and conn.in_transaction:
                db.savepoint("_cf_exec", "ROLLBACK TO")
                db.savepoint("_cf_exec", "RELEASE")
            if "number of bindings" in str(exc):
                raise SqlError(
                    f"Wrong number of parameter bindings for SQL query. (got {len(values)})"
                ) from None
            raise SqlError(f"{exc}: SQLITE_MISUSE") from None
        except sqlite3.Error as exc:
            # ON CONFLICT ROLLBACK and a few fatal errors end the whole transaction, not just the statement.
            if db.in_txn and not conn.in_transaction:
                db.cache.clear()  # earlier uncommitted KV writes went with it
            db.in_txn = conn.in_transaction
            if many and db.in_txn:
                db.savepoint("_cf_exec", "ROLLBACK TO")
                db.savepoint("_cf_exec", "RELEASE")
            raise sql_error(exc, db) from None
        if many:
            if _reserved_names_appeared(db):
                db.savepoint("_cf_exec", "ROLLBACK TO")
                db.savepoint("_cf_exec", "RELEASE")
                raise SqlError("not authorized: table names starting with _cf_ are reserved: SQLITE_AUTH")
            db.savepoint("_cf_exec", "RELEASE")
        columns = [d[0] for d in cursor.description] if cursor.description else []
        written = conn.total_changes - before
        host.count_rows(len(rows) + written, written)
        return SqlStorageCursor(columns, rows, written)

    @property
    def databaseSize(self) -> int:
        """Bytes used by the database: (pages - free pages) x page size."""
        return self._storage._live().database().size()
