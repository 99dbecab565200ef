"""A catalog of bad inputs: each fails inside the object with a clear error and changes nothing.

Every catalog case seeds one object with known KV pairs and SQL rows, makes one bad call *inside*
the object (through an RPC method, and through ``lab.run_in_durable_object``), and checks

* the exact exception type the caller receives, and a message that names the problem and the value,
* that storage is exactly as before, both at once and after an eviction (what was committed),
* that the error crossed the stub as a remote error (``.remote is True``).

Namespace-level misuse (ids, stubs, RPC names and arguments) and path-like object names in persist
mode are covered by the tests after the catalog.
"""

from __future__ import annotations

import asyncio
import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dolab import (
    DolabError,
    DurableObject,
    DurableObjectError,
    FetchError,
    InvalidIdError,
    Lab,
    RpcError,
    SerializationError,
    SqlError,
    StorageError,
    StorageRangeError,
    StorageTypeError,
)
from tests.conftest import Counter, kv_snapshot

LIMIT = 2_000_000  # key + value bytes of a SQLite-backed Durable Object
BIG = "x" * (LIMIT + 1)
TXN = (
    r"^To execute a transaction, please use the state\.storage\.transaction\(\) or "
    r"state\.storage\.transactionSync\(\) APIs instead of the SQL BEGIN TRANSACTION or SAVEPOINT statements\."
)
AUTH = r": SQLITE_AUTH$"
NOT_AUTHORIZED = r"^not authorized: SQLITE_AUTH$"
NO_STATEMENT = r"^SQL code did not contain a statement\.$"
NOT_OF_TYPE = r"^Failed to execute '{}' on 'DurableObjectStorage': parameter {} is not of type '{}'\.$"

Op = Callable[[Any], Any]  # op(ctx) -> anything, maybe an awaitable


class Opaque:
    """A custom class: not something that can be stored or sent."""


class Boom(Exception):
    """A user-defined exception: crosses a stub as DurableObjectError."""


async def run_op(op: Op, ctx: Any) -> None:
    result = op(ctx)
    if inspect.isawaitable(result):
        await result


class Vault(DurableObject):
    """Holds known data; ``attempt(case)`` runs one catalog operation inside the object."""

    label = "a plain attribute"

    async def seed(self) -> None:
        storage = self.ctx.storage
        await storage.put(
            {"alpha": 1, "beta": [1, "two", None], "gamma": {"x": 1.5, "ok": True}, "blob": b"\x00\xff", "é": "e"}
        )
        sql = storage.sql
        sql.exec("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, qty INTEGER)")
        sql.exec("INSERT INTO items (name, qty) VALUES ('apple', 3), ('pear', 5), ('fig', NULL)")
        sql.exec("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('keep me')")

    async def attempt(self, case: str) -> None:
        await run_op(OPS[case], self.ctx)

    async def echo(self, *args: Any, **kwargs: Any) -> Any:
        return [list(args), kwargs]

    async def give_tuple(self) -> Any:
        return (1, 2)

    async def alarm(self) -> None:
        pass

    async def _secret(self) -> str:
        return "private"


class Other(DurableObject):
    """A second class, so that there is a second namespace."""


# -- operations that need more than one line --------------------------------------------------------


def put_coroutine(ctx: Any) -> Any:
    coro = asyncio.sleep(0)
    try:
        return ctx.storage.put("alpha", coro)
    finally:
        coro.close()


def sync_txn_raises(ctx: Any) -> Any:
    def body() -> None:
        ctx.storage.put("alpha", 100)
        ctx.storage.put("zeta", "new")
        ctx.storage.delete("beta")
        ctx.storage.sql.exec("INSERT INTO items (name, qty) VALUES ('kiwi', 1)")
        ctx.storage.sql.exec("UPDATE items SET qty = 0")
        raise ValueError("boom: transactionSync callback failed")

    return ctx.storage.transactionSync(body)


def sync_txn_raises_custom(ctx: Any) -> Any:
    def body() -> None:
        ctx.storage.put("alpha", 100)
        ctx.storage.sql.exec("DELETE FROM notes")
        raise Boom("custom failure")

    return ctx.storage.transactionSync(body)


def sync_txn_returns_awaitable(ctx: Any) -> Any:
    def body() -> Any:
        ctx.storage.put("alpha", 100)
        return asyncio.sleep(0)

    return ctx.storage.transactionSync(body)


def sync_txn_delete_all(ctx: Any) -> Any:
    def body() -> None:
        ctx.storage.put("alpha", 100)
        ctx.storage.deleteAll()

    return ctx.storage.transactionSync(body)


def sync_txn_sql_commit(ctx: Any) -> Any:
    def body() -> None:
        ctx.storage.put("alpha", 100)
        ctx.storage.sql.exec("COMMIT")
        raise ValueError("after COMMIT")

    return ctx.storage.transactionSync(body)


def sync_txn_or_rollback(ctx: Any) -> Any:
    def body() -> None:
        ctx.storage.put("alpha", 100)
        ctx.storage.sql.exec("INSERT OR ROLLBACK INTO items (name) VALUES ('apple')")

    return ctx.storage.transactionSync(body)


