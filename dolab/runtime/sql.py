"""``ctx.storage.sql``: synchronous SQL on the object's own SQLite database, Cloudflare-shaped.

``exec`` runs at once (no ``await``), like Cloudflare's. Several ``;``-separated statements run
one after the other, as on workerd: if a later one fails, the earlier ones keep their effects
(all inside the object's implicit transaction). Bindings cross to JavaScript as a Python
Worker's do: a Python ``int`` is a JS number, bound as REAL (``SELECT ?/2`` with 7 gives 3.5);
an ``int`` beyond 2**53 is a BigInt, which workerd refuses; ``bool``, ``list``, ``dict`` and
``datetime`` are turned into text.
"""

from __future__ import annotations

import re
import sqlite3
from typing import TYPE_CHECKING, Any

from dolab.runtime.authorizer import ERROR_OFFSETS, sql_error
from dolab.runtime.cursor import SqlStorageCursor
from dolab.runtime.database import INTERNAL, Database
from dolab.runtime.errors import SqlError, StorageTypeError
from dolab.runtime.rowcount import count_rows
from dolab.runtime.values import MAX_SAFE, js_string, short, to_wire, utf8

if TYPE_CHECKING:
    from dolab.runtime.storage import DurableObjectStorage

# workerd's SQLite asks its authorizer about the *new* name of a renamed table; Python's SQLite
# shows only the old one. So a statement that may rename runs in a savepoint and is undone if a
# reserved name appeared.
_RENAME = re.compile(r"\bRENAME\b", re.IGNORECASE)
NO_STATEMENT = "SQL code did not contain a statement."


def split_statements(query: str) -> list[str]:
    """Split ``query`` into statements, as workerd prepares them one after the other.

    Raises ``SqlError`` ("SQL code did not contain a statement.") if any piece holds no
    statement (``SELECT 1;;``, ``SELECT 1; -- done``, an empty query); only whitespace may
    follow the last semicolon.
    """
    statements: list[str] = []
    start = 0
    index = query.find(";")
    while index != -1:
        chunk = query[start : index + 1]
        if sqlite3.complete_statement(chunk):
            statements.append(chunk.lstrip())  # workerd's offsets count from the statement's start
            start = index + 1
        index = query.find(";", index + 1)
    tail = query[start:].lstrip()
    if tail.strip() or not statements:
        statements.append(tail)
    if not all(_has_code(s) for s in statements):
        raise SqlError(NO_STATEMENT)
    return statements


def _has_code(statement: str) -> bool:
    """False for text that is only whitespace, one semicolon and comments."""
    text = statement.strip()
    text = text[:-1].strip() if text.endswith(";") else text
    while text:
        if text.startswith("--"):
            newline = text.find("\n")
            text = "" if newline == -1 else text[newline + 1 :].strip()
        elif text.startswith("/*"):
            end = text.find("*/")
            text = "" if end == -1 else text[end + 2 :].strip()
        else:
            return True
    return False


