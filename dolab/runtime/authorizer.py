"""What user SQL may do on a Durable Object's database, and how its errors read.

Cloudflare runs every statement through an SQLite authorizer: no transaction statements (the
storage API owns transactions), no ``ATTACH``, no ``TEMP`` objects, no access to the internal
``_cf_`` tables, only an allow-list of PRAGMAs. dolab does the same with ``sqlite3``'s
authorizer, and the error texts are SQLite's own plus the ``: SQLITE_<CODE>`` suffix workerd
adds, so a learner can search for them. Where dolab has more to say (why a statement is refused)
it is a note on the exception (shown under the traceback), not a change to the message.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sqlite3
from typing import Any

from dolab.runtime.errors import SqlError

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

ALLOWED_PRAGMAS = frozenset(
    {
        "table_list", "table_info", "table_xinfo", "data_version", "case_sensitive_like",
        "foreign_keys", "defer_foreign_keys", "ignore_check_constraints",
        "legacy_alter_table", "recursive_triggers", "reverse_unordered_selects",
        "foreign_key_check", "foreign_key_list", "index_info", "index_list", "index_xinfo",
        "quick_check", "optimize",
    }
)
_ALLOWED_VTABLES = frozenset({"fts5", "fts5vocab"})
# Functions workerd does not let user SQL call (fts3_tokenizer hands out a raw pointer).
_DENIED_FUNCTIONS = frozenset({"sqlite_version", "sqlite_source_id", "sqlite_compileoption_used",
                               "sqlite_compileoption_get", "load_extension", "sqlite_offset",
                               "fts3_tokenizer"})
# Eponymous virtual tables that would show dolab's internals (sqlite_stmt lists every prepared
# statement, dolab's own included) or raw pages.
_HIDDEN_TABLES = frozenset({"sqlite_stmt", "sqlite_dbpage", "dbstat", "bytecode", "tables_used"})
# SQLite itself updates these (ALTER TABLE ... RENAME touches temp.sqlite_master too).
_SCHEMA_TABLES = frozenset({"sqlite_master", "sqlite_temp_master", "sqlite_schema", "sqlite_temp_schema"})
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


def deny_reason(action: int, arg1: Any, arg2: Any, dbname: Any) -> str | None:
    """Why user SQL may not do ``action`` (``None``: it may). The reason becomes a note."""
    if action in (sqlite3.SQLITE_TRANSACTION, sqlite3.SQLITE_SAVEPOINT):
        return TXN_MESSAGE
    if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
        return "ATTACH and DETACH are not allowed: each Durable Object has exactly one database."
    if action in _TEMP_ACTIONS or dbname == "temp" and action != sqlite3.SQLITE_READ and arg1 not in _SCHEMA_TABLES:
        return "TEMP tables, views, indexes and triggers are not allowed (temp.name included)."
    if action == sqlite3.SQLITE_PRAGMA:
        name = str(arg1).lower()
        if name not in ALLOWED_PRAGMAS:
            return f"PRAGMA {arg1} is not on Cloudflare's allow-list."
        if name == "data_version" and arg2 is not None:
            return f"PRAGMA {arg1} is read-only."
        if name in ("table_info", "table_xinfo") and str(arg2 or "").lower().startswith("_cf_"):
            return f"{arg2} is internal to Cloudflare: names starting with _cf_ are reserved."
        return None
    vtable = action in (sqlite3.SQLITE_CREATE_VTABLE, sqlite3.SQLITE_DROP_VTABLE)
    if vtable and str(arg2).lower() not in _ALLOWED_VTABLES:
        return f"virtual table module {arg2!r} is not allowed (only fts5)."
    if action == sqlite3.SQLITE_FUNCTION and str(arg2).lower() in _DENIED_FUNCTIONS:
        return f"the function {arg2}() is not available to Durable Objects."
    if action == sqlite3.SQLITE_READ and str(arg1).lower() in _HIDDEN_TABLES:
        return f"{arg1} is not available to Durable Objects."
    if action in _NAMED_ACTIONS or action == sqlite3.SQLITE_CREATE_VTABLE:
        for name in (arg1, arg2):
            if isinstance(name, str) and name[:4].lower() == "_cf_":
                return f"{name} is internal to Cloudflare: names starting with _cf_ are reserved."
    return None


def sql_error(exc: sqlite3.Error, reason: str | None, offset: int = -1) -> SqlError:
    """Turn a sqlite3 error into dolab's, worded as workerd words it.

    workerd appends `` at offset N`` where SQLite knows where in the statement the error is, and
    ``: SQLITE_<CODE>`` (for constraints also the extended code).
    """
    code = getattr(exc, "sqlite_errorname", "SQLITE_ERROR")
    message = str(exc)
    if reason == TXN_MESSAGE:
        return SqlError(TXN_MESSAGE)  # workerd's own words, alone
    if message.startswith("not authorized to use function: "):
        if "load_extension" in message:
            return SqlError("not authorized: SQLITE_ERROR")  # workerd has no such function at all
        code = "SQLITE_ERROR"  # SQLite reports a refused function as an ordinary error
    elif message == "query string is too large":
        message, code = "statement too long", "SQLITE_TOOBIG"
    if offset >= 0:
        message += f" at offset {offset}"
    if code.startswith("SQLITE_CONSTRAINT_"):
        text = f"{message}: SQLITE_CONSTRAINT (extended: {code})"
    elif reason is not None and code == "SQLITE_ERROR" and not message.startswith("not authorized to use"):
        text = f"{message}: SQLITE_AUTH"
    else:
        text = f"{message}: {code}"
    error = SqlError(text)
    if reason is not None:
        error.add_note(f"dolab: {reason}")
    return error


class _ErrorOffsets:
    """``sqlite3_error_offset()``: where in a statement SQLite found the error (SQLite 3.38+).

    Python's ``sqlite3`` does not expose it. The C library does, and a connection object's
    first field is its ``sqlite3*`` handle (CPython's ``pysqlite_Connection``), so it is read
    through ``ctypes``; before trusting that, the handle is checked against a value Python
    reports too. Where any of this is unavailable, messages simply have no offset.
    """

    def __init__(self) -> None:
        self._lib: Any = None
        try:
            path = ctypes.util.find_library("sqlite3")
            lib = ctypes.CDLL(path) if path else None
            if lib is not None and hasattr(lib, "sqlite3_error_offset"):
                lib.sqlite3_error_offset.restype = ctypes.c_int
                lib.sqlite3_error_offset.argtypes = [ctypes.c_void_p]
                lib.sqlite3_total_changes.restype = ctypes.c_int
                lib.sqlite3_total_changes.argtypes = [ctypes.c_void_p]
                lib.sqlite3_libversion_number.restype = ctypes.c_int
                if lib.sqlite3_libversion_number() == sqlite3.sqlite_version_info[0] * 1_000_000 + \
                        sqlite3.sqlite_version_info[1] * 1000 + sqlite3.sqlite_version_info[2]:
                    self._lib = lib
        except (OSError, AttributeError):
            self._lib = None

    def handle(self, conn: sqlite3.Connection) -> int | None:
        """The ``sqlite3*`` of ``conn``, if it can be found and checked."""
        if self._lib is None:
            return None
        try:
            pointer = ctypes.c_void_p.from_address(id(conn) + object.__basicsize__).value
        except (ValueError, OSError):
            return None
        if not pointer:
            return None
        # The same connection counts the same changes: a wrong pointer would not (or crash,
        # which the version check above makes very unlikely).
        if self._lib.sqlite3_total_changes(pointer) != conn.total_changes % 2**31:
            return None
        return int(pointer)

    def offset(self, handle: int | None) -> int:
        return -1 if handle is None or self._lib is None else int(self._lib.sqlite3_error_offset(handle))


ERROR_OFFSETS = _ErrorOffsets()