async def txn_raises(ctx: Any) -> Any:
    async def closure(txn: Any) -> None:
        await txn.put("alpha", 100)
        await ctx.storage.put("zeta", "new")
        await txn.delete("beta")
        ctx.storage.sql.exec("INSERT INTO items (name, qty) VALUES ('kiwi', 1)")
        await asyncio.sleep(1)  # the virtual clock moves; the transaction stays open
        raise KeyError("boom: transaction closure failed")

    return await ctx.storage.transaction(closure)


async def txn_or_rollback(ctx: Any) -> Any:
    async def closure(txn: Any) -> None:
        await txn.put("alpha", 100)
        ctx.storage.sql.exec("INSERT OR ROLLBACK INTO items (name) VALUES ('apple')")

    return await ctx.storage.transaction(closure)


async def txn_delete_all(ctx: Any) -> Any:
    async def closure(txn: Any) -> None:
        await txn.put("alpha", 100)
        await txn.deleteAll()

    return await ctx.storage.transaction(closure)


async def txn_ctx_delete_all(ctx: Any) -> Any:
    async def closure(txn: Any) -> None:
        await txn.put("alpha", 100)
        await ctx.storage.deleteAll()

    return await ctx.storage.transaction(closure)


async def txn_used_after_rollback(ctx: Any) -> Any:
    async def closure(txn: Any) -> None:
        await txn.put("alpha", 100)
        txn.rollback()
        await txn.put("beta", 100)

    return await ctx.storage.transaction(closure)


async def txn_used_after_closure(ctx: Any) -> Any:
    kept: list[Any] = []

    async def closure(txn: Any) -> None:
        kept.append(txn)

    await ctx.storage.transaction(closure)
    await kept[0].put("alpha", 100)


async def read_cf_kv_with_internal_text(ctx: Any) -> Any:
    # After a list() the text of dolab's own list query is in sqlite3's statement cache; user SQL with the
    # same text must still go through the authorizer.
    await ctx.storage.list()
    return ctx.storage.sql.exec("/*dolab*/ SELECT key, value FROM _cf_KV ORDER BY key").toArray()


async def delete_cf_kv_with_internal_text(ctx: Any) -> Any:
    await ctx.storage.delete("no-such-key")
    return ctx.storage.sql.exec("/*dolab*/ DELETE FROM _cf_KV WHERE key = ?", "alpha")


def rename_with_case_sensitive_like(ctx: Any) -> Any:
    # case_sensitive_like once let "_CF_..." slip past a LIKE-based reserved-name check.
    ctx.storage.sql.exec("PRAGMA case_sensitive_like = ON")
    try:
        return ctx.storage.sql.exec("ALTER TABLE items RENAME TO _CF_items")
    finally:
        ctx.storage.sql.exec("PRAGMA case_sensitive_like = OFF")


async def txn_put_none(ctx: Any) -> Any:
    # The txn is a raw JavaScript object: None reaches it as undefined, not null.
    async def closure(txn: Any) -> None:
        await txn.put("alpha", 100)
        await txn.put("zeta", None)

    return await ctx.storage.transaction(closure)


def sql(query: Any, *bindings: Any) -> Op:
    return lambda ctx: ctx.storage.sql.exec(query, *bindings)


# -- the catalog ------------------------------------------------------------------------------------

OPS: dict[str, Op] = {}


def bad(name: str, error: type[BaseException], pattern: str, op: Op) -> Any:
    assert name not in OPS, name
    OPS[name] = op
    return pytest.param(name, error, pattern, id=name)


TOOBIG = r"^string or blob too big: SQLITE_TOOBIG \(key '{}' \+ value = 2,000,0\d\d bytes; .*<= 2,000,000 bytes\)$"

