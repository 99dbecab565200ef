"""The asynchronous KV API: return shapes, list rules, deleteAll, transactions, limits."""

from __future__ import annotations

from typing import Any

import pytest

from dolab import DurableObject, JsDict, Lab, StorageError, StorageRangeError, StorageTypeError


def inside(lab: Lab, fn: Any, name: str = "kv") -> Any:
    return lab.run(lab.run_in_durable_object(lab.env.COUNTER.getByName(name), fn))


def test_get_put_delete_one(lab: Lab) -> None:
    async def body(obj: Any, ctx: Any) -> Any:
        s = ctx.storage
        missing = await s.get("k")
        await s.put("k", {"qty": 2, "tags": ["a"]})
        got = await s.get("k")
        existed = await s.delete("k")
        again = await s.delete("k")
        return missing, got, existed, again, await s.get("k")

    missing, got, existed, again, gone = inside(lab, body)
    assert missing is None and gone is None
    assert got == {"qty": 2, "tags": ["a"]} and isinstance(got, JsDict) and got.qty == 2
    assert existed is True and again is False


def test_multi_key_forms(lab: Lab) -> None:
    async def body(obj: Any, ctx: Any) -> Any:
        s = ctx.storage
        await s.put({"b": 2, "a": 1, "c": 3})
        many = await s.get(["c", "zz", "a"])
        count = await s.delete(["a", "b", "nope"])
        return many, list(many), count, await s.list()

    many, order, count, rest = inside(lab, body)
    assert many == {"a": 1, "c": 3} and order == ["a", "c"]  # found keys only, in key order
    assert count == 2
    assert rest == {"c": 3}


def test_put_none_stores_null(lab: Lab) -> None:
    async def body(obj: Any, ctx: Any) -> Any:
        await ctx.storage.put("n", None)
        return await ctx.storage.list()

    assert inside(lab, body) == {"n": None}


def test_values_round_trip_as_copies(lab: Lab) -> None:
    async def body(obj: Any, ctx: Any) -> Any:
        value = {"items": [1, 2.5, "x", b"\x01", True, None, 2**70]}
        await ctx.storage.put("v", value)
        value["items"].append("mutated after put")
        first = await ctx.storage.get("v")
        first["items"].clear()
        return await ctx.storage.get("v")

    assert inside(lab, body) == {"items": [1, 2.5, "x", b"\x01", True, None, 2**70]}


KEYS = ["", "a", "a/1", "a/2", "ab", "b", "b/1", "é", "\U0001f600"]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (None, KEYS),
        ({"prefix": "a"}, ["a", "a/1", "a/2", "ab"]),
        ({"prefix": "a/"}, ["a/1", "a/2"]),
        ({"start": "a/1"}, KEYS[2:]),
        ({"startAfter": "a/1"}, KEYS[3:]),
        ({"end": "b"}, KEYS[:5]),
        ({"start": "a", "end": "b"}, ["a", "a/1", "a/2", "ab"]),
        ({"start": "b", "end": "a"}, []),
        ({"reverse": True}, KEYS[::-1]),
        ({"reverse": True, "limit": 2}, ["\U0001f600", "é"]),
        ({"start": "a", "end": "b", "reverse": True, "limit": 3}, ["ab", "a/2", "a/1"]),
        ({"limit": 1}, [""]),
        ({"prefix": "a", "start": "a/2"}, ["a/2", "ab"]),
        ({"prefix": "a", "end": "a/2"}, ["a", "a/1"]),
        ({"prefix": "b", "start": "a"}, ["b", "b/1"]),
        ({"prefix": "a", "start": "b"}, []),
        ({"prefix": "zz"}, []),
        ({"prefix": "é"}, ["é"]),
    ],
)
def test_list_options(lab: Lab, options: Any, expected: list[str]) -> None:
    async def body(obj: Any, ctx: Any) -> Any:
        await ctx.storage.put({k: i for i, k in enumerate(KEYS)})
        return list(await ctx.storage.list(options))

    assert inside(lab, body) == expected


def test_list_orders_by_utf8_bytes(lab: Lab) -> None:
    keys = ["Z", "a", "\u00ff", "\u0100", "\uffff", "\U00010000"]

    async def body(obj: Any, ctx: Any) -> Any:
        await ctx.storage.put({k: 1 for k in reversed(keys)})
        return list(await ctx.storage.list())

    assert inside(lab, body) == sorted(keys, key=lambda k: k.encode())


def test_delete_all_clears_kv_and_sql(lab: Lab) -> None:
    async def body(obj: Any, ctx: Any) -> Any:
        await ctx.storage.put("k", 1)
        ctx.storage.sql.exec("CREATE TABLE t (x); INSERT INTO t VALUES (1)")
        ctx.storage.sql.exec("CREATE VIEW v AS SELECT * FROM t")
        await ctx.storage.deleteAll()
        listed = ctx.storage.sql.exec("PRAGMA table_list")
        tables = [r.name for r in listed if not r.name.startswith(("_cf_", "sqlite_"))]
        return await ctx.storage.list(), tables

    assert inside(lab, body) == ({}, [])


