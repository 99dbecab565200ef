"""The SQL API: exec and its cursor, sizes, what Cloudflare refuses, one database per object."""

from __future__ import annotations

from typing import Any

import pytest

from dolab import Lab, SqlError


def inside(lab: Lab, fn: Any, name: str = "sql") -> Any:
    return lab.run(lab.run_in_durable_object(lab.env.COUNTER.getByName(name), fn))


def test_exec_and_cursor_shapes(lab: Lab) -> None:
    def body(obj: Any, ctx: Any) -> Any:
        sql = ctx.storage.sql
        made = sql.exec("CREATE TABLE cart (sku TEXT PRIMARY KEY, qty INTEGER)")
        inserted = sql.exec("INSERT INTO cart VALUES (?, ?), (?, ?)", "apple", 2, "pear", 1)
        rows = sql.exec("SELECT sku, qty FROM cart ORDER BY sku")
        names = rows.columnNames
        first = next(rows)
        rest = rows.toArray()
        raw = sql.exec("SELECT sku, qty FROM cart ORDER BY sku").raw().toArray()
        one = sql.exec("SELECT count(*) AS n FROM cart").one()
        step = sql.exec("SELECT qty FROM cart WHERE sku = ?", "pear")
        return (made.columnNames, made.rowsWritten, inserted.rowsWritten, names, first, first.qty, rest, raw,
                one.n, step.next(), step.next())

    made_cols, made_w, ins_w, names, first, qty, rest, raw, n, step1, step2 = inside(lab, body)
    assert made_cols == [] and made_w == 3  # the table's schema row (twice) and its primary-key index
    assert ins_w == 4  # two rows, and an index entry for each
    assert names == ["sku", "qty"]
    assert first == {"sku": "apple", "qty": 2} and qty == 2
    assert rest == [{"sku": "pear", "qty": 1}]
    assert raw == [["apple", 2], ["pear", 1]]
    assert n == 2
    assert step1 == {"done": False, "value": {"qty": 1}} and step2["done"] is True


def test_rows_read_and_written(lab: Lab) -> None:
    """A scan reads every row; a lookup by key reads one; an index costs a write per row."""

    def body(obj: Any, ctx: Any) -> Any:
        sql = ctx.storage.sql
        sql.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER)")
        w = sql.exec("INSERT INTO t (x) SELECT value FROM json_each('[1,2,3,4,5]')").rowsWritten
        upd = sql.exec("UPDATE t SET x = x + 1 WHERE x > 3")
        scan = sql.exec("SELECT * FROM t WHERE x = 6")
        lookup = sql.exec("SELECT * FROM t WHERE id = 5")
        nothing = sql.exec("SELECT ? AS v", 1)
        sql.exec("CREATE INDEX tx ON t (x)")
        indexed = sql.exec("INSERT INTO t (x) VALUES (9)").rowsWritten
        return (w, upd.rowsWritten, upd.rowsRead, scan.rowsRead, len(scan.toArray()), lookup.rowsRead,
                nothing.rowsRead, indexed)

    assert inside(lab, body) == (5, 2, 5, 5, 1, 1, 0, 2)