CATALOG = [
    # sizes and counts
    bad("value-too-big", StorageRangeError, TOOBIG.format("big"), lambda ctx: ctx.storage.put("big", BIG)),
    bad("bytes-value-too-big", StorageRangeError, TOOBIG.format("big"),
        lambda ctx: ctx.storage.put("big", b"x" * LIMIT)),
    bad("key-too-big", StorageRangeError,
        r"^string or blob too big: SQLITE_TOOBIG \(key 'k{38}… \+ value = 2,000,0\d\d bytes",
        lambda ctx: ctx.storage.put("k" * (LIMIT + 1), 1)),
    bad("multi-put-one-too-big", StorageRangeError, TOOBIG.format("huge"),
        lambda ctx: ctx.storage.put({"alpha": 2, "huge": BIG, "fresh": 1})),
    bad("get-129-keys", StorageRangeError, r"^Maximum number of keys is 128\. \(get\(\) got 129\)$",
        lambda ctx: ctx.storage.get([f"k{i}" for i in range(129)])),
    bad("put-129-pairs", StorageRangeError, r"^Maximum number of keys is 128\. \(put\(\) got 129\)$",
        lambda ctx: ctx.storage.put({f"k{i}": i for i in range(129)})),
    bad("delete-129-keys", StorageRangeError, r"^Maximum number of keys is 128\. \(delete\(\) got 129\)$",
        lambda ctx: ctx.storage.delete(["alpha"] + [f"k{i}" for i in range(128)])),
    # arguments workerd cannot read (V8's WebIDL messages)
    bad("get-no-key", StorageTypeError, NOT_OF_TYPE.format("get", 1, "string or Array"), lambda ctx: ctx.storage.get()),
    bad("delete-no-key", StorageTypeError, NOT_OF_TYPE.format("delete", 1, "string or Array"),
        lambda ctx: ctx.storage.delete()),
    bad("put-no-key", StorageTypeError, NOT_OF_TYPE.format("put", 1, "string or object"),
        lambda ctx: ctx.storage.put()),
    bad("put-without-value", StorageTypeError, r"^put\(\) called with undefined value\.$",
        lambda ctx: ctx.storage.put("alpha")),
    bad("put-entries-and-a-value", StorageTypeError, r"^put\(\) may only be called with a single key-value pair",
        lambda ctx: ctx.storage.put({"alpha": 2}, "two")),
    bad("put-bytes-key-and-a-value", StorageTypeError, r"^put\(\) may only be called with a single key-value pair",
        lambda ctx: ctx.storage.put(b"alpha", 2)),
    bad("get-options-str", StorageTypeError, NOT_OF_TYPE.format("get", 2, "GetOptions"),
        lambda ctx: ctx.storage.get("alpha", "noCache")),
    bad("put-options-int", StorageTypeError, NOT_OF_TYPE.format("put", 3, "PutOptions"),
        lambda ctx: ctx.storage.put("alpha", 2, 5)),
    bad("delete-options-str", StorageTypeError, NOT_OF_TYPE.format("delete", 2, "PutOptions"),
        lambda ctx: ctx.storage.delete("alpha", "x")),
    bad("deleteAll-options-str", StorageTypeError, NOT_OF_TYPE.format("deleteAll", 1, "PutOptions"),
        lambda ctx: ctx.storage.deleteAll("force")),
    bad("list-options-str", StorageTypeError, NOT_OF_TYPE.format("list", 1, "ListOptions"),
        lambda ctx: ctx.storage.list("prefix")),
    bad("get-tuple-of-keys", SerializationError, r"^<class 'tuple'> cannot be sent over RPC\.$",
        lambda ctx: ctx.storage.get(("alpha", "beta"))),
    # values the Python Workers SDK refuses
    bad("value-tuple", SerializationError, r"^<class 'tuple'> cannot be sent over RPC\.$",
        lambda ctx: ctx.storage.put("alpha", (1, 2))),
    bad("value-frozenset", SerializationError, r"^<class 'frozenset'> cannot be sent over RPC\.$",
        lambda ctx: ctx.storage.put("alpha", frozenset({1}))),
    bad("value-bytearray", SerializationError, r"^<class 'bytearray'> cannot be sent over RPC\.$",
        lambda ctx: ctx.storage.put("alpha", bytearray(b"x"))),
    bad("value-custom-object", SerializationError, r"^<class '[\w.]*Opaque'> cannot be sent over RPC\.$",
        lambda ctx: ctx.storage.put("alpha", Opaque())),
    bad("value-function", SerializationError, r"^<class 'function'> cannot be sent over RPC\.$",
        lambda ctx: ctx.storage.put("alpha", lambda: 1)),
    bad("value-coroutine", SerializationError, r"^Awaitable <class 'coroutine'> cannot be sent over RPC\.$",
        put_coroutine),
    bad("value-tuple-nested-in-list", SerializationError, r"^<class 'tuple'> cannot be sent over RPC\.$",
        lambda ctx: ctx.storage.put("alpha", [1, [2, {"deep": (3,)}]])),
    bad("multi-put-one-bad-value", SerializationError, r"^<class 'bytearray'> cannot be sent over RPC\.$",
        lambda ctx: ctx.storage.put({"alpha": 2, "zeta": bytearray(b"z"), "omega": 3})),
    # list() options
    bad("list-start-and-startAfter", StorageTypeError,
        r"^list\(\) cannot be called with both start and startAfter values\.$",
        lambda ctx: ctx.storage.list({"start": "a", "startAfter": "b"})),
    bad("list-limit-zero", StorageTypeError, r"^List limit must be positive\.$",
        lambda ctx: ctx.storage.list({"limit": 0})),
    bad("list-limit-negative", StorageTypeError, r"^List limit must be positive\.$",
        lambda ctx: ctx.storage.list({"limit": -3})),
    bad("list-limit-half", StorageTypeError, r"^List limit must be positive\.$",
        lambda ctx: ctx.storage.list({"limit": 0.5})),
    bad("list-limit-text", StorageTypeError, r"^List limit must be positive\.$",
        lambda ctx: ctx.storage.list({"limit": "five"})),
    bad("list-limit-none", StorageTypeError, r"^List limit must be positive\.$",
        lambda ctx: ctx.storage.list({"limit": None})),
    bad("list-limit-bigint", StorageTypeError, r"^Cannot convert a BigInt value to a number$",
        lambda ctx: ctx.storage.list({"limit": 2**53 + 1})),
    # SQL: errors from SQLite, worded as workerd words them
    bad("sql-syntax-error", SqlError, r'^near "SELEC": syntax error at offset 0: SQLITE_ERROR$',
        sql("SELEC * FROM items")),
    bad("sql-missing-table", SqlError, r"^no such table: nope: SQLITE_ERROR$", sql("SELECT * FROM nope")),
    bad("sql-missing-column", SqlError, r"^table items has no column named colour: SQLITE_ERROR$",
        sql("INSERT INTO items (name, colour) VALUES ('kiwi', 'green')")),
    bad("sql-unique-violation", SqlError,
        r"^UNIQUE constraint failed: items\.name: SQLITE_CONSTRAINT \(extended: SQLITE_CONSTRAINT_UNIQUE\)$",
        sql("INSERT INTO items (name) VALUES ('kiwi'), ('apple')")),
    bad("sql-not-null-violation", SqlError,
        r"^NOT NULL constraint failed: items\.name: SQLITE_CONSTRAINT \(extended: SQLITE_CONSTRAINT_NOTNULL\)$",
        sql("UPDATE items SET name = NULL WHERE name = 'fig'")),
    bad("sql-or-rollback-violation", SqlError, r"^UNIQUE constraint failed: items\.name",
        sql("INSERT OR ROLLBACK INTO items (name) VALUES ('kiwi'), ('apple')")),
    # SQL: statements Cloudflare refuses
    bad("sql-begin", SqlError, TXN, sql("BEGIN")),
    bad("sql-begin-transaction", SqlError, TXN, sql("BEGIN TRANSACTION")),
    bad("sql-commit", SqlError, TXN, sql("COMMIT")),
    bad("sql-rollback", SqlError, TXN, sql("ROLLBACK")),
    bad("sql-savepoint", SqlError, TXN, sql("SAVEPOINT sp")),
    bad("sql-release", SqlError, TXN, sql("RELEASE sp")),
    bad("sql-select-cf-kv", SqlError, r"^access to _cf_KV\.key is prohibited" + AUTH, sql("SELECT * FROM _cf_KV")),
    bad("sql-insert-cf-kv", SqlError, NOT_AUTHORIZED, sql("INSERT INTO _cf_KV (key, value) VALUES ('alpha', x'00')")),
    bad("sql-drop-cf-kv", SqlError, NOT_AUTHORIZED, sql("DROP TABLE _cf_KV")),
    bad("sql-cf-kv-read-via-cached-text", SqlError, r"^access to _cf_KV\.key is prohibited" + AUTH,
        read_cf_kv_with_internal_text),
    bad("sql-cf-kv-delete-via-cached-text", SqlError, NOT_AUTHORIZED, delete_cf_kv_with_internal_text),
    bad("sql-create-cf-table", SqlError, NOT_AUTHORIZED, sql("CREATE TABLE _cf_x (a)")),
    bad("sql-create-cf-table-uppercase", SqlError, NOT_AUTHORIZED, sql("CREATE TABLE _CF_Y (a)")),
    bad("sql-create-cf-index", SqlError, NOT_AUTHORIZED, sql("CREATE INDEX _cf_idx ON items (qty)")),
    bad("sql-rename-to-cf", SqlError, NOT_AUTHORIZED, sql("ALTER TABLE items RENAME TO _cf_items")),
    bad("sql-rename-to-cf-with-comment", SqlError, NOT_AUTHORIZED,
        sql("ALTER TABLE items RENAME /* sneaky */ TO _cf_items")),
    bad("sql-rename-to-cf-case-sensitive-like", SqlError, NOT_AUTHORIZED, rename_with_case_sensitive_like),
    bad("sql-attach", SqlError, NOT_AUTHORIZED, sql("ATTACH DATABASE ':memory:' AS other")),
    bad("sql-temp-table", SqlError, NOT_AUTHORIZED, sql("CREATE TEMP TABLE scratch (a)")),
    bad("sql-temp-dot-table", SqlError, NOT_AUTHORIZED, sql("CREATE TABLE temp.scratch (a)")),
    bad("sql-temp-view", SqlError, NOT_AUTHORIZED, sql("CREATE TEMP VIEW v AS SELECT 1")),
    bad("sql-pragma-user-version", SqlError, NOT_AUTHORIZED, sql("PRAGMA user_version")),
    bad("sql-pragma-set-user-version", SqlError, NOT_AUTHORIZED, sql("PRAGMA user_version = 7")),
    bad("sql-pragma-max-page-count", SqlError, NOT_AUTHORIZED, sql("PRAGMA max_page_count")),
    bad("sql-pragma-page-size", SqlError, NOT_AUTHORIZED, sql("PRAGMA page_size")),
    bad("sql-pragma-table-info-cf-kv", SqlError, NOT_AUTHORIZED, sql("PRAGMA table_info(_cf_KV)")),
    bad("sql-sqlite-version", SqlError,
        r"^not authorized to use function: sqlite_version at offset 7: SQLITE_ERROR$", sql("SELECT sqlite_version()")),
    bad("sql-fts3-tokenizer", SqlError, r"^not authorized to use function: fts3_tokenizer",
        sql("SELECT fts3_tokenizer('simple')")),
    bad("sql-sqlite-stmt", SqlError, r"prohibited: SQLITE_AUTH$|^not authorized" + AUTH,
        sql("SELECT sql FROM sqlite_stmt")),
    bad("sql-virtual-table-dbstat", SqlError, NOT_AUTHORIZED, sql("CREATE VIRTUAL TABLE pages USING dbstat")),
    bad("sql-virtual-table-rtree", SqlError, NOT_AUTHORIZED, sql("CREATE VIRTUAL TABLE boxes USING rtree(id, a, b)")),
    # SQL: bindings and empty code
    bad("sql-too-few-bindings", SqlError, r"^Wrong number of parameter bindings for SQL query\.$",
        sql("INSERT INTO items (name, qty) VALUES (?, ?)", "kiwi")),
    bad("sql-too-many-bindings", SqlError, r"^Wrong number of parameter bindings for SQL query\.$",
        sql("DELETE FROM items WHERE id = ?", 1, 2)),
    bad("sql-binding-bigint", StorageTypeError, r"^Cannot convert a BigInt value to a number$",
        sql("UPDATE items SET qty = ?", 2**53 + 1)),
    bad("sql-binding-tuple", SerializationError, r"^<class 'tuple'> cannot be sent over RPC\.$",
        sql("UPDATE items SET qty = ?", (1,))),
    bad("sql-query-bytes", StorageTypeError,
        r"^sql\.exec\(\) needs the query as a str, got bytes: b'DELETE FROM items'$",
        sql(b"DELETE FROM items")),
    bad("sql-empty", SqlError, NO_STATEMENT, sql("")),
    bad("sql-whitespace-only", SqlError, NO_STATEMENT, sql(" \n\t ")),
    bad("sql-comment-only", SqlError, NO_STATEMENT, sql("-- nothing to see here")),
    bad("sql-block-comment-only", SqlError, NO_STATEMENT, sql("/* nothing */ ;")),
    bad("sql-double-semicolon", SqlError, NO_STATEMENT, sql("DELETE FROM items;;")),
    bad("sql-trailing-comment", SqlError, NO_STATEMENT, sql("DELETE FROM items; -- done")),
    # cursors
    bad("one-with-zero-rows", SqlError, r"^Expected exactly one result from SQL query, but got no results\.$",
        lambda ctx: ctx.storage.sql.exec("SELECT * FROM items WHERE name = 'durian'").one()),
    bad("one-with-several-rows", SqlError, r"^Expected exactly one result from SQL query, but got multiple results\.$",
        lambda ctx: ctx.storage.sql.exec("SELECT * FROM items").one()),
    # alarms
    bad("setAlarm-zero", StorageTypeError, r"^setAlarm\(\) cannot be called with an alarm time <= 0$",
        lambda ctx: ctx.storage.setAlarm(0)),
    bad("setAlarm-infinity", StorageTypeError, r"^The value cannot be converted because it is not a valid Date\.$",
        lambda ctx: ctx.storage.setAlarm(float("inf"))),
    bad("setAlarm-text", StorageTypeError, NOT_OF_TYPE.format("setAlarm", 1, "date"),
        lambda ctx: ctx.storage.setAlarm("tomorrow")),
    # transactions
    bad("transactionSync-raises", ValueError, r"^boom: transactionSync callback failed$", sync_txn_raises),
    bad("transactionSync-raises-custom", Boom, r"^custom failure$", sync_txn_raises_custom),
    bad("transactionSync-returns-awaitable", StorageTypeError,
        r"^transactionSync\(\) callback must be synchronous; it returned an awaitable\.", sync_txn_returns_awaitable),
    bad("transactionSync-not-callable", StorageTypeError, r"^transactionSync\(\) needs a function, got int$",
        lambda ctx: ctx.storage.transactionSync(5)),
    bad("transactionSync-deleteAll", StorageError, r"^Cannot call deleteAll\(\) within a transaction$",
        sync_txn_delete_all),
    bad("transactionSync-sql-commit", SqlError, TXN, sync_txn_sql_commit),
    bad("transactionSync-or-rollback-violation", SqlError, r"^UNIQUE constraint failed: items\.name",
        sync_txn_or_rollback),
    bad("transaction-raises", KeyError, r"boom: transaction closure failed", txn_raises),
    bad("transaction-or-rollback-violation", SqlError, r"^UNIQUE constraint failed: items\.name", txn_or_rollback),
    bad("transaction-not-callable", StorageTypeError, r"^transaction\(\) needs an async function, got str$",
        lambda ctx: ctx.storage.transaction("closure")),
    bad("transaction-txn-deleteAll", StorageError, r"^Cannot call deleteAll\(\) within a transaction$",
        txn_delete_all),
    bad("transaction-ctx-deleteAll", StorageError, r"^Cannot call deleteAll\(\) within a transaction$",
        txn_ctx_delete_all),
    bad("transaction-txn-put-none", StorageTypeError, r"^put\(\) called with undefined value\.$", txn_put_none),
    bad("transaction-used-after-rollback", StorageError, r"^Transaction was rolled back; no further operations",
        txn_used_after_rollback),
    bad("transaction-used-after-closure", StorageError, r"^Transaction used after it finished; did you move `txn`",
        txn_used_after_closure),
]


