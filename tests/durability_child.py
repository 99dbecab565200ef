"""Child process for the durability test: acknowledges writes on stdout until it is killed.

``python -m tests.durability_child FOLDER START MODE`` writes record ``START``, ``START + 1``, ...
into a persist folder and prints each number once the call that wrote it has returned (so the
write is acknowledged). MODE says where in an object's life the writes happen, so that a
``kill -9`` lands there too:

- ``steady``: three objects, written in turn.
- ``create``: every record goes to a brand-new object (file, tables and first commit).
- ``transaction``: each record is two puts and a SQL row in one ``transaction()`` with an await
  between them.
- ``hibernate``: the clock jumps past ``hibernate_after`` after each write, so the object closes
  its database and wakes again on the next call.
- ``evict``: the object is evicted after each write (``max_active=1`` adds eviction pressure).
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from dolab import DurableObject, Lab

MODES = ("steady", "create", "transaction", "hibernate", "evict")


class Ledger(DurableObject):
    async def record(self, n: int) -> int:
        self.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS entries (n INTEGER PRIMARY KEY)")
        self.ctx.storage.sql.exec("INSERT INTO entries VALUES (?)", n)
        await self.ctx.storage.put(f"n:{n:08d}", {"n": n, "pad": "x" * (n % 500)})
        return n

    async def record_in_transaction(self, n: int) -> int:
        async def body(txn: Any) -> None:
            await txn.put(f"n:{n:08d}", {"n": n, "pad": "y" * (n % 300)})
            await asyncio.sleep(0)  # suspended half-way: a kill may land here
            self.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS entries (n INTEGER PRIMARY KEY)")
            self.ctx.storage.sql.exec("INSERT INTO entries VALUES (?)", n)
            await txn.put(f"pair:{n:08d}", n)

        await self.ctx.storage.transaction(body)
        return n

    async def dump(self) -> Any:
        kv = sorted(v["n"] for v in (await self.ctx.storage.list({"prefix": "n:"})).values())
        pairs = sorted((await self.ctx.storage.list({"prefix": "pair:"})).values())
        tables = {r["name"] for r in self.ctx.storage.sql.exec("SELECT name FROM sqlite_master WHERE type='table'")}
        rows = self.ctx.storage.sql.exec("SELECT n FROM entries ORDER BY n") if "entries" in tables else []
        sql = [r["n"] for r in rows]
        return {"kv": kv, "sql": sql, "pairs": pairs}


def object_name(mode: str, n: int) -> str:
    """Which object record ``n`` goes to."""
    return f"new-{n}" if mode == "create" else f"ledger-{n % 3}"


def main(folder: str, start: int, mode: str) -> None:
    lab = Lab(durable_objects={"LEDGER": Ledger}, persist=folder, max_active=1 if mode == "evict" else 2_000)
    n = start
    while True:
        stub = lab.env.LEDGER.getByName(object_name(mode, n))
        lab.run(stub.record_in_transaction(n) if mode == "transaction" else stub.record(n))
        print(n, flush=True)  # acknowledged: the call returned, so the write is committed
        if mode == "hibernate":
            lab.advance(11)  # past hibernate_after: the database closes, to reopen on the next call
        elif mode == "evict":
            lab.evict(stub)
        n += 1


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else "steady")
