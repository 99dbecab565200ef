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
    assert made_cols == [] and made_w == 0
    assert ins_w == 2
    assert names == ["sku", "qty"]
    assert first == {"sku": "apple", "qty": 2} and qty == 2
    assert rest == [{"sku": "pear", "qty": 1}]
    assert raw == [["apple", 2], ["pear", 1]]
    assert n == 2
    assert step1 == {"done": False, "value": {"qty": 1}} and step2["done"] is True


def test_rows_read_and_written(lab: Lab) -> None:
    def body(obj: Any, ctx: Any) -> Any:
        sql = ctx.storage.sql
        sql.exec("CREATE TABLE t (x INTEGER)")
        w = sql.exec("INSERT INTO t SELECT value FROM json_each('[1,2,3,4,5]')").rowsWritten
        upd = sql.exec("UPDATE t SET x = x + 1 WHERE x > 3")
        sel = sql.exec("SELECT * FROM t")
        return w, upd.rowsWritten, upd.rowsRead, sel.rowsRead

    assert inside(lab, body) == (5, 2, 2, 5)


def test_several_statements_bindings_apply_to_the_last(lab: Lab) -> None:
    def body(obj: Any, ctx: Any) -> Any:
        cursor = ctx.storage.sql.exec(
            "CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('a;b'); -- a comment; with a semicolon\n"
            "SELECT x FROM t WHERE x = ?;",
            "a;b",
        )
        return cursor.toArray()

    assert inside(lab, body) == [{"x": "a;b"}]


def test_value_mapping(lab: Lab) -> None:
    def body(obj: Any, ctx: Any) -> Any:
        return ctx.storage.sql.exec("SELECT ? AS b, ? AS f, ? AS n, ? AS big", b"\x00\x01", 1.5, None, 2**60).one()

    row = inside(lab, body)
    assert row == {"b": b"\x00\x01", "f": 1.5, "n": None, "big": int(float(2**60))}


def test_database_size_grows_and_objects_do_not_share(lab: Lab) -> None:
    def write(obj: Any, ctx: Any) -> Any:
        before = ctx.storage.sql.databaseSize
        ctx.storage.sql.exec("CREATE TABLE secret (v TEXT)")
        ctx.storage.sql.exec("INSERT INTO secret VALUES (?)", "x" * 50_000)
        return before, ctx.storage.sql.databaseSize

    def peek(obj: Any, ctx: Any) -> Any:
        return [r.name for r in ctx.storage.sql.exec("PRAGMA table_list")]

    before, after = inside(lab, write, "one")
    assert after >= before + 50_000
    assert "secret" not in inside(lab, peek, "two")
    with pytest.raises(SqlError, match="no such table: secret"):
        inside(lab, lambda o, c: c.storage.sql.exec("SELECT * FROM secret"), "two")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("BEGIN TRANSACTION", "please use the state.storage.transaction"),
        ("COMMIT", "please use the state.storage.transaction"),
        ("SAVEPOINT s", "please use the state.storage.transaction"),
        ("SELECT * FROM _cf_KV", "access to _cf_KV is prohibited"),
        ("CREATE TABLE _cf_mine (x)", "_cf_mine is prohibited"),
        ("CREATE TABLE t2 (x); ALTER TABLE t2 RENAME /**/ TO _cf_t2", "names starting with _cf_ are reserved"),
        ("ATTACH DATABASE ':memory:' AS other", "ATTACH and DETACH are not allowed"),
        ("CREATE TEMP TABLE tmp (x)", "TEMP tables"),
        ("PRAGMA user_version", "PRAGMA user_version is not allowed"),
        ("PRAGMA max_page_count = 10", "PRAGMA max_page_count is not allowed"),
        ("PRAGMA page_size = 1024", "read-only"),
        ("SELECT sqlite_version()", "not authorized to use function: sqlite_version"),
    ],
)
def test_forbidden_sql_is_refused_and_changes_nothing(lab: Lab, query: str, message: str) -> None:
    def body(obj: Any, ctx: Any) -> Any:
        ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS keep (x); INSERT INTO keep VALUES (1)")
        with pytest.raises(SqlError, match=message) as info:
            ctx.storage.sql.exec(query)
        tables = sorted(r.name for r in ctx.storage.sql.exec("PRAGMA table_list") if not r.name.startswith("sqlite_"))
        return str(info.value), tables, ctx.storage.sql.exec("SELECT count(*) AS n FROM keep").one().n

    text, tables, n = inside(lab, body)
    assert "not authorized" in text
    assert tables == ["_cf_KV", "_cf_METADATA", "keep"]
    assert n == 1


def test_allowed_pragmas_and_extensions(lab: Lab) -> None:
    def body(obj: Any, ctx: Any) -> Any:
        sql = ctx.storage.sql
        sql.exec("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)")
        cols = [r.name for r in sql.exec("PRAGMA table_info(t)")]
        sql.exec("PRAGMA foreign_keys = ON")
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