def check_crossed(exc: BaseException, error: type[BaseException], pattern: str) -> None:
    """``exc`` is ``error`` as a caller across a stub receives it: a JavaScript error whose name
    follows the exception's built-in base, or a PythonError carrying the traceback."""
    assert type(exc) is DurableObjectError, f"expected a DurableObjectError, got {type(exc).__name__}: {exc}"
    assert exc.remote is True, "an error raised inside the object must arrive with .remote"
    if issubclass(error, DolabError):
        expected = ("TypeError" if issubclass(error, TypeError)
                    else "RangeError" if issubclass(error, ValueError) else "Error")
        assert exc.name == expected, f"{error.__name__} should cross as {expected}, got {exc.name}"
        assert re.search(pattern, exc.message), f"{exc.message!r} does not match {pattern}"
    else:
        assert exc.name == "PythonError" and exc.type == error.__name__, (exc.name, exc.type)
        last = exc.message.rstrip("\n").splitlines()[-1]
        assert f"{error.__name__}: " in last or last.endswith(error.__name__), last
        assert exc.message.startswith("Traceback (most recent call last):")


def attempt(lab: Lab, vault: Any, case: str, via: str) -> None:
    """Run catalog operation ``case`` inside the object: through an RPC method or a test callback."""
    if via == "rpc":
        lab.run(vault.attempt(case))
    else:
        lab.run(lab.run_in_durable_object(vault, lambda obj, ctx: run_op(OPS[case], ctx)))


