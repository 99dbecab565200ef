"""The simulated database's transactions: BEGIN IMMEDIATE ... COMMIT, a round trip each, one writer at a time."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from dolab import ExternalDatabase, Lab, LabError, Network, SqlError
from dolab.sim.trace import RequestRecord


def database(lab: Lab) -> ExternalDatabase:
    db = ExternalDatabase(lab, "eastus")
    db.conn.execute("CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER)")
    db.conn.execute("INSERT INTO t VALUES ('a', 0)")
    return db


async def increment(db: ExternalDatabase) -> int:
    async with db.transaction() as tx:
        (n,), = await tx.query("SELECT n FROM t WHERE k = 'a'")
        await tx.query("UPDATE t SET n = ? WHERE k = 'a'", n + 1)
    return int(n + 1)


def test_transactions_serialise_a_read_modify_write_and_each_statement_is_a_round_trip() -> None:
    network = Network(first_use=False)
    with Lab(network=network, seed=1) as lab:
        db = database(lab)
        records = [RequestRecord(i, "db", "u", "add", "westeurope", "westeurope") for i in range(5)]

        async def main() -> list[Any]:
            return await asyncio.gather(*(network.user_request(r, lambda: increment(db)) for r in records))

        answers = lab.run(main())
        assert sorted(answers) == [1, 2, 3, 4, 5]  # no two read the same value
        assert db.conn.execute("SELECT n FROM t").fetchone() == (5,)
        assert [r.round_trips for r in records] == [4] * 5  # BEGIN, SELECT, UPDATE, COMMIT
        waits = [h for h in network.trace.hops if h.kind == "lock"]
        assert len(waits) == 4  # everyone but the first waited for the write lock
        rtt = 2 * min(h.ms for h in network.trace.hops if h.detail == "db query")
        # the last one waited for four others, each holding the lock ~3 round trips (BEGIN to COMMIT)
        assert max(h.ms for h in waits) > 4 * 2.5 * rtt


def test_without_a_transaction_nothing_waits_and_updates_are_lost() -> None:
    network = Network(first_use=False)
    with Lab(network=network, seed=1) as lab:
        db = database(lab)

        async def naive() -> None:
            (n,), = await db.query("SELECT n FROM t WHERE k = 'a'")
            await db.query("UPDATE t SET n = ? WHERE k = 'a'", n + 1)

        async def main() -> None:
            await asyncio.gather(*(naive() for _ in range(5)))

        lab.run(main())
        assert db.conn.execute("SELECT n FROM t").fetchone() == (1,)
        assert not [h for h in network.trace.hops if h.kind == "lock"]


def test_an_error_rolls_back_and_frees_the_lock_and_a_plain_query_waits_for_a_commit() -> None:
    network = Network(first_use=False)
    with Lab(network=network, seed=1) as lab:
        db = database(lab)

        async def failing() -> None:
            async with db.transaction() as tx:
                await tx.query("UPDATE t SET n = 100")
                await tx.query("SELECT nope FROM t")

        with pytest.raises(SqlError, match="no such column"):
            lab.run(failing())
        assert db.conn.execute("SELECT n FROM t").fetchone() == (0,)  # rolled back

        async def later_read() -> list[Any]:
            await asyncio.sleep(0.1)  # BEGIN reached Virginia ~45 ms after the start, COMMIT will ~270 ms
            return await db.query("SELECT n FROM t")

        async def writer_and_reader() -> tuple[int, list[Any]]:
            return await asyncio.gather(increment(db), later_read())

        record = RequestRecord(1, "db", "u", "add", "westeurope", "westeurope")
        wrote, seen = lab.run(network.user_request(record, writer_and_reader))
        assert wrote == 1 and seen == [(1,)]  # the plain read waited for the COMMIT: no dirty read
        assert [h.detail for h in network.trace.hops if h.kind == "lock"] == ["write lock"]


def test_a_transaction_is_used_once_and_inside_its_block() -> None:
    network = Network(first_use=False)
    with Lab(network=network, seed=1) as lab:
        db = database(lab)
        txn = db.transaction()
        with pytest.raises(LabError, match="this transaction is new"):
            lab.run(txn.query("SELECT 1"))

        async def twice() -> None:
            async with txn:
                pass
            async with txn:
                pass

        with pytest.raises(LabError, match="a transaction runs once"):
            lab.run(twice())
        assert lab.run(increment(db)) == 1  # the lock was given back


def test_a_transaction_cancelled_on_its_way_out_rolls_back_and_frees_the_lock() -> None:
    network = Network(first_use=False)
    with Lab(network=network, seed=1) as lab:
        db = database(lab)

        async def slow() -> None:
            async with db.transaction() as tx:
                await tx.query("UPDATE t SET n = 100")
                await asyncio.sleep(10)  # a Worker that stalls while holding the lock

        async def cancel_twice() -> None:
            task = asyncio.ensure_future(slow())
            await asyncio.sleep(0.5)
            task.cancel()  # in the body: the block sends ROLLBACK ...
            await asyncio.sleep(0)
            task.cancel()  # ... and that is cancelled too, on its way to the database
            with contextlib.suppress(asyncio.CancelledError):
                await task

        lab.run(cancel_twice())
        assert not db.conn.in_transaction and db.conn.execute("SELECT n FROM t").fetchone() == (0,)
        assert lab.run(increment(db)) == 1  # the lock was given back