def test_rows_read_grows_as_a_cursor_is_read(lab: Lab) -> None:
    def body(obj: Any, ctx: Any) -> Any:
        sql = ctx.storage.sql
        sql.exec("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        sql.exec("INSERT INTO t SELECT value FROM json_each('[1,2,3,4]')")
        cursor = sql.exec("SELECT * FROM t")
        seen = [cursor.rowsRead]
        next(cursor)
        seen.append(cursor.rowsRead)
        cursor.toArray()
        seen.append(cursor.rowsRead)
        return seen

    assert inside(lab, body) == [1, 2, 4]


def test_a_later_statement_failing_keeps_the_earlier_ones(lab: Lab) -> None:
    """As on workerd: each statement of one exec runs on its own; a failure stops the rest."""

    def body(obj: Any, ctx: Any) -> Any:
        sql = ctx.storage.sql
        with pytest.raises(SqlError, match=r"^no such table: nope: SQLITE_ERROR$"):
            sql.exec("CREATE TABLE t (x); INSERT INTO t VALUES (1); INSERT INTO nope VALUES (2); "
                     "INSERT INTO t VALUES (3)")
        return sql.exec("SELECT x FROM t").raw().toArray()

    assert inside(lab, body) == [[1]]


def test_several_statements_bindings_apply_to_the_last(lab: Lab) -> None:
    def body(obj: Any, ctx: Any) -> Any:
        cursor = ctx.storage.sql.exec(
            "CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('a;b'); -- a comment; with a semicolon\n"
            "SELECT x FROM t WHERE x = ?;",
            "a;b",
        )
        return cursor.toArray()

    assert inside(lab, body) == [{"x": "a;b"}]


def test_values_cross_to_javascript_and_back(lab: Lab) -> None:
    """Bindings are JS values: an int is a number (bound as REAL), a bool or a list is text; results
    come back as a Python Worker gets them: whole numbers as int, BLOBs as memoryview."""

    def body(obj: Any, ctx: Any) -> Any:
        sql = ctx.storage.sql
        row = sql.exec("SELECT ? AS b, ? AS f, ? AS n, ?/2 AS half, typeof(?) AS t, ? AS flag, ? AS items",
                       b"\x00\x01", 1.5, None, 7, 7, True, [1, 2]).one()
        big = sql.exec("SELECT 9007199254740993 AS big, 2.0 AS two").one()
        return row, big

    row, big = inside(lab, body)
    assert isinstance(row["b"], memoryview) and bytes(row["b"]) == b"\x00\x01"
    got = (row["f"], row["n"], row["half"], row["t"], row["flag"], row["items"])
    assert got == (1.5, None, 3.5, "real", "true", "1,2")
    assert big == {"big": 9007199254740992.0, "two": 2} and type(big["two"]) is int


def test_database_size_grows_and_objects_do_not_share(lab: Lab) -> None:
    def write(obj: Any, ctx: Any) -> Any:
        before = ctx.storage.sql.databaseSize
        ctx.storage.sql.exec("CREATE TABLE secret (v TEXT)")
        ctx.storage.sql.exec("INSERT INTO secret VALUES (?)", "x" * 50_000)
        return before, ctx.storage.sql.databaseSize

    def peek(obj: Any, ctx: Any) -> Any:
        return [r.name for r in ctx.storage.sql.exec("PRAGMA table_list")]

    before, after = inside(lab, write, "one")
    assert before == 4096  # a new object is one page, as on workerd
    assert after >= before + 50_000
    assert "secret" not in inside(lab, peek, "two")
    with pytest.raises(SqlError, match="no such table: secret"):
        inside(lab, lambda o, c: c.storage.sql.exec("SELECT * FROM secret"), "two")


TXN = "To execute a transaction, please use the state.storage.transaction() or"


@pytest.mark.parametrize(
    ("query", "message", "note"),
    [
        ("BEGIN TRANSACTION", TXN, None),
        ("COMMIT", TXN, None),
        ("SAVEPOINT s", TXN, None),
        ("SELECT * FROM _cf_KV", "access to _cf_KV.key is prohibited: SQLITE_AUTH", None),
        ("CREATE TABLE _cf_mine (x)", "not authorized: SQLITE_AUTH", "names starting with _cf_ are reserved"),
        ("ALTER TABLE keep RENAME /**/ TO _cf_t2", "not authorized: SQLITE_AUTH", "reserved"),
        ("ATTACH DATABASE ':memory:' AS other", "not authorized: SQLITE_AUTH", "ATTACH and DETACH are not allowed"),
        ("CREATE TEMP TABLE tmp (x)", "not authorized: SQLITE_AUTH", "TEMP tables"),
        ("CREATE TABLE temp.tmp (x)", "not authorized: SQLITE_AUTH", "TEMP tables"),
        ("PRAGMA user_version", "not authorized: SQLITE_AUTH", "PRAGMA user_version is not on Cloudflare's allow-list"),
        ("PRAGMA max_page_count = 10", "not authorized: SQLITE_AUTH", "PRAGMA max_page_count"),
        ("PRAGMA page_size = 1024", "not authorized: SQLITE_AUTH", "PRAGMA page_size"),
        ("SELECT sqlite_version()", "not authorized to use function: sqlite_version at offset 7: SQLITE_ERROR", None),
    ],
)
def test_forbidden_sql_is_refused_and_changes_nothing(lab: Lab, query: str, message: str, note: str | None) -> None:
    def body(obj: Any, ctx: Any) -> Any:
        ctx.storage.put("kv", 1)  # so that _cf_KV exists
        ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS keep (x); INSERT INTO keep VALUES (1)")
        with pytest.raises(SqlError) as info:
            ctx.storage.sql.exec(query)
        tables = sorted(r.name for r in ctx.storage.sql.exec("PRAGMA table_list") if not r.name.startswith("sqlite_"))
        notes = getattr(info.value, "__notes__", [])
        return str(info.value), notes, tables, ctx.storage.sql.exec("SELECT count(*) AS n FROM keep").one().n

    text, notes, tables, n = inside(lab, body)
    assert text.startswith(message), text  # workerd's words, so that a learner can search them
    if note is not None:
        assert any(note in line for line in notes), notes  # and dolab's explanation beside them
    assert tables == ["_cf_KV", "keep"]
    assert n == 1


def test_allowed_pragmas_and_extensions(lab: Lab) -> None:
    def body(obj: Any, ctx: Any) -> Any:
        sql = ctx.storage.sql
        sql.exec("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)")
        cols = [r.name for r in sql.exec("PRAGMA table_info(t)")]
        sql.exec("PRAGMA foreign_keys = ON")
        sql.exec("PRAGMA case_sensitive_like = ON")
        sql.exec("CREATE VIRTUAL TABLE docs USING fts5(body)")
        sql.exec("INSERT INTO docs VALUES ('durable objects are fun')")
        hits = sql.exec("SELECT body FROM docs WHERE docs MATCH 'durable'").toArray()
        return cols, hits, sql.exec("SELECT json_extract('{\"a\": 3}', '$.a') AS a").one().a

    assert inside(lab, body) == (["a", "b"], [{"body": "durable objects are fun"}], 3)


def test_sql_limits_match_cloudflare(lab: Lab) -> None:
    def body(obj: Any, ctx: Any) -> Any:
        sql = ctx.storage.sql
        with pytest.raises(SqlError, match="too many SQL variables"):
            sql.exec("SELECT " + ", ".join("?" * 101), *range(101))
        with pytest.raises(SqlError, match="too many columns"):
            sql.exec("CREATE TABLE wide (" + ", ".join(f"c{i}" for i in range(101)) + ")")
        return sql.exec("SELECT " + ", ".join("?" * 100), *range(100)).raw().toArray()[0][-1]

    assert inside(lab, body) == 99