def settle(lab: Lab, stub: Any, fn: Callable[[Any, Any], Any]) -> tuple[Any, Exception | None]:
    """Run ``fn`` inside the object: (its result, None) or (None, the exception it raised)."""
    try:
        return lab.run(lab.run_in_durable_object(stub, fn)), None
    except Exception as exc:
        return None, exc


@pytest.fixture
def vault(lab: Lab) -> Any:
    lab.bind("VAULT", Vault)
    lab.bind("OTHER", Other)
    stub = lab.env.VAULT.getByName("vault")
    lab.run(stub.seed())
    return stub


def test_catalog_is_large_and_names_are_unique() -> None:
    assert len(CATALOG) >= 35
    assert len({p.id for p in CATALOG}) == len(CATALOG) == len(OPS)


@pytest.mark.parametrize("via", ["rpc", "callback"])
@pytest.mark.parametrize(("case", "error", "pattern"), CATALOG)
def test_bad_input_fails_clearly_and_changes_nothing(
    lab: Lab, vault: Any, via: str, case: str, error: type[BaseException], pattern: str
) -> None:
    before = kv_snapshot(lab, vault)
    assert before["kv"]["alpha"] == 1 and len(before["sql"]["items"]) == 3  # the known data is there

    with pytest.raises(Exception) as info:  # noqa: PT011 - which exception depends on the path; checked below
        attempt(lab, vault, case, via)

    if via == "callback":  # test code inside the object sees the exception itself
        assert type(info.value) is error, f"expected exactly {error.__name__}, got {type(info.value).__name__}"
        assert re.search(pattern, str(info.value)), f"{info.value} does not match {pattern}"
    else:  # a caller on the other side of a stub sees a JavaScript error, as a Python Worker does
        check_crossed(info.value, error, pattern)
    assert kv_snapshot(lab, vault) == before, "storage changed after a failed call"
    lab.evict(vault)
    assert kv_snapshot(lab, vault) == before, "committed storage changed after a failed call"


