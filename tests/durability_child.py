"""Child process for the durability test: acknowledges writes on stdout until it is killed."""

from __future__ import annotations

import sys
from typing import Any

from dolab import DurableObject, Lab


class Ledger(DurableObject):
    async def record(self, n: int) -> int:
        self.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS entries (n INTEGER PRIMARY KEY)")
        self.ctx.storage.sql.exec("INSERT INTO entries VALUES (?)", n)
        await self.ctx.storage.put(f"n:{n:08d}", {"n": n, "pad": "x" * (n % 500)})
        return n

    async def dump(self) -> Any:
        kv = sorted(v["n"] for v in (await self.ctx.storage.list({"prefix": "n:"})).values())
        sql = [r["n"] for r in self.ctx.storage.sql.exec("SELECT n FROM entries ORDER BY n")]
        return {"kv": kv, "sql": sql}


def main(folder: str, start: int) -> None:
    lab = Lab(durable_objects={"LEDGER": Ledger}, persist=folder)
    n = start
    while True:
        stub = lab.env.LEDGER.getByName(f"ledger-{n % 3}")
        lab.run(stub.record(n))
        print(n, flush=True)  # acknowledged: the call returned, so the write is committed
        n += 1


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
