"""The conformance catalogue: every case, written as a learner would write it in Python.

One source of truth for both runtimes: :mod:`conformance.record` sends these cases to workerd
(through the SDK model) and :mod:`conformance.run` performs them on dolab. ``catalogue()``
returns the cases; ``python3 -m conformance.cases`` prints how many operations each area has.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from typing import Any

from conformance.sdk_model import DateNow, Now
from conformance.steps import SKIP_LOCAL_LIMITS, Case, IdString, Step, call, kv, sql

UTC = dt.UTC

# Values a learner might store, in the order the catalogue uses them.
VALUES: list[tuple[str, Any]] = [
    ("none", None),
    ("true", True),
    ("false", False),
    ("zero", 0),
    ("negative", -7),
    ("max_safe", 2**53 - 1),
    ("beyond_safe", 2**53 + 1),
    ("huge", 10**30),
    ("float", 3.5),
    ("whole_float", 3.0),
    ("neg_zero", -0.0),
    ("nan", float("nan")),
    ("inf", float("inf")),
    ("empty_str", ""),
    ("text", "hello"),
    ("unicode", "héllo 😀"),
    ("lone_surrogate", "a\ud800b"),
    ("bytes", b"\x00\x01\xff"),
    ("empty_bytes", b""),
    ("list", [1, "a", None, 2.5]),
    ("nested", {"a": 1, "b": [1, 2, {"c": None}], "d": {"e": "f"}}),
    ("int_keys", {1: "one", "b": 2, 10: "ten"}),
    ("none_key", {None: 1}),
    ("set", {1, 2, 3}),
    ("datetime", dt.datetime(2026, 3, 1, 12, 30, tzinfo=UTC)),
    ("naive_datetime", dt.datetime(2026, 3, 1, 12, 30)),
    ("exception", ValueError("bad value")),
    ("tuple", (1, 2)),
    ("bytearray", bytearray(b"ab")),
    ("tuple_inside", {"a": (1, 2)}),
    ("list_of_dicts", [{"x": 1}, {"y": None}]),
    ("empty_dict", {}),
    ("empty_list", []),
]

LIST_KEYS = ["a", "aa", "ab", "abc", "b", "ba", "c", "1", "10", "2", "é", "😀", "z"]


def kv_cases() -> list[Case]:
    cases = []
    # Every value type: put, get, get of many keys, list.
    steps: list[Step] = []
    for name, value in VALUES:
        steps += [call("put", name, value), call("get", name)]
    cases.append(Case("kv-values-roundtrip", "kv", steps))
    cases.append(Case("kv-values-list", "kv", [call("put", n, v) for n, v in VALUES] + [call("list")]))
    cases.append(Case("kv-values-put-many", "kv", [
        call("put", {n: v for n, v in VALUES if n not in ("tuple", "bytearray", "tuple_inside")}),
        call("get", [n for n, _ in VALUES]),
        call("get", ["list", "missing", "text"]),
    ]))
    # Keys of other types than str.
    keys: list[Any] = [1, 0, -1, 1.5, 2**53 + 1, True, None, "", " ", "a\ud800", "\udfff", "é", "😀", "\x00",
                       "key/with/slashes", float("nan"), b"k", ["a"], {"k": 1}]
    steps = []
    for k in keys:
        steps += [call("put", k, "v"), call("get", k)]
    steps += [call("list"), call("delete", 1), call("delete", None), call("delete", [True, "missing", ""]),
              call("get", [1, "1", None, "null", True, "true"]), call("list")]
    cases.append(Case("kv-keys", "kv", steps))
    # Arguments a learner gets wrong.
    cases.append(Case("kv-bad-arguments", "kv", [
        call("put", "only-key"),
        call("put", "k", None),
        call("get", "k"),
        call("put", {"a": 1, "b": None}),
        call("get", ["a", "b"]),
        call("put"),
        call("get"),
        call("delete"),
        call("get", []),
        call("delete", []),
        call("put", {}),
        call("get", ("a", "b")),
        call("delete", ("a",)),
        call("put", "x", 1, {"allowUnconfirmed": True}),
        call("put", "y", 2, allowUnconfirmed=True, noCache=True),
        call("get", "x", {"allowConcurrency": True}),
        call("get", "y", noCache=True),
        call("get", "x", {"bogus": 1}),
        call("put", "x", 1, {"bogus": 1}),
        call("get", "x", "not options"),
        call("put", "x", 1, 5),
        call("delete", "x", {"allowUnconfirmed": True}),
        call("get", "x"),
    ]))
    # Deletes: counts and booleans.
    cases.append(Case("kv-delete", "kv", [
        call("put", {"a": 1, "b": 2, "c": 3}),
        call("delete", "a"),
        call("delete", "a"),
        call("delete", ["b", "c", "d"]),
        call("delete", ["b"]),
        call("get", ["a", "b", "c"]),
        call("put", "e", 5),
        call("delete", ["e", "e"]),
    ]))
    # deleteAll
    cases.append(Case("kv-deleteall", "kv", [
        call("put", {"a": 1, "b": 2}),
        sql("CREATE TABLE t(x)"),
        call("setAlarm", Now(3_600_000), time=True),
        call("deleteAll"),
        call("list"),
        call("getAlarm", time=True),
        sql("SELECT name FROM sqlite_master"),
        Step("databaseSize"),
        call("deleteAll"),
        call("deleteAll", {"allowUnconfirmed": True}),
        call("put", "after", 1),
        call("get", "after"),
        call("sync"),
    ]))
    # The synchronous KV API (ctx.storage.kv): same data as the asynchronous one.
    steps = [kv("put", "a", 1), kv("get", "a"), call("get", "a"), call("put", "b", {"x": [1, 2]}), kv("get", "b"),
             kv("get", "missing"), kv("put", 5, "five"), kv("get", "5"), kv("put", "ab", None), kv("list"),
             kv("list", {"prefix": "a"}), kv("list", {"reverse": True, "limit": 2}), kv("list", {"start": "b"}),
             kv("list", {"startAfter": "a", "end": "b"}), kv("list", {"limit": 0}), kv("delete", "a"),
             kv("delete", "a"), call("list"), kv("put", "only-key"), kv("get"), kv("delete"), kv("put"),
             kv("get", ["a", "b"]), kv("delete", ["a", "b"])]
    for name, value in VALUES:
        steps += [kv("put", name, value), kv("get", name)]
    cases.append(Case("kv-sync", "kv", steps))
    # Production limits that local workerd does not enforce: recorded, never counted.
    cases.append(Case("kv-limits", "kv", [
        call("put", "k" * 2049, 1, skip=SKIP_LOCAL_LIMITS),
        call("put", "big", "x" * (2 * 1024 * 1024 + 10), skip=SKIP_LOCAL_LIMITS),
        call("get", [f"k{i}" for i in range(129)], skip=SKIP_LOCAL_LIMITS),
        call("put", {f"k{i}": i for i in range(129)}, skip=SKIP_LOCAL_LIMITS),
        call("delete", [f"k{i}" for i in range(129)], skip=SKIP_LOCAL_LIMITS),
        call("get", [f"k{i}" for i in range(128)]),
        call("put", {f"k{i}": i for i in range(128)}),
        call("delete", [f"k{i}" for i in range(128)]),
    ]))
    return cases


def list_cases() -> list[Case]:
    cases = []
    fill = [call("put", {k: i for i, k in enumerate(LIST_KEYS)})]
    # Every combination of start / end / prefix / reverse / limit.
    starts: list[Any] = [None, "aa", "b"]
    ends: list[Any] = [None, "b", "c"]
    prefixes: list[Any] = [None, "a", "b"]
    steps = []
    for start, end, prefix, reverse, limit in itertools.product(starts, ends, prefixes, [None, True], [None, 2]):
        opts = {k: v for k, v in
                {"start": start, "end": end, "prefix": prefix, "reverse": reverse, "limit": limit}.items()
                if v is not None}
        steps.append(call("list", opts))
    cases.append(Case("list-combinations", "list", fill + steps))
    # startAfter combinations.
    steps = []
    for after, end, prefix, reverse, limit in itertools.product(["a", "ab", "z"], [None, "c"], [None, "a"],
                                                               [None, True], [None, 1]):
        opts = {k: v for k, v in
                {"startAfter": after, "end": end, "prefix": prefix, "reverse": reverse, "limit": limit}.items()
                if v is not None}
        steps.append(call("list", opts))
    cases.append(Case("list-startafter", "list", fill + steps))
    # Coercions and bad options.
    odd: list[dict[str, Any]] = [
        {"limit": 2.0}, {"limit": "3"}, {"limit": 2.9}, {"limit": 0.5}, {"limit": 0}, {"limit": -1},
        {"limit": "x"}, {"limit": float("nan")}, {"limit": float("inf")}, {"limit": None}, {"limit": True},
        {"limit": 2**53 + 1}, {"limit": [2]},
        {"start": 5}, {"start": 1}, {"start": None}, {"start": True}, {"start": ""}, {"start": ["b"]},
        {"end": 2}, {"end": None}, {"end": ""},
        {"prefix": None}, {"prefix": ""}, {"prefix": 1}, {"prefix": "é"}, {"prefix": "\ud83d"},
        {"reverse": 1}, {"reverse": "yes"}, {"reverse": 0}, {"reverse": None}, {"reverse": False},
        {"start": "a", "startAfter": "b"}, {"startAfter": None}, {"startAfter": ""}, {"startAfter": 1},
        {"start": "c", "end": "a"}, {"start": "b", "end": "b"}, {"startAfter": "b", "end": "ba"},
        {"prefix": "a", "start": "b"}, {"prefix": "b", "end": "a"}, {"prefix": "a", "startAfter": "ab", "limit": 1},
        {"bogus": 1}, {"allowConcurrency": True}, {"noCache": True, "limit": 1},
    ]
    steps = [call("list", o) for o in odd]
    steps += [
        call("list", None), call("list", {}), call("list", "a"), call("list", 5),
        call("list", prefix="a"), call("list", limit=2, reverse=True), call("list", start="b", end="c"),
        call("list", {"prefix": "a"}, limit=1),
    ]
    cases.append(Case("list-options", "list", fill + steps))
    # Ordering: UTF-8 byte order, surrogates, empty storage.
    cases.append(Case("list-order", "list", [
        call("list"),
        call("list", {"reverse": True}),
        call("put", {"\uffff": 1, "😀": 2, "\u00e9": 3, "e": 4, "E": 5, "\x00": 6, "a\x00": 7, "\ud800x": 8}),
        call("list"),
        call("list", {"reverse": True, "limit": 3}),
        call("list", {"start": "\u00e9"}),
        call("list", {"end": "😀"}),
    ]))
    return cases


def txn_cases() -> list[Case]:
    return [
        Case("txn-commit", "txn", [
            Step("transaction", steps=[call("put", "a", 1), call("get", "a"), call("put", "b", "two"),
                                       call("delete", "a"), call("get", "a")]),
            call("get", ["a", "b"]),
        ]),
        Case("txn-throw", "txn", [
            call("put", "a", 1),
            Step("transaction", steps=[call("put", "a", 2), call("put", "c", 3), call("get", "a")], end="throw"),
            call("get", ["a", "c"]),
        ]),
        Case("txn-rollback", "txn", [
            call("put", "a", 1),
            Step("transaction", steps=[call("put", "a", 2), call("get", "a")], end="rollback"),
            call("get", "a"),
        ]),
        Case("txn-raw-values", "txn", [
            Step("transaction", steps=[call("put", "n", None), call("put", "big", 2**53 + 1),
                                       call("get", "big"), call("put", "f", 2.5), call("get", "f"),
                                       call("put", "s", "x"), call("list"), call("get", "s"),
                                       call("delete", "s"), call("delete", "s")]),
        ]),
        Case("txn-deleteall", "txn", [
            call("put", "a", 1),
            Step("transaction", steps=[call("deleteAll")]),
            call("get", "a"),
        ]),
        Case("txn-alarm", "txn", [
            Step("transaction", steps=[call("setAlarm", Now(60_000)), call("getAlarm", time=True)], end="throw"),
            call("getAlarm", time=True),
            Step("transaction", steps=[call("setAlarm", Now(60_000)), call("getAlarm", time=True)]),
            call("getAlarm", time=True),
        ]),
        Case("txn-sync", "txn", [
            sql("CREATE TABLE t(x INTEGER)"),
            Step("transactionSync", steps=[sql("INSERT INTO t VALUES (1)"), sql("SELECT count(*) AS n FROM t")]),
            sql("SELECT count(*) AS n FROM t"),
            Step("transactionSync", steps=[sql("INSERT INTO t VALUES (2)"), sql("SELECT count(*) AS n FROM t")],
                 end="throw"),
            sql("SELECT count(*) AS n FROM t"),
            Step("transactionSync", steps=[sql("INSERT INTO t VALUES (3)"), sql("INSERT INTO nope VALUES (1)"),
                                           sql("SELECT count(*) AS n FROM t")]),
            sql("SELECT x FROM t ORDER BY x", read="raw"),
            Step("transactionSync", steps=[call("put", "k", 1)]),
            call("get", "k"),
            # chapter 09's migrate(): schema changes inside transactionSync, kept or rolled back
            Step("transactionSync", steps=[sql("CREATE TABLE m(x)"), sql("ALTER TABLE m ADD COLUMN y"),
                                           sql("CREATE INDEX mi ON m(y)")]),
            Step("transactionSync", steps=[sql("ALTER TABLE m ADD COLUMN z"), sql("CREATE TABLE n(x)")],
                 end="throw"),
            sql("SELECT name FROM sqlite_master WHERE name IN ('m', 'mi', 'n') ORDER BY name"),
            sql("SELECT name FROM pragma_table_info('m') ORDER BY cid"),
        ]),
    ]


BINDINGS: list[Any] = [None, True, False, 0, 7, -3, 2**53 - 1, 2**53 + 1, 3.5, 1e300, float("nan"), float("inf"),
                       -0.0, "text", "", "é😀", b"\x00\xff", b"", [1, 2], {"a": 1}, {1, 2},
                       dt.datetime(2026, 1, 1, tzinfo=UTC), ValueError("x"), (1,)]


def sql_cases() -> list[Case]:
    cases = []
    cases.append(Case("sql-bindings", "sql", [sql("SELECT ? AS v, typeof(?) AS t", b, b) for b in BINDINGS] + [
        sql("SELECT ?/2 AS half", 7),
        sql("SELECT ? + 1 AS n", 2**53 - 1),
        sql("SELECT ?1 || ?2 AS s", "a", "b"),
        sql("SELECT :x AS v", 5),
        sql("SELECT ? AS a, ? AS b", 1),
        sql("SELECT ? AS a", 1, 2),
        sql("SELECT 1 AS a", 1),
    ]))
    cases.append(Case("sql-values-out", "sql", [
        sql("SELECT 1 AS i, 1.5 AS r, 'x' AS t, x'00ff' AS b, NULL AS n, 9007199254740993 AS big, "
            "-0.0 AS nz, 1e999 AS inf"),
        sql("SELECT 1 AS a, 2 AS a"),
        sql("SELECT 1, 'two', 3.0"),
        sql("SELECT zeroblob(3) AS z"),
        sql("SELECT json_object('a', 1) AS j, json_array(1, 2) AS arr"),
        sql("SELECT 9223372036854775807 AS m, -9223372036854775808 AS n"),
        sql("SELECT 2.0 AS f, 10/4 AS d, 10/4.0 AS e"),
        sql("SELECT sqrt(16) AS s, pi() > 3 AS p"),
        sql("SELECT char(55357) AS half, unicode('😀') AS u"),
        sql("SELECT CAST('12' AS INTEGER) AS c, '12' + 1 AS p, typeof('12' + 1) AS t"),
    ]))
    cursor_modes = ["toArray", "raw", "one", "iter", "rawiter", "next", "none"]
    steps = [sql("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, score REAL, data BLOB)"),
             sql("INSERT INTO t(name, score, data) VALUES ('a', 1.5, x'01'), ('b', 2, NULL), ('c', NULL, x'')")]
    for mode in cursor_modes:
        steps += [sql("SELECT * FROM t ORDER BY id", read=mode), sql("SELECT * FROM t WHERE id = 2", read=mode),
                  sql("SELECT * FROM t WHERE id = 99", read=mode)]
    steps += [sql("UPDATE t SET score = 0", read=mode) for mode in ("toArray", "none", "one")]
    steps += [sql("INSERT INTO t(name) VALUES ('d') RETURNING id, name", read=m) for m in ("toArray", "one", "none")]
    cases.append(Case("sql-cursors", "sql", steps))
    cases.append(Case("sql-rows-counted", "sql", [
        sql("CREATE TABLE c(a INTEGER PRIMARY KEY, b TEXT)"),
        sql("CREATE INDEX ci ON c(b)"),
        sql("INSERT INTO c(b) VALUES ('x')"),
        sql("INSERT INTO c(b) VALUES ('y'), ('z'), ('w')"),
        sql("SELECT * FROM c"),
        sql("SELECT * FROM c WHERE b = 'y'"),
        sql("SELECT count(*) FROM c"),
        sql("UPDATE c SET b = 'q' WHERE a > 1"),
        sql("UPDATE c SET b = 'q' WHERE a > 100"),
        sql("DELETE FROM c WHERE a = 1"),
        sql("INSERT INTO c(b) VALUES ('v'); SELECT * FROM c"),
        sql("SELECT 1; INSERT INTO c(b) VALUES ('u')"),
        sql("CREATE TABLE d(x); CREATE TABLE e(y)"),
        sql("DROP TABLE d"),
        sql("DROP INDEX ci"),
        sql("ALTER TABLE c ADD COLUMN n INTEGER"),
        sql("CREATE TABLE IF NOT EXISTS c(a)"),
        sql("INSERT INTO c(b) SELECT b FROM c"),
        sql("DELETE FROM c"),
        sql("SELECT * FROM c"),
        sql("CREATE VIEW v AS SELECT 1 AS one"),
        sql("SELECT * FROM v"),
        sql("CREATE TRIGGER tr AFTER INSERT ON e BEGIN INSERT INTO c(b) VALUES ('trig'); END"),
        sql("INSERT INTO e VALUES (1)"),
        sql("SELECT b FROM c"),
        sql("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10) SELECT sum(i) AS s FROM n"),
    ]))
    cases.append(Case("sql-errors", "sql", [
        sql("SELEC 1"),
        sql("SELECT * FROM missing"),
        sql("SELECT nope FROM (SELECT 1 AS a)"),
        sql("CREATE TABLE u(a TEXT UNIQUE NOT NULL, b INTEGER CHECK (b > 0))"),
        sql("INSERT INTO u VALUES ('x', 1)"),
        sql("INSERT INTO u VALUES ('x', 2)"),
        sql("INSERT INTO u VALUES (NULL, 2)"),
        sql("INSERT INTO u VALUES ('y', 0)"),
        sql("INSERT INTO u VALUES ('z', 1); INSERT INTO u VALUES ('z', 1)"),
        sql("SELECT a FROM u ORDER BY a", read="raw"),
        sql("CREATE TABLE u(a)"),
        sql("SELECT * FROM u", read="one"),
        sql("SELECT * FROM u WHERE a = 'none'", read="one"),
        sql("SELECT abs(-9223372036854775808)"),
        sql("SELECT json('{bad')"),
        sql(""),
        sql("   "),
        sql(";"),
        sql("SELECT 1;;"),
        sql("SELECT 1; -- trailing comment"),
        sql("-- only a comment"),
        sql("/* block */"),
        sql("SELECT 1; /* c */ SELECT 2"),
        sql("SELECT 1 -- comment\n"),
        sql("SELECT 'a;b' AS s"),
        sql("SELECT 1; SELEC 2"),
        sql("SELECT ? AS v", 2**70),
        sql("SELECT ? AS v", (1, 2)),
    ]))
    forbidden = [
        "BEGIN", "BEGIN TRANSACTION", "COMMIT", "END", "ROLLBACK", "SAVEPOINT sp", "RELEASE sp", "ROLLBACK TO sp",
        "ATTACH DATABASE ':memory:' AS other", "DETACH DATABASE other", "CREATE TEMP TABLE tt(x)",
        "CREATE TEMPORARY VIEW tv AS SELECT 1", "CREATE TABLE _cf_mine(x)", "CREATE TABLE _CF_upper(x)",
        "CREATE TABLE cf_ok(x)", "CREATE INDEX _cf_idx ON cf_ok(x)", "ALTER TABLE cf_ok RENAME TO _cf_renamed",
        "SELECT * FROM _cf_KV", "SELECT * FROM _cf_METADATA", "SELECT sqlite_version()", "VACUUM", "ANALYZE",
        "REINDEX", "SELECT load_extension('x')", "CREATE VIRTUAL TABLE vt USING csv(data='a')",
        "SELECT * FROM sqlite_master", "SELECT name FROM sqlite_schema ORDER BY name",
        "SELECT randomblob(2) IS NOT NULL AS r", "SELECT typeof(random()) AS r", "SELECT changes() AS c",
        "SELECT last_insert_rowid() AS l", "SELECT total_changes() AS t",
    ]
    cases.append(Case("sql-forbidden", "sql", [sql(q) for q in forbidden]))
    pragmas = [
        "PRAGMA table_list", "PRAGMA table_info(cf_t)", "PRAGMA table_xinfo(cf_t)", "PRAGMA table_info(_cf_KV)",
        "PRAGMA data_version", "PRAGMA page_size", "PRAGMA page_size = 8192", "PRAGMA foreign_keys",
        "PRAGMA foreign_keys = OFF", "PRAGMA foreign_keys", "PRAGMA foreign_keys = ON", "PRAGMA defer_foreign_keys",
        "PRAGMA case_sensitive_like = 1", "PRAGMA case_sensitive_like", "PRAGMA ignore_check_constraints",
        "PRAGMA legacy_alter_table", "PRAGMA recursive_triggers", "PRAGMA reverse_unordered_selects",
        "PRAGMA foreign_key_check", "PRAGMA foreign_key_list(cf_t)", "PRAGMA index_list(cf_t)",
        "PRAGMA index_info(cf_i)", "PRAGMA index_xinfo(cf_i)", "PRAGMA quick_check", "PRAGMA optimize",
        "PRAGMA user_version", "PRAGMA user_version = 3", "PRAGMA journal_mode", "PRAGMA journal_mode = WAL",
        "PRAGMA max_page_count", "PRAGMA hard_heap_limit", "PRAGMA integrity_check", "PRAGMA compile_options",
        "PRAGMA database_list", "PRAGMA schema_version", "PRAGMA synchronous", "PRAGMA cache_size",
        "PRAGMA encoding", "PRAGMA function_list", "PRAGMA busy_timeout",
    ]
    cases.append(Case("sql-pragmas", "sql", [sql("CREATE TABLE cf_t(a INTEGER PRIMARY KEY, b TEXT)"),
                                             sql("CREATE INDEX cf_i ON cf_t(b)")]
                      + [sql(q) for q in pragmas]))
    cases.append(Case("sql-foreign-keys-like", "sql", [
        sql("CREATE TABLE parent(id INTEGER PRIMARY KEY)"),
        sql("CREATE TABLE child(id INTEGER PRIMARY KEY, p INTEGER REFERENCES parent(id) ON DELETE CASCADE)"),
        sql("INSERT INTO child(p) VALUES (1)"),
        sql("INSERT INTO parent VALUES (1)"),
        sql("INSERT INTO child(p) VALUES (1)"),
        sql("DELETE FROM parent WHERE id = 1"),
        sql("SELECT count(*) AS n FROM child"),
        sql("SELECT 'ABC' LIKE 'abc' AS ci"),
        sql("PRAGMA case_sensitive_like = true"),
        sql("SELECT 'ABC' LIKE 'abc' AS ci"),
        sql("PRAGMA case_sensitive_like = false"),
        sql("SELECT 'ABC' LIKE 'a%' AS ci, 'abc' GLOB 'A*' AS g"),
        sql("PRAGMA defer_foreign_keys = ON"),
    ]))
    cases.append(Case("sql-fts5", "sql", [
        sql("CREATE VIRTUAL TABLE docs USING fts5(title, body)"),
        sql("INSERT INTO docs VALUES ('durable', 'objects keep state'), ('workers', 'run everywhere')"),
        sql("SELECT title FROM docs WHERE docs MATCH 'state'"),
        sql("SELECT title FROM docs WHERE docs MATCH 'run*' ORDER BY rank"),
        sql("SELECT highlight(docs, 1, '[', ']') AS h FROM docs WHERE docs MATCH 'objects'"),
        sql("SELECT count(*) AS n FROM docs"),
        sql("CREATE VIRTUAL TABLE v USING fts5vocab(docs, 'row')"),
        sql("SELECT term FROM v ORDER BY term"),
        sql("CREATE VIRTUAL TABLE r USING rtree(id, x0, x1)"),
        sql("INSERT INTO r VALUES (1, 0, 10)"),
        sql("SELECT id FROM r WHERE x0 <= 5 AND x1 >= 5"),
        sql("SELECT title FROM docs WHERE docs MATCH 'AND'"),
    ]))
    cases.append(Case("sql-database-size", "sql", [
        Step("databaseSize"),
        call("put", "k", "v"),
        Step("databaseSize"),
        sql("CREATE TABLE big(x)"),
        Step("databaseSize"),
        sql("INSERT INTO big SELECT zeroblob(10000)"),
        Step("databaseSize"),
        sql("DROP TABLE big"),
        Step("databaseSize"),
        call("deleteAll"),
        Step("databaseSize"),
        sql("SELECT name FROM sqlite_master"),
        sql("PRAGMA table_list"),
    ]))
    cases.append(Case("sql-kv-table", "sql", [
        sql("PRAGMA table_list"),
        call("put", "k", 1),
        sql("SELECT name FROM sqlite_master ORDER BY name"),
        sql("PRAGMA table_list"),
        sql("SELECT * FROM _cf_KV"),
        sql("INSERT INTO _cf_KV VALUES ('x', 1)"),
        sql("DROP TABLE _cf_KV"),
        call("setAlarm", Now(60_000), time=True),
        sql("SELECT name FROM sqlite_master ORDER BY name"),
        call("deleteAll"),
        sql("SELECT name FROM sqlite_master ORDER BY name"),
        sql("CREATE TABLE t(id INTEGER PRIMARY KEY AUTOINCREMENT, v)"),
        sql("INSERT INTO t(v) VALUES (1)"),
        sql("SELECT name FROM sqlite_master ORDER BY name"),
        call("deleteAll"),
        sql("SELECT name FROM sqlite_master ORDER BY name"),
    ]))
    cases.append(Case("sql-statement-limits", "sql", [
        sql("SELECT " + ", ".join("?" for _ in range(100)), *range(100), read="raw"),
        sql("SELECT " + ", ".join("?" for _ in range(101)), *range(101), read="raw"),
        sql("SELECT '" + "x" * 100_001 + "' AS s", read="none"),
        sql("CREATE TABLE wide(" + ", ".join(f"c{i}" for i in range(101)) + ")"),
        sql("CREATE TABLE wide100(" + ", ".join(f"c{i}" for i in range(100)) + ")"),
    ]))
    # What chapter 09 bills: a lookup that scans, the same lookup through an index built on a
    # table that already holds rows, the extra row an index adds to each write, and a schema
    # migration (a version table, ALTER TABLE ADD COLUMN) on live rows.
    orders = ", ".join(f"('c{i % 7}', {i}.5)" for i in range(40))
    cases.append(Case("sql-index-costs", "sql", [
        sql("CREATE TABLE orders(id INTEGER PRIMARY KEY, customer TEXT NOT NULL, total REAL NOT NULL)"),
        sql(f"INSERT INTO orders(customer, total) VALUES {orders}"),
        sql("SELECT id, total FROM orders WHERE customer = ?", "c3"),
        sql("SELECT count(*) AS n FROM orders WHERE customer = ?", "c3"),
        sql("SELECT * FROM orders WHERE id = ?", 7),
        sql("CREATE INDEX orders_by_customer ON orders(customer)"),
        sql("SELECT id, total FROM orders WHERE customer = ?", "c3"),
        sql("SELECT id, total FROM orders WHERE customer = ?", "nobody"),
        sql("SELECT count(*) AS n FROM orders WHERE customer = ?", "c3"),
        sql("INSERT INTO orders(customer, total) VALUES (?, ?)", "c3", 1),
        sql("UPDATE orders SET total = 0 WHERE customer = ?", "c5"),
        sql("UPDATE orders SET total = 1 WHERE id = ?", 2),
        sql("DELETE FROM orders WHERE id = ?", 3),
        sql("CREATE TABLE IF NOT EXISTS _schema_migrations(id INTEGER PRIMARY KEY)"),
        sql("SELECT coalesce(max(id), 0) AS version FROM _schema_migrations"),
        sql("INSERT INTO _schema_migrations(id) VALUES (?)", 1),
        sql("ALTER TABLE orders ADD COLUMN status TEXT NOT NULL DEFAULT 'paid'"),
        sql("SELECT status, count(*) AS n FROM orders GROUP BY status"),
        sql("ALTER TABLE orders ADD COLUMN status TEXT NOT NULL DEFAULT 'paid'"),
        sql("CREATE INDEX orders_by_total ON orders(total)"),
        sql("SELECT id FROM orders WHERE total >= ?", 30),
        sql("SELECT id FROM orders WHERE total BETWEEN ? AND ?", 10, 14),
        sql("SELECT id, total FROM orders WHERE total >= ? ORDER BY total DESC", 35),
        sql("INSERT INTO orders(customer, total) VALUES (?, ?)", "c1", 2),
        sql("UPDATE orders SET customer = ? WHERE id = ?", "c6", 4),
        sql("UPDATE orders SET status = 'refunded', total = 0 WHERE id = ?", 5),
        sql("SELECT id FROM orders WHERE customer = ?", "c35"),
        sql("CREATE UNIQUE INDEX orders_by_customer_id ON orders(customer, id)"),
        sql("CREATE INDEX big_orders ON orders(customer) WHERE total > 20"),
        sql("DROP INDEX orders_by_total"),
        sql("DROP INDEX big_orders"),
        sql("DROP INDEX orders_by_customer_id"),
        sql("DELETE FROM orders WHERE customer = ?", "c2"),
        sql("SELECT id FROM orders WHERE customer = ? ORDER BY total DESC", "c4"),
        kv("put", "visits", 3),
        call("get", "visits"),
        kv("get", "visits"),
        sql("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"),
    ]))
    return cases


def alarm_cases() -> list[Case]:
    times: list[tuple[str, Any, float]] = [
        ("future", Now(60_000), 0), ("fractional", Now(60_000.7), 0), ("fractional_low", Now(60_000.2), 0),
        ("datetime", DateNow(120_000), 0), ("past", Now(-60_000), 1000), ("epoch_1ms", 1, 1000),
    ]
    cases = []
    for name, when, tolerance in times:
        cases.append(Case(f"alarm-set-{name}", "alarm", [
            call("setAlarm", when, time=True),
            call("getAlarm", time=True, tolerance=tolerance),
        ]))
    bad: list[Any] = [0, -1, float("nan"), float("inf"), -float("inf"), None, "123", "soon", True, [1], {"t": 1},
                      2**53 + 1, b"1", (1,)]
    cases.append(Case("alarm-set-bad", "alarm",
                      [s for b in bad for s in (call("setAlarm", b, time=True), call("getAlarm", time=True))]))
    cases.append(Case("alarm-replace-delete", "alarm", [
        call("getAlarm", time=True),
        call("deleteAlarm"),
        call("setAlarm", Now(60_000)),
        call("setAlarm", Now(30_000)),
        call("getAlarm", time=True),
        call("deleteAlarm"),
        call("getAlarm", time=True),
        call("setAlarm", Now(30_000), {"allowUnconfirmed": True}),
        call("getAlarm", {"allowConcurrency": True}, time=True),
        call("setAlarm", Now(30_000), {"bogus": True}),
        call("deleteAlarm", {"allowUnconfirmed": True}),
        call("getAlarm", time=True),
    ]))
    cases.append(Case("alarm-handler-runs", "alarm", [
        Step("alarmPlan", steps=[call("getAlarm", time=True)]),
        call("setAlarm", Now(100)),
        Step("wait", ms=1500),
        Step("alarmLog"),
        call("getAlarm", time=True),
    ]))
    cases.append(Case("alarm-handler-resets", "alarm", [
        Step("alarmPlan", steps=[call("setAlarm", Now(600_000)), call("getAlarm", time=True)]),
        call("setAlarm", Now(100)),
        Step("wait", ms=1500),
        Step("alarmLog"),
        call("getAlarm", time=True),
    ]))
    cases.append(Case("alarm-handler-deletes", "alarm", [
        Step("alarmPlan", steps=[call("deleteAlarm"), call("getAlarm", time=True), call("put", "ran", True)]),
        call("setAlarm", Now(100)),
        Step("wait", ms=1500),
        Step("alarmLog"),
        call("get", "ran"),
        call("getAlarm", time=True),
    ]))
    cases.append(Case("alarm-retry", "alarm", [
        Step("alarmPlan", fail=1, steps=[call("getAlarm", time=True)]),
        call("setAlarm", Now(100)),
        Step("wait", ms=1000),
        call("getAlarm", time=True),
        Step("alarmLog"),
        Step("wait", ms=3500),
        Step("alarmLog"),
        call("getAlarm", time=True),
    ]))
    cases.append(Case("alarm-retry-then-delete", "alarm", [
        Step("alarmPlan", fail=5, steps=[]),
        call("setAlarm", Now(100)),
        Step("wait", ms=1000),
        call("deleteAlarm"),
        call("getAlarm", time=True),
        Step("wait", ms=3500),
        Step("alarmLog"),
    ]))
    cases.append(Case("alarm-deleteall", "alarm", [
        Step("alarmPlan", steps=[]),
        call("setAlarm", Now(300)),
        call("deleteAll"),
        call("getAlarm", time=True),
        Step("wait", ms=1000),
        Step("alarmLog"),
    ]))
    return cases


class MyError(Exception):
    """A learner's own exception class, raised across RPC."""