def test_a_put_at_the_size_limit_is_stored_or_refused_as_a_whole(lab: Lab, vault: Any) -> None:
    """Around the 2,000,000-byte limit a put either stores everything or raises StorageRangeError."""
    before = kv_snapshot(lab, vault)
    outcomes: dict[str, list[int]] = {"stored": [], "refused": []}
    for n in range(LIMIT - 48, LIMIT + 1):
        for form in ("many", "one"):

            async def put(obj: Any, ctx: Any, n: int = n, form: str = form) -> None:
                if form == "one":
                    await ctx.storage.put("edge", "x" * n)
                else:
                    await ctx.storage.put({"alpha": 7, "edge": "x" * n, "omega": 8})

            _, error = settle(lab, vault, put)
            if error is not None:
                assert kv_snapshot(lab, vault) == before, f"a refused {form}-key put of {n:,} chars wrote something"
                what = f"{form}-key put of {n:,} chars: {type(error).__name__}: {error}"
                assert type(error) is StorageRangeError, what
                assert "SQLITE_TOOBIG" in str(error) and "'edge'" in str(error)
                outcomes["refused"].append(n)
                continue

            async def check_and_undo(obj: Any, ctx: Any, n: int = n) -> Any:
                got = await ctx.storage.get(["alpha", "edge", "omega"])
                await ctx.storage.delete(["edge", "omega"])
                await ctx.storage.put("alpha", 1)
                return {k: len(v) if isinstance(v, str) else v for k, v in got.items()}

            got = lab.run(lab.run_in_durable_object(vault, check_and_undo))
            assert got == ({"alpha": 1, "edge": n} if form == "one" else {"alpha": 7, "edge": n, "omega": 8})
            outcomes["stored"].append(n)
    assert outcomes["stored"] and outcomes["refused"], "the scan must cross the limit"
    assert max(outcomes["stored"]) < min(outcomes["refused"]), "one limit, the same for every form"
    assert kv_snapshot(lab, vault) == before