def test_transaction_commits_and_rolls_back(lab: Lab) -> None:
    async def body(obj: Any, ctx: Any) -> Any:
        s = ctx.storage

        async def ok(txn: Any) -> str:
            await txn.put("a", 1)
            await s.put("b", 2)  # on SQLite, ctx.storage inside the closure is part of it too
            return "done"

        async def fails(txn: Any) -> None:
            await txn.put("a", 100)
            await txn.delete("b")
            raise RuntimeError("changed my mind")

        async def rolls(txn: Any) -> None:
            await txn.put("a", 200)
            txn.rollback()

        first = await s.transaction(ok)
        with pytest.raises(RuntimeError, match="changed my mind"):
            await s.transaction(fails)
        await s.transaction(rolls)
        return first, await s.list()

    assert inside(lab, body) == ("done", {"a": 1, "b": 2})


def test_transaction_object_is_dead_after_the_closure(lab: Lab) -> None:
    async def body(obj: Any, ctx: Any) -> Any:
        kept = []

        async def leak(txn: Any) -> None:
            kept.append(txn)

        await ctx.storage.transaction(leak)
        with pytest.raises(StorageError, match="did you move `txn` outside of the closure"):
            kept[0].put("x", 1)
        with pytest.raises(StorageError, match="Cannot call deleteAll\\(\\) within a transaction"):
            await ctx.storage.transaction(lambda txn: ctx.storage.deleteAll())
        return await ctx.storage.list()

    assert inside(lab, body) == {}


def test_transaction_sync(lab: Lab) -> None:
    async def body(obj: Any, ctx: Any) -> Any:
        s = ctx.storage

        def write() -> int:
            s.sql.exec("CREATE TABLE IF NOT EXISTS t (x)")
            s.sql.exec("INSERT INTO t VALUES (1)")
            s.put("k", "v")  # un-awaited: still written, as in the Python Workers SDK
            return 7

        def write_then_fail() -> None:
            s.sql.exec("INSERT INTO t VALUES (2)")

            def inner() -> None:
                s.sql.exec("INSERT INTO t VALUES (3)")

            s.transactionSync(inner)  # nested: a savepoint inside a savepoint
            raise KeyError("boom")

        assert s.transactionSync(write) == 7
        with pytest.raises(KeyError):
            s.transactionSync(write_then_fail)
        rows = s.sql.exec("SELECT x FROM t").raw().toArray()
        return rows, await s.get("k")

    assert inside(lab, body) == ([[1]], "v")


def test_transaction_sync_refuses_async_callbacks(lab: Lab) -> None:
    async def body(obj: Any, ctx: Any) -> Any:
        async def not_sync() -> None:
            await ctx.storage.put("k", 1)

        with pytest.raises(StorageTypeError, match="must be synchronous"):
            ctx.storage.transactionSync(not_sync)
        return await ctx.storage.list()

    assert inside(lab, body) == {}


def test_size_limit_is_key_plus_value(lab: Lab) -> None:
    async def body(obj: Any, ctx: Any) -> Any:
        await ctx.storage.put("k", "x" * 1_999_000)  # fits
        with pytest.raises(StorageRangeError, match=r"^string or blob too big: SQLITE_TOOBIG"):
            await ctx.storage.put("k" * 2000, "x" * 1_999_000)
        with pytest.raises(StorageRangeError, match=r"^Maximum number of keys is 128\. \(get\(\) got 129\)$"):
            await ctx.storage.get([str(i) for i in range(129)])
        return len(await ctx.storage.get("k"))

    assert inside(lab, body) == 1_999_000


def test_kv_lives_in_the_objects_sqlite_database(lab: Lab) -> None:
    async def body(obj: Any, ctx: Any) -> Any:
        before = ctx.storage.sql.databaseSize
        names_before = [r.name for r in ctx.storage.sql.exec("PRAGMA table_list")]
        await ctx.storage.put("big", "x" * 100_000)
        names = [r.name for r in ctx.storage.sql.exec("PRAGMA table_list")]
        return before, ctx.storage.sql.databaseSize, names_before, names

    before, after, names_before, names = inside(lab, body)
    assert before == 4096  # a new object is one page, as on workerd
    assert after > before + 100_000
    assert "_cf_KV" not in names_before and "_cf_KV" in names  # created by the first KV write


class SyncCounter(DurableObject):
    """A read-modify-write with the synchronous KV API: no await, so nothing can interleave."""

    async def bump(self) -> int:
        kv = self.ctx.storage.kv
        n = (kv.get("n") or 0) + 1
        kv.put("n", n)
        return int(n)

    async def pairs(self) -> Any:
        return [list(self.ctx.storage.kv.list()), await self.ctx.storage.get("n")]


def test_the_synchronous_kv_api_shares_data_with_the_async_one_and_needs_no_gate() -> None:
    import asyncio

    # storage_latency makes every awaited storage call slow; the sync API does not wait at all.
    with Lab(durable_objects={"C": SyncCounter}, storage_latency=0.01) as lab:
        stub = lab.env.C.getByName("c")

        async def many() -> list[int]:
            return list(await asyncio.gather(*(stub.bump() for _ in range(50))))

        started = lab.now
        assert sorted(lab.run(many())) == list(range(1, 51))  # no update lost
        assert lab.now == started  # and no simulated storage time spent
        assert lab.run(stub.pairs()) == [[["n", 50]], 50]
