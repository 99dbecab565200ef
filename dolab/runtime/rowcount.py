"""``rowsRead`` and ``rowsWritten``: what one SQL statement is billed for.

workerd counts inside a patched SQLite's bytecode engine (cloudflare/workerd
``patches/sqlite/0001-row-counts-plain.patch``): a row is *read* each time a cursor seeks or
steps (a full scan of n rows reads n; a lookup by key reads 1; ``count(*)`` of a table reads
every row; a sort reads each sorted row once more) and *written* for each table row inserted,
updated or deleted and each index entry inserted. Python's ``sqlite3`` cannot see inside the
engine, so dolab estimates the same quantities from the statement's query plan
(``EXPLAIN QUERY PLAN``), the rows it returned and the rows it changed:

=============================================  ===========================================
plan step                                      rows read
=============================================  ===========================================
``SCAN CONSTANT ROW`` (``SELECT ?``)           0
``SCAN t`` (a table)                           every row of ``t`` (at least 1)
``SELECT count(*) FROM t``                     every row of ``t``
``SEARCH t USING INTEGER PRIMARY KEY``         1 per row found (at least 1)
``SEARCH t USING [COVERING] INDEX``            1 + rows found (0 if none is found; rows
                                               found if the range runs to the index's end)
``SCAN t VIRTUAL TABLE`` (FTS5)                rows found
``USE TEMP B-TREE FOR ORDER BY``               rows sorted (at least 1)
=============================================  ===========================================

An INSERT writes each row plus one entry per index of the table, and reads once per row for
each foreign key to check; ``RETURNING`` reads its rows again; ``AUTOINCREMENT`` reads and
writes ``sqlite_sequence``. An UPDATE writes each row plus one entry per index that holds a
column it sets; a DELETE each row. Schema statements cost what workerd was measured to charge:
``CREATE TABLE`` 1 read and 2 writes, one more write per index the table implies; ``CREATE
INDEX`` on a table of n rows, m of them entering the index (all of them unless the index is
partial), reads 2 + n + m and writes 1 + m; ``DROP TABLE``/``DROP INDEX`` read the schema
(2 + the entries left in it) and ``ALTER TABLE ... ADD COLUMN`` too (2 + its entries). What the
model misses (recursive CTEs, cascading deletes, aggregates over an index, ``GROUP BY``) is
listed by the conformance suite (``conformance/known_differences.json``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from dolab.runtime.database import INTERNAL

if TYPE_CHECKING:
    from dolab.runtime.database import Database

_WORDS = re.compile(r"^\s*(?:(?:--[^\n]*\n)|(?:/\*.*?\*/)|\s)*(\w+)(?:\s+(\w+))?(?:\s+(\w+))?", re.S)
_DDL = {  # (reads, writes) of schema statements, as measured on workerd
    ("CREATE", "TABLE"): (1, 2), ("CREATE", "INDEX"): (2, 1), ("CREATE", "UNIQUE"): (2, 1),
    ("CREATE", "VIEW"): (1, 2), ("CREATE", "TRIGGER"): (0, 1), ("CREATE", "VIRTUAL"): (1, 2),
    ("DROP", "TABLE"): (5, 0), ("DROP", "INDEX"): (4, 0), ("DROP", "VIEW"): (1, 0),
    ("DROP", "TRIGGER"): (1, 0), ("ALTER", "TABLE"): (4, 1),
}
_PLAN = re.compile(r"^(SCAN|SEARCH) (\S+)(?: AS \S+)?(.*)$")
_COUNT = re.compile(r"^\s*SELECT\s+count\(\s*\*\s*\)(?:\s+AS\s+\w+)?\s+FROM\s+[\"`\[]?(\w+)[\"`\]]?\s*;?\s*$", re.I)
_TARGET = re.compile(r"\b(?:INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)\s+[\"`\[]?(\w+)", re.I)


def count_rows(db: Database, statement: str, values: tuple[Any, ...], returned: int, changed: int,
               schema_changed: bool, direct: int = -1) -> tuple[int, int]:
    """``(rowsRead, rowsWritten)`` of ``statement`` (see the module docstring for the model).

    ``changed`` counts every row changed, the statement's own and those of what it set off;
    ``direct`` (the cursor's ``rowcount``) only its own. ``rowsRead`` is what the statement reads
    when all its rows are read; a cursor left unread has read less (:func:`lazy_reads`).
    """
    words = _WORDS.match(statement)
    verb, second, third = ((w or "").upper() for w in words.groups()) if words else ("", "", "")
    if verb in ("CREATE", "DROP", "ALTER"):
        if not schema_changed:
            return 0, 0  # CREATE ... IF NOT EXISTS of something that exists: nothing happened
        read, written = _DDL.get((verb, second), (1, 1))
        if (verb, second) == ("CREATE", "TABLE"):
            read, written = _create_table(db, statement, read, written)
        elif verb == "CREATE" and "INDEX" in (second, third):
            read, written = _create_index(db, statement, read, written)
        elif (verb, second) in (("DROP", "TABLE"), ("DROP", "INDEX")):
            read = 2 + _schema_entries(db)  # workerd reads the schema to find what depends on it
        elif (verb, second) == ("ALTER", "TABLE") and re.search(r"\bADD\b", statement, re.I):
            read = 2 + _schema_entries(db)
        return read, written
    if verb == "ANALYZE":
        return 1, 2
    if verb in ("PRAGMA", "EXPLAIN"):
        return 0, 0
    count = _COUNT.match(statement)
    if count:
        return _table_rows(db, count.group(1)), 0
    read = _plan_reads(db, statement, values, returned, changed)
    written = changed
    if verb in ("INSERT", "REPLACE", "UPDATE", "DELETE", "WITH") and changed:
        table = _target(statement)
        if table is not None and _is_virtual(db, table):
            # A virtual table (FTS5) writes its shadow tables with statements of its own, which
            # workerd does not count: only the rows of the statement itself.
            return read, max(direct, 0)
        if table is not None and verb == "UPDATE":
            written += changed * _indexes_touched(db, table, statement)
        elif table is not None and verb != "DELETE":
            written += changed * _index_count(db, table)
            read += changed * _foreign_keys(db, table)
            if _autoincrement(db, table):
                read, written = read + 1, written + 1
    if re.search(r"\bRETURNING\b", statement, re.I):
        read += returned
    return read, written


def lazy_reads(total: int, returned: int, taken: int, exhausted: bool) -> int:
    """``rowsRead`` after ``taken`` of ``returned`` rows were read: workerd steps a statement once
    when it runs, and once more per row read, so a plain scan has read only as far as it went."""
    if exhausted or returned <= 1 or total < returned:
        return total
    return min(total, max(1, total - returned + taken + 1))


def _is_virtual(db: Database, table: str) -> bool:
    try:
        with db.privileged() as conn:
            row = conn.execute(INTERNAL + "SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()
    except Exception:  # noqa: BLE001
        return False
    return bool(row and row[0] and row[0].upper().startswith("CREATE VIRTUAL"))


def _plan(db: Database, statement: str, values: tuple[Any, ...]) -> list[str]:
    try:
        with db.privileged() as conn:
            return [row[3] for row in conn.execute(INTERNAL + "EXPLAIN QUERY PLAN " + statement.rstrip().rstrip(";"),
                                                   values)]
    except Exception:  # noqa: BLE001 - an estimate must never fail the statement it describes
        return []


def _plan_reads(db: Database, statement: str, values: tuple[Any, ...], returned: int, changed: int) -> int:
    found = returned or changed
    total = 0
    for step in _plan(db, statement, values):
        if step.startswith("USE TEMP B-TREE FOR ORDER BY"):
            total += max(1, returned)
            continue
        match = _PLAN.match(step)
        if not match or step == "SCAN CONSTANT ROW":
            continue
        kind, table, rest = match.groups()
        if "VIRTUAL TABLE" in rest:
            total += returned
        elif kind == "SCAN":
            rows = _table_rows(db, table)
            total += max(1, rows) if rows >= 0 else 0  # a view or a CTE has no rows of its own
        elif "INTEGER PRIMARY KEY" in rest:
            total += max(1, found)
        elif found:
            # A step per entry, and one more onto the entry that ends the range, unless the range
            # runs to the end of the index. A seek that finds nothing reads 0.
            total += found if _runs_to_end(rest, statement) else 1 + found
    return total


_DESC = re.compile(r"\bORDER\s+BY\b[^;]*\bDESC\b", re.I | re.S)


def _runs_to_end(rest: str, statement: str) -> bool:
    """An index range bounded on one side only, walked towards its open side (``at > ?`` in
    ascending order, ``at < ?`` in descending order), ends at the end of the index."""
    bounds = re.search(r"\(([^()]*)\)\s*$", rest)
    if not bounds or "=" in bounds.group(1):
        return False
    lower, upper = ">" in bounds.group(1), "<" in bounds.group(1)
    descending = bool(_DESC.search(statement))
    return (lower and not upper and not descending) or (upper and not lower and descending)


def _table_rows(db: Database, table: str) -> int:
    """Rows in ``table``; -1 if it is not a table (a view, a CTE, a subquery)."""
    quoted = '"' + table.replace('"', '""') + '"'
    try:
        with db.privileged() as conn:
            kind = conn.execute(INTERNAL + "SELECT type FROM sqlite_master WHERE name = ?", (table,)).fetchone()
            if table not in ("sqlite_master", "sqlite_schema") and (kind is None or kind[0] != "table"):
                return -1
            return int(conn.execute(f"{INTERNAL}SELECT count(*) FROM {quoted}").fetchone()[0])
    except Exception:  # noqa: BLE001
        return -1


def _target(statement: str) -> str | None:
    match = _TARGET.search(statement)
    return match.group(1) if match else None


def _pragma_rows(db: Database, pragma: str, table: str) -> list[Any]:
    try:
        with db.privileged() as conn:
            return conn.execute(f"{INTERNAL}SELECT * FROM pragma_{pragma}(?)", (table,)).fetchall()
    except Exception:  # noqa: BLE001
        return []


def _index_count(db: Database, table: str) -> int:
    return len(_pragma_rows(db, "index_list", table))


def _foreign_keys(db: Database, table: str) -> int:
    """Foreign keys checked for a row of ``table``: its own, and those of tables that refer to it."""
    own = len({row[0] for row in _pragma_rows(db, "foreign_key_list", table)})
    try:
        with db.privileged() as conn:
            others = [r[0] for r in conn.execute(INTERNAL + "SELECT name FROM sqlite_master WHERE type = 'table'")]
    except Exception:  # noqa: BLE001
        others = []
    referring = sum(1 for name in others if any(row[2] == table for row in _pragma_rows(db, "foreign_key_list", name)))
    return own + referring


def _autoincrement(db: Database, table: str) -> bool:
    try:
        with db.privileged() as conn:
            row = conn.execute(INTERNAL + "SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()
    except Exception:  # noqa: BLE001
        return False
    return bool(row and row[0] and "AUTOINCREMENT" in row[0].upper())


def _schema_entries(db: Database) -> int:
    """Rows of ``sqlite_schema``: tables, indexes (automatic ones too), views and triggers."""
    try:
        with db.privileged() as conn:
            return int(conn.execute(INTERNAL + "SELECT count(*) FROM sqlite_master").fetchone()[0])
    except Exception:  # noqa: BLE001
        return 0


_ON_TABLE = re.compile(r"\bON\s+[\"`\[]?(\w+)[\"`\]]?\s*\(", re.I)
_PARTIAL = re.compile(r"\)\s*WHERE\b(.+?);?\s*$", re.I | re.S)


def _create_index(db: Database, statement: str, read: int, written: int) -> tuple[int, int]:
    """Building an index reads the table (n rows), sorts the m entries it keeps and writes them."""
    on = _ON_TABLE.search(statement)
    rows = _table_rows(db, on.group(1)) if on else -1
    if rows < 0:
        return read, written
    entries = rows
    partial = _PARTIAL.search(statement)
    if partial:
        quoted = '"' + on.group(1).replace('"', '""') + '"'  # type: ignore[union-attr]
        try:
            with db.privileged() as conn:
                entries = int(conn.execute(f"{INTERNAL}SELECT count(*) FROM {quoted} WHERE {partial.group(1)}")
                              .fetchone()[0])
        except Exception:  # noqa: BLE001
            entries = rows
    return read + rows + entries, written + entries


_SET = re.compile(r"\bSET\b(.*?)(?:\bWHERE\b|\bFROM\b|\bRETURNING\b|\bORDER\s+BY\b|\bLIMIT\b|$)", re.I | re.S)
_ASSIGNED = re.compile(r"(?:^|,)\s*[\"`\[]?(\w+)[\"`\]]?\s*=(?!=)")


def _indexes_touched(db: Database, table: str, statement: str) -> int:
    """Indexes of ``table`` that an UPDATE rewrites: those naming a column it sets (in their
    columns, expressions or WHERE), all of them if it sets the rowid."""
    clause = _SET.search(statement)
    assigned = {name.lower() for name in _ASSIGNED.findall(clause.group(1))} if clause else set()
    if not assigned:
        return _index_count(db, table)
    rowid = {row[1].lower() for row in _pragma_rows(db, "table_info", table) if row[5] == 1 and
             str(row[2]).upper() == "INTEGER"}
    if assigned & (rowid | {"rowid", "_rowid_", "oid"}):
        return _index_count(db, table)
    touched = 0
    for index in _pragma_rows(db, "index_list", table):
        columns = [row[2] for row in _pragma_rows(db, "index_info", index[1])]
        try:
            with db.privileged() as conn:
                sql = conn.execute(INTERNAL + "SELECT sql FROM sqlite_master WHERE name = ?", (index[1],)).fetchone()
        except Exception:  # noqa: BLE001
            sql = None
        words = {w.lower() for w in re.findall(r"\w+", sql[0])} if sql and sql[0] else set()
        if None in columns or assigned & ({str(c).lower() for c in columns} | words):
            touched += 1
    return touched


def _create_table(db: Database, statement: str, read: int, written: int) -> tuple[int, int]:
    """A new table writes one more schema row per index it implies; AUTOINCREMENT creates
    ``sqlite_sequence`` the first time (a read and two writes more)."""
    match = re.search(r"TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?[\"`\[]?(\w+)", statement, re.I)
    if match:
        written += _index_count(db, match.group(1))
    if "AUTOINCREMENT" in statement.upper():
        read, written = read + 1, written + 2
    return read, written