def binding(value: Any) -> Any:
    """A Python value as workerd binds it after the Python Workers SDK converted it to JS."""
    kind = type(value)
    if value is None or kind is float:
        return value
    if kind is int:
        if -MAX_SAFE <= value <= MAX_SAFE:
            return float(value)  # a JS number: bound as REAL
        raise StorageTypeError("Cannot convert a BigInt value to a number")
    if kind is str:
        return value if value.isascii() else utf8(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is bytes or kind is memoryview:
        return bytes(value)
    # Everything else crosses as a JS object that workerd turns into text (String(value)).
    return js_string(to_wire(value))


def _schema_version(db: Database) -> int:
    with db.privileged() as conn:
        return int(conn.execute(INTERNAL + "PRAGMA schema_version").fetchone()[0])


def _reserved_names_appeared(db: Database) -> bool:
    with db.privileged() as conn:
        row = conn.execute(
            INTERNAL + "SELECT count(*) FROM sqlite_master WHERE substr(lower(name), 1, 4) = '_cf_' "
            "AND name NOT IN ('_cf_KV', '_cf_METADATA')"
        ).fetchone()
    return bool(row[0])


def _fetch_all(conn: sqlite3.Connection, cursor: sqlite3.Cursor, statement: str, values: tuple[Any, ...]) -> list[Any]:
    """Every row; text that is not valid UTF-8 reads as U+FFFD, as workerd's conversion makes it.

    Python's ``sqlite3`` refuses such text ("Could not decode to UTF-8"); the statement is then
    run again with a lenient decoder, which is safe only for a statement that changed nothing.
    """
    before = conn.total_changes
    try:
        return cursor.fetchall()
    except sqlite3.OperationalError as exc:
        if "Could not decode to UTF-8" not in str(exc) or conn.total_changes != before:
            raise
    conn.text_factory = lambda raw: raw.decode("utf-8", "replace")
    try:
        return conn.execute(statement, values).fetchall()
    finally:
        conn.text_factory = str


class SqlStorage:
    """``ctx.storage.sql``."""

    def __init__(self, storage: DurableObjectStorage) -> None:
        self._storage = storage

    def exec(self, query: str, *bindings: Any) -> SqlStorageCursor:
        """Run ``query`` now. Bindings and the returned cursor belong to its last statement; a
        statement that fails changes nothing, and earlier statements of the same call stay."""
        if not isinstance(query, str):
            raise StorageTypeError(f"sql.exec() needs the query as a str, got {type(query).__name__}: {short(query)}")
        if not query.isascii():
            query = utf8(query)
        statements = split_statements(query)
        values = tuple(binding(v) for v in bindings)
        host = self._storage._live()
        db = host.database()
        db.may_be_empty = True  # any statement might have dropped or deleted everything
        db.user_sql = True  # and might have changed the connection: it is not reused
        conn = db.user_statements()  # before begin(): outside a transaction it can move to its own
        db.begin()
        host.note_write({})  # SQL has no allowUnconfirmed: its writes hold replies
        rows: list[Any] = []
        cursor: Any = None
        read = written = 0
        for i, statement in enumerate(statements):
            last = i == len(statements) - 1
            before = conn.total_changes
            schema = _schema_version(db) if last else 0
            renames = bool(_RENAME.search(statement))
            if renames:
                db.savepoint("_cf_exec", "SAVEPOINT")
            try:
                cursor = conn.execute(statement, values if last else ())
                rows = _fetch_all(conn, cursor, statement, values if last else ())
            except sqlite3.ProgrammingError as exc:
                if renames and conn.in_transaction:
                    db.savepoint("_cf_exec", "ROLLBACK TO")
                    db.savepoint("_cf_exec", "RELEASE")
                if "number of bindings" in str(exc):
                    raise SqlError("Wrong number of parameter bindings for SQL query.") from None
                raise SqlError(f"{exc}: SQLITE_MISUSE") from None
            except sqlite3.Error as exc:
                offset = ERROR_OFFSETS.offset(ERROR_OFFSETS.handle(conn))
                reason, db.denied = db.denied, None
                # ON CONFLICT ROLLBACK and a few fatal errors end the whole transaction.
                if db.in_txn and not conn.in_transaction:
                    db.cache.clear()  # earlier uncommitted KV writes went with it
                    db.in_txn = False
                if renames and db.in_txn:
                    db.savepoint("_cf_exec", "ROLLBACK TO")
                    db.savepoint("_cf_exec", "RELEASE")
                raise sql_error(exc, reason, offset) from None
            if renames:
                if _reserved_names_appeared(db):
                    db.savepoint("_cf_exec", "ROLLBACK TO")
                    db.savepoint("_cf_exec", "RELEASE")
                    error = SqlError("not authorized: SQLITE_AUTH")
                    error.add_note("dolab: names starting with _cf_ are reserved for Cloudflare's own tables.")
                    raise error
                db.savepoint("_cf_exec", "RELEASE")
            if last:
                changed_schema = _schema_version(db) != schema
                read, written = count_rows(db, statement, values, len(rows), conn.total_changes - before,
                                           changed_schema, cursor.rowcount)
        columns = [d[0] for d in cursor.description] if cursor is not None and cursor.description else []
        host.count_rows(read, written)
        return SqlStorageCursor(columns, rows, read, written)

    @property
    def databaseSize(self) -> int:
        """Bytes used by the database: (pages - free pages) x page size."""
        return self._storage._live().database().size()
