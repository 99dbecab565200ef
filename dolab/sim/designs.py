"""The cart, built three ways, for the same workload (simulation layer).

Each design is a small class with ``async handle(user, op, sku)``, run by a stateless worker at
the user's nearest edge. Every design does the same logical work per request: ``ops`` storage
operations (``ops - 1`` reads and one write for add/remove, ``ops`` reads for a view).

- :class:`ExternalDbDesign`: the traditional stack. Every storage operation is a round trip to
  one database in its home region, which queues when it is busy.
- :class:`DoPerUserDesign`: one Durable Object per user, placed near the user's first request,
  with its storage beside it. One round trip per request; storage operations cost ~0.
- :class:`CachedDbDesign`: the external database with a read-through cache at each edge: views
  that hit are fast, every write still crosses to the database, and other edges' copies go stale.
- :class:`GlobalDoDesign`: one Durable Object for everybody: the hot-spot anti-pattern. One
  object has one thread, so it saturates at ``1 / cpu_per_event`` requests per second.
"""

from __future__ import annotations

import asyncio
from typing import Any

from dolab.runtime.context import current_region
from dolab.runtime.objects import DurableObject
from dolab.sim.externaldb import ExternalDatabase


async def cart_operation(storage: Any, prefix: str, op: str, sku: str, ops: int) -> int:
    """The cart logic both Durable Object designs share: ``ops`` storage operations."""
    key = f"{prefix}item:{sku}"
    if op == "view":
        for _ in range(ops):
            await storage.get(key)
        return 0
    qty = (await storage.get(key)) or 0
    for _ in range(ops - 2):
        await storage.get(f"{prefix}profile")
    qty = qty + 1 if op == "add" else max(0, qty - 1)
    await storage.put(key, qty)
    return int(qty)


class CartObject(DurableObject):
    """A per-user cart: the DO of :class:`DoPerUserDesign`."""

    async def handle(self, op: str, sku: str, ops: int) -> int:
        return await cart_operation(self.ctx.storage, "", op, sku, ops)


class PinnedCartObject(CartObject):
    """A per-user cart that keeps something of its own open (an outbound connection, a timer, an
    ``accept()``ed WebSocket): it cannot hibernate, so it is billed until it is evicted."""

    def __init__(self, ctx: Any, env: Any) -> None:
        super().__init__(ctx, env)
        self.connection = asyncio.ensure_future(asyncio.sleep(24 * 3600))  # dies with the object


class GlobalCartObject(DurableObject):
    """Every user's cart inside one object: the DO of :class:`GlobalDoDesign`."""

    async def handle(self, user: str, op: str, sku: str, ops: int) -> int:
        return await cart_operation(self.ctx.storage, f"{user}:", op, sku, ops)


class ExternalDbDesign:
    """Stateless worker + one external database: ``ops`` database round trips per request."""

    name = "external-db"

    def __init__(self, db: ExternalDatabase, ops: int) -> None:
        self.db = db
        self.ops = ops

    async def setup(self) -> None:
        self.db.conn.execute(
            "CREATE TABLE IF NOT EXISTS cart (user TEXT, sku TEXT, qty INTEGER, PRIMARY KEY (user, sku))"
        )
        self.db.conn.execute("CREATE TABLE IF NOT EXISTS profile (user TEXT PRIMARY KEY, name TEXT)")

    async def read_qty(self, user: str, sku: str) -> int:
        """One database round trip: how many of ``sku`` are in ``user``'s cart."""
        rows = await self.db.query("SELECT qty FROM cart WHERE user = ? AND sku = ?", user, sku)
        return int(rows[0][0]) if rows else 0

    async def handle(self, user: str, op: str, sku: str) -> Any:
        if op == "view":
            for _ in range(self.ops):
                await self.read_qty(user, sku)
            return 0
        qty = await self.read_qty(user, sku)
        for _ in range(self.ops - 2):
            await self.db.query("SELECT name FROM profile WHERE user = ?", user)
        qty = max(0, qty + (1 if op == "add" else -1))
        await self.db.query("INSERT OR REPLACE INTO cart VALUES (?, ?, ?)", user, sku, qty)
        return qty


class CachedDbDesign(ExternalDbDesign):
    """The external database behind a per-edge read-through cache (``cache_ms`` per lookup)."""

    name = "cached-db"

    def __init__(self, db: ExternalDatabase, ops: int, cache_ms: float = 1.0) -> None:
        super().__init__(db, ops)
        self.cache_ms = cache_ms
        self.cache: dict[tuple[str, str, str], int] = {}  # (edge region, user, sku) -> qty
        self.hits = self.misses = 0

    async def handle(self, user: str, op: str, sku: str) -> Any:
        region = current_region.get() or ""
        key = (region, user, sku)
        if op != "view":
            qty = await super().handle(user, op, sku)
            self.cache[key] = qty  # write-through at this edge only: other edges keep stale copies
            return qty
        loop = asyncio.get_running_loop()
        start = loop.time()
        await asyncio.sleep(self.cache_ms / 1000.0)
        hit = key in self.cache
        self.db.network.record("cache", start, loop.time(), region, region, "hit" if hit else "miss")
        if hit:
            self.hits += 1
            return self.cache[key]
        self.misses += 1
        self.cache[key] = await self.read_qty(user, sku)
        return self.cache[key]


class _ObjectDesign:
    """A design whose worker makes one RPC call to a Durable Object per request."""

    name = ""

    def __init__(self, env: Any, ops: int) -> None:
        self.env = env
        self.ops = ops

    async def setup(self) -> None:
        return None


class DoPerUserDesign(_ObjectDesign):
    """One Durable Object per user: one round trip to it; storage is local."""

    name = "do-per-user"

    async def handle(self, user: str, op: str, sku: str) -> Any:
        return await self.env.CART.getByName(user).handle(op, sku, self.ops)


class GlobalDoDesign(_ObjectDesign):
    """One Durable Object for everybody: every request queues for the same single thread."""

    name = "global-do"

    async def handle(self, user: str, op: str, sku: str) -> Any:
        return await self.env.GLOBAL_CART.getByName("global").handle(user, op, sku, self.ops)


#: Every design any chapter compares, under one name each (chapters use subsets of these).
DESIGN_NAMES: dict[str, str] = {
    "external-db": "a stateless Worker and one external database in its home region",
    "cached-db": "the same database behind a cache at each edge",
    "cookie": "the cart kept in the browser's cookie: no server state at all",
    "do-per-user": "one Durable Object per user, its storage beside it",
    "global-do": "one Durable Object for every user",
}
DESIGNS = ("external-db", "cached-db", "do-per-user", "global-do")  # what simulate() can run