class CodedError(Exception):
    """An exception with an attribute, raised across RPC."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def rpc_cases() -> list[Case]:
    echo_values = [v for n, v in VALUES if n not in ("lone_surrogate",)]
    steps = [Step("rpc", method="echo", args=(v,)) for v in echo_values]
    steps += [
        Step("rpc", method="echo", args=(1, "two", None)),
        Step("rpc", method="echo", args=()),
        Step("rpc", method="mutate", args=({"a": 1},)),
        Step("rpc", method="mutate", args=([1, 2],)),
        Step("rpc", method="nosuch", args=()),
        Step("rpc", method="alarm", args=()),
        Step("rpc", method="fetch", args=()),
    ]
    for exc in [ValueError("boom"), TypeError("wrong type"), KeyError("k"), RuntimeError("it broke"),
                MyError("mine"), CodedError("coded", 42), ZeroDivisionError("division by zero")]:
        steps.append(Step("rpc", method="fail", raises=exc))
    return [Case("rpc-calls", "rpc", steps)]


# Local workerd answers every jurisdiction with "Jurisdiction restrictions are not implemented in
# workerd."; production accepts eu, fedramp and fedramp-high. dolab follows production.
SKIP_JURISDICTIONS = "production accepts jurisdictions; local workerd does not implement them"


def id_cases() -> list[Case]:
    steps = [Step("id", method="idFromName", args=(n,))
             for n in ["alpha", "", "é😀", "a" * 2000, "a\ud800", 5, 1.5, None, True, 2**53 + 1]]
    steps += [Step("id", method="idFromString", args=(s,)) for s in [
        IdString("alpha"), IdString("beta"), IdString("alpha", upper=True), IdString("alpha", ns="OTHER"),
        "abc", "0" * 64, "z" * 64, "0" * 63, "0" * 65, "", None, 5]]
    steps += [
        Step("id", method="newUniqueId"),
        Step("id", method="newUniqueId", kwargs={"jurisdiction": "eu"}, skip=SKIP_JURISDICTIONS),
        Step("id", method="newUniqueId", kwargs={"jurisdiction": "mars"}, skip=SKIP_JURISDICTIONS),
        Step("id", method="sameName", args=("a", "a")),
        Step("id", method="sameName", args=("a", "b")),
        Step("id", method="sameName", args=("1", 1)),
        Step("id", method="otherNamespace", args=("a",)),
        Step("id", method="getByNameCtx", args=("zed",)),
        Step("id", method="getByNameCtx", args=("",)),
    ]
    return [Case("ids", "ids", steps)]


def catalogue() -> list[Case]:
    """Every case, in a stable order."""
    cases = kv_cases() + list_cases() + txn_cases() + sql_cases() + alarm_cases() + rpc_cases() + id_cases()
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    return cases


AREAS = ["kv", "list", "txn", "sql", "alarm", "rpc", "ids"]


def main() -> None:
    counts: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    for case in catalogue():
        for step in case.steps:
            (skipped if step.skip else counts)[case.area] += 1
    for area in AREAS:
        print(f"{area:6} {counts[area]:4} ops ({skipped[area]} skipped)")
    print(f"total  {sum(counts.values()):4} ops ({sum(skipped.values())} skipped)")


if __name__ == "__main__":
    main()