@pytest.mark.parametrize("limit", [2**31, 2**53, 2**63, 10**30])
def test_list_with_a_huge_limit_returns_everything_or_refuses_clearly(lab: Lab, vault: Any, limit: int) -> None:
    before = kv_snapshot(lab, vault)

    async def body(obj: Any, ctx: Any) -> Any:
        return dict(await ctx.storage.list({"limit": limit}))

    got, error = settle(lab, vault, body)
    if limit > 2**53 - 1:  # beyond a JS number: the SDK sends a BigInt, which workerd refuses
        assert type(error) is StorageTypeError and str(error) == "Cannot convert a BigInt value to a number"
    else:
        assert error is None and got == before["kv"]
    assert kv_snapshot(lab, vault) == before


# -- namespaces, ids, stubs and RPC (no storage involved) ------------------------------------------

HEX = "0123456789abcdef" * 4
NOT_HEX = r"^Invalid Durable Object ID: must be 64 hex digits$"
NOT_HERE = r"^Durable Object ID is not valid for this namespace\.$"
NAMESPACE_CASES = [
    pytest.param(lambda lab, stub: lab.env.VAULT.idFromString("not-an-id"), InvalidIdError, NOT_HEX,
                 id="idFromString-malformed"),
    pytest.param(lambda lab, stub: lab.env.VAULT.idFromString(HEX[:63]), InvalidIdError, NOT_HEX,
                 id="idFromString-63-digits"),
    pytest.param(lambda lab, stub: lab.env.VAULT.idFromString(HEX + "0"), InvalidIdError, NOT_HEX,
                 id="idFromString-65-digits"),
    pytest.param(lambda lab, stub: lab.env.VAULT.idFromString("g" * 64), InvalidIdError, NOT_HEX,
                 id="idFromString-not-hex"),
    pytest.param(lambda lab, stub: lab.env.VAULT.idFromString(" " + HEX[1:]), InvalidIdError, NOT_HEX,
                 id="idFromString-space"),
    pytest.param(lambda lab, stub: lab.env.VAULT.idFromString(None), InvalidIdError, NOT_HEX, id="idFromString-None"),
    pytest.param(lambda lab, stub: lab.env.VAULT.idFromString("0" * 64), InvalidIdError, NOT_HERE,
                 id="idFromString-bad-mac"),
    pytest.param(lambda lab, stub: lab.env.VAULT.idFromString(lab.env.OTHER.idFromName("vault").toString()),
                 InvalidIdError, NOT_HERE, id="idFromString-other-namespace"),
    pytest.param(lambda lab, stub: lab.env.VAULT.get("vault"), InvalidIdError,
                 r"^get\(\) needs a DurableObjectId \(from idFromName/newUniqueId/idFromString\), got str: 'vault'$",
                 id="get-with-a-name"),
    pytest.param(lambda lab, stub: lab.env.VAULT.get(stub.id.toString()), InvalidIdError,
                 r"^get\(\) needs a DurableObjectId .*, got str: '[0-9a-f]+", id="get-with-id-text"),
    pytest.param(lambda lab, stub: lab.env.VAULT.get(None), InvalidIdError,
                 r"^get\(\) needs a DurableObjectId .*, got NoneType: None$", id="get-None"),
    pytest.param(lambda lab, stub: lab.env.VAULT.get(lab.env.OTHER.idFromName("vault")), InvalidIdError, NOT_HERE,
                 id="get-id-of-other-namespace"),
    pytest.param(lambda lab, stub: lab.env.VAULT.newUniqueId(jurisdiction="mars"), InvalidIdError,
                 r"^unknown jurisdiction 'mars'; Cloudflare's are eu, fedramp, fedramp-high$", id="newUniqueId-mars"),
    pytest.param(lambda lab, stub: stub._secret, RpcError,
                 r"^'_secret' cannot be called over RPC: names starting with '_' are private to the object\.$",
                 id="rpc-private-method"),
    pytest.param(lambda lab, stub: stub._nothing_here(), RpcError, r"^'_nothing_here' cannot be called over RPC",
                 id="rpc-private-missing-name"),
    pytest.param(lambda lab, stub: stub.fetch(), FetchError,
                 r"^Failed to execute 'fetch' on 'Fetcher': parameter 1 is not of type 'Request or string'\.$",
                 id="fetch-without-request"),
]
# Refused inside the object, so the caller receives a JavaScript TypeError (see check_crossed).
REMOTE_CASES = [
    pytest.param(lambda lab, stub: stub.nope(), r'^The RPC receiver does not implement the method "nope"\.$',
                 id="rpc-missing-method"),
    pytest.param(lambda lab, stub: stub.label(),
                 r'^"label" is a str attribute of Vault, not a method; only methods can be called over RPC\.$',
                 id="rpc-non-callable-attribute"),
    pytest.param(lambda lab, stub: stub.ctx(), r'^"ctx" is a DurableObjectState attribute of Vault', id="rpc-ctx"),
    pytest.param(lambda lab, stub: stub.alarm(), r"^'alarm' is a reserved method and cannot be called over RPC\.$",
                 id="rpc-alarm"),
    pytest.param(lambda lab, stub: stub.webSocketMessage("hi"),
                 r"^'webSocketMessage' is a reserved method and cannot be called over RPC\.$",
                 id="rpc-webSocketMessage"),
    pytest.param(lambda lab, stub: stub.give_tuple(), r"^<class 'tuple'> cannot be sent over RPC\.$",
                 id="rpc-unsupported-result"),
]


