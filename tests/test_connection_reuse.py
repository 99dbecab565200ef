"""Cold starts reuse closed objects' SQLite connections; the user's SQL can never tell."""

from __future__ import annotations

from typing import Any

from dolab import DurableObject, Lab


class Note(DurableObject):
    async def write(self, n: int) -> None:
        for i in range(n):
            await self.ctx.storage.put(f"k{i}", i)

    async def counters(self, write_first: bool) -> list[Any]:
        if write_first:
            self.ctx.storage.kv.put("mine", 1)  # a transaction is open when the SQL runs
        row = self.ctx.storage.sql.exec("SELECT changes() AS c, total_changes() AS t").one()
        return [row["c"], row["t"]]


def test_a_reused_connection_counts_nothing_of_the_objects_before() -> None:
    with Lab(durable_objects={"N": Note}, max_active=1) as lab:
        ns = lab.env.N
        for i in range(5):  # each evicts the one before, and takes the connection it left
            lab.run(ns.getByName(f"writer-{i}").write(3))
        # A new object on a reused connection, and one woken from its image on another: both count
        # from zero, as on a connection of their own (the writers made 15 changes before them).
        assert lab.run(ns.getByName("fresh").counters(False)) == [0, 0]
        lab.run(ns.getByName("writer-0").write(1))  # takes a pooled connection again
        assert lab.run(ns.getByName("writer-1").counters(False)) == [0, 0]
        # In a transaction the database cannot move: its own write is what the counters see.
        assert lab.run(ns.getByName("writer-2").counters(True)) == [1, 1]
