"""Chapter 03: the traditional ways to keep a cart, beside the Durable Object (simulation layer).

Four carts answer the same clicks: a stateless Worker with an external database, a Worker that
keeps the cart in a session cookie, a Worker that reads through a per-region edge cache in front
of the database, and a Durable Object. A :class:`Device` is a user's browser in one region, with
its own cookie jar; :class:`FixesDemo` clicks as a device and reports count, round trips and
latency. Each cart's source is short on purpose: :func:`lines_of_code` counts it.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import itertools
import json
import textwrap
from dataclasses import dataclass, field
from typing import Any

from dolab.runtime.context import current_region
from dolab.runtime.errors import ConfigError
from dolab.runtime.fetch import Request, Response
from dolab.runtime.lab import Lab
from dolab.runtime.objects import DurableObject
from dolab.runtime.worker import WorkerEntrypoint
from dolab.sim.externaldb import ExternalDatabase
from dolab.sim.network import Network
from dolab.sim.trace import RequestRecord


def _action(request: Request) -> str:
    return request.url.rsplit("/", 1)[-1]


def _reply(count: int, **headers: str) -> Response:
    response: Response = Response.json({"count": count}, headers=headers or None)
    return response


class DatabaseCart(WorkerEntrypoint):
    """Every click reads and writes one database in its home region."""

    async def fetch(self, request: Request) -> Response:
        user, db = request.headers["x-user"], self.env.DB
        rows = await db.query("SELECT count FROM carts WHERE user = ?", user)
        count = rows[0][0] if rows else 0
        if _action(request) == "add":
            count += 1
            await db.query("INSERT OR REPLACE INTO carts VALUES (?, ?)", user, count)
        return _reply(count)


class CookieCart(WorkerEntrypoint):
    """The cart travels in a cookie: no database at all, but it lives in one browser."""

    async def fetch(self, request: Request) -> Response:
        cookie = request.headers.get("cookie", "cart=0")
        count = int(cookie.split("=", 1)[1])
        if _action(request) == "add":
            count += 1
        return _reply(count, **{"set-cookie": f"cart={count}"})


class CachedCart(WorkerEntrypoint):
    """Reads go through the edge cache of the user's region; writes go to the database."""

    async def fetch(self, request: Request) -> Response:
        user, db, cache = request.headers["x-user"], self.env.DB, self.env.CACHE
        count = cache.get(user)
        if count is None:
            rows = await db.query("SELECT count FROM cached_carts WHERE user = ?", user)
            count = rows[0][0] if rows else 0
            cache.put(user, count)
        if _action(request) == "add":
            count += 1
            await db.query("INSERT OR REPLACE INTO cached_carts VALUES (?, ?)", user, count)
            cache.put(user, count)  # only this region's cache learns the new value
        return _reply(count)


class CartObject(DurableObject):
    """One object per user, near them, with its storage beside it."""

    async def fetch(self, request: Request) -> Response:
        count = (await self.ctx.storage.get("count")) or 0
        if _action(request) == "add":
            count += 1
            await self.ctx.storage.put("count", count)
        return _reply(count)


class EdgeCache:
    """A cache per region with a time-to-live, like a CDN's: regions do not share entries."""

    def __init__(self, ttl: float = 60.0) -> None:
        self.ttl = ttl
        self._entries: dict[tuple[str, str], tuple[Any, float]] = {}

    def get(self, key: str) -> Any:
        hit = self._entries.get((current_region.get() or "", key))
        if hit is None or hit[1] <= asyncio.get_running_loop().time():
            return None
        return hit[0]

    def put(self, key: str, value: Any) -> None:
        self._entries[(current_region.get() or "", key)] = (value, asyncio.get_running_loop().time() + self.ttl)


@dataclass
class Device:
    """One browser of one user, in one region, with its own cookie jar."""

    user: str
    region: str
    name: str = ""
    cookies: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FixClick:
    n: int
    design: str
    device: str
    action: str
    count: int
    round_trips: int
    latency_ms: float


DESIGNS = {"external-db": DatabaseCart, "cookie": CookieCart, "cached-db": CachedCart, "do-per-user": CartObject}


class FixesDemo:
    """The four carts in one lab, clicked from devices."""

    def __init__(self, seed: int = 1, db_region: str = "eastus", cache_ttl: float = 60.0) -> None:
        self.network = Network()
        self.lab = Lab(durable_objects={"CART": CartObject}, network=self.network, seed=seed)
        db = ExternalDatabase(self.lab, db_region)
        db.conn.execute("CREATE TABLE carts (user TEXT PRIMARY KEY, count INTEGER)")
        db.conn.execute("CREATE TABLE cached_carts (user TEXT PRIMARY KEY, count INTEGER)")
        self.lab.env.DB = db
        self.lab.env.CACHE = EdgeCache(cache_ttl)
        self.workers = {name: self.lab.worker(cls) for name, cls in DESIGNS.items() if name != "do-per-user"}
        self.log: list[FixClick] = []
        self._ids = itertools.count(1)

    def click(self, design: str, device: Device, action: str = "add") -> FixClick:
        """One click as ``device`` on ``design`` ("external-db", "cookie", "cached-db", "do-per-user")."""
        if design not in DESIGNS:
            raise ConfigError(f"design must be one of {', '.join(DESIGNS)}, got {design!r}")
        if action not in ("add", "view"):
            raise ConfigError(f"action must be 'add' or 'view', got {action!r}")
        jar = device.cookies.setdefault(design, "")
        headers = {"x-user": device.user, **({"cookie": jar} if jar else {})}
        url = f"https://shop.example/cart/{action}"
        n = next(self._ids)
        record = RequestRecord(n, design, device.user, action, device.region, device.region)

        async def send() -> Any:
            if design == "do-per-user":
                return await self.lab.env.CART.getByName(device.user).fetch(url, method="POST", headers=headers)
            return await self.workers[design].fetch(url, method="POST", headers=headers)

        async def go() -> tuple[Any, str]:
            response = await self.network.user_request(record, send)
            return response, await response.text()

        response, text = self.lab.run(go())
        if "set-cookie" in response.headers:
            device.cookies[design] = response.headers["set-cookie"]
        click = FixClick(n, design, device.name or device.user, action, int(json.loads(text)["count"]),
                         record.round_trips, record.latency_ms)
        self.log.append(click)
        return click

    def wait(self, seconds: float) -> None:
        """Let simulated time pass (caches expire, objects hibernate)."""
        self.lab.advance(seconds)

    def close(self) -> None:
        self.lab.close()


def lines_of_code(cls: type) -> int:
    """Lines of a class's code, without its docstring, blank lines and comments."""
    source = textwrap.dedent(inspect.getsource(cls))
    tree = ast.parse(source)
    doc = ast.get_docstring(tree.body[0]) if tree.body else None  # type: ignore[arg-type]
    lines = [line.split("#", 1)[0].rstrip() for line in source.splitlines()]
    code = [line for line in lines if line.strip()]
    return len(code) - (len(doc.splitlines()) if doc else 0)