def call_and_wait(lab: Lab, stub: Any, call: Callable[[Lab, Any], Any]) -> None:
    result = call(lab, stub)
    if inspect.isawaitable(result):
        lab.run(result)


@pytest.mark.parametrize(("call", "error", "pattern"), NAMESPACE_CASES)
def test_bad_namespace_or_stub_call(
    lab: Lab, vault: Any, call: Callable[[Lab, Any], Any], error: type[BaseException], pattern: str
) -> None:
    before = kv_snapshot(lab, vault)
    with pytest.raises(error, match=pattern) as info:
        call_and_wait(lab, vault, call)
    assert type(info.value) is error
    assert kv_snapshot(lab, vault) == before


@pytest.mark.parametrize(("call", "pattern"), REMOTE_CASES)
def test_bad_rpc_call_reaches_the_caller_as_a_type_error(
    lab: Lab, vault: Any, call: Callable[[Lab, Any], Any], pattern: str
) -> None:
    before = kv_snapshot(lab, vault)
    with pytest.raises(DurableObjectError) as info:
        call_and_wait(lab, vault, call)
    check_crossed(info.value, RpcError if "attribute" in pattern or "RPC receiver" in pattern or "reserved" in pattern
                  else SerializationError, pattern)
    assert kv_snapshot(lab, vault) == before


def test_names_that_are_not_strings_become_strings_as_on_cloudflare(lab: Lab, vault: Any) -> None:
    ns = lab.env.VAULT
    assert ns.idFromName(5).equals(ns.idFromName("5"))
    assert ns.idFromName(None).name == "undefined"  # the SDK hands namespace arguments to JS unconverted
    assert ns.idFromName(b"ab").name == "97,98"  # a Uint8Array's String()
    assert ns.getByName(["vault"]).id.equals(vault.id)


@pytest.mark.parametrize(
    ("args", "kwargs", "type_name"),
    [
        pytest.param([(1, 2)], {}, "tuple", id="tuple"),
        pytest.param([bytearray(b"x")], {}, "bytearray", id="bytearray"),
        pytest.param([Opaque()], {}, r"[\w.]*Opaque", id="custom-object"),
        pytest.param([["ok", {"nested": (1,)}]], {}, "tuple", id="nested-tuple"),
        pytest.param([], {"option": frozenset()}, "frozenset", id="keyword-frozenset"),
    ],
)
def test_unsupported_rpc_argument_is_refused_at_call_time(
    lab: Lab, vault: Any, args: list[Any], kwargs: dict[str, Any], type_name: str
) -> None:
    requests = lab.statistics().requests
    with pytest.raises(SerializationError, match=rf"^<class '{type_name}'> cannot be sent over RPC\.$"):
        vault.echo(*args, **kwargs)  # not awaited: the call itself refuses
    assert lab.statistics().requests == requests, "nothing may reach the object"
    assert lab.run(vault.echo("fine", n=1)) == [["fine"], {"n": 1}]
    assert lab.run(vault.echo({3: "three", "b": 2.0, "s": {1}})) == [[{"3": "three", "b": 2, "s": {1}}], {}]


# -- object names are only names, even in persist mode ----------------------------------------------

PATH_NAMES = [
    "../../etc/passwd",
    "../../../../../../var/escaped",
    "/abs/path",
    "a/b\\c",
    "..",
    ".",
    "",
    "~",
    "C:\\Windows\\system32",
    "%2e%2e%2f",
    "con",
    "nul\x00byte",
    "name with spaces/and/slashes/",
    "x" * 300,
]


def test_path_like_names_work_and_stay_inside_the_persist_folder(tmp_path: Path) -> None:
    persist = tmp_path / "one" / "two" / "three" / "persist"  # "../.." from inside still lands under tmp_path
    with Lab(durable_objects={"COUNTER": Counter}, persist=persist) as lab:
        for i, name in enumerate(PATH_NAMES, start=1):
            stub = lab.env.COUNTER.getByName(name)
            assert stub.name == name
            assert lab.run(stub.add(i)) == i
        lab.evict_all()
        assert len(lab.list_durable_object_ids("COUNTER")) == len(PATH_NAMES)

    files = sorted(p for p in tmp_path.rglob("*") if not p.is_dir() and p.name not in (".dolab.lock", ".dolab-clock"))
    assert len(files) == len(PATH_NAMES)
    for path in files:
        assert path.parent == persist / "Counter", f"{path} is outside {persist}/Counter"
        assert re.fullmatch(r"[0-9a-f]{64}", path.stem) and path.suffix == ".sqlite", path.name
    folders = {p for p in tmp_path.rglob("*") if p.is_dir()}
    assert folders == {persist / "Counter", *(persist / "Counter").parents} - set(tmp_path.parents) - {tmp_path}
    assert not Path("/abs/path").exists()

    # The names still find their own objects after a restart.
    with Lab(durable_objects={"COUNTER": Counter}, persist=persist) as lab:
        for i, name in enumerate(PATH_NAMES, start=1):
            assert lab.run(lab.env.COUNTER.getByName(name).read()) == i
