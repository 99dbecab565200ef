"""Chapter 03: the traditional ways to keep a cart, beside the Durable Object (lessons layer).

The four carts are the chapter's own Worker classes (an external database, a session cookie, an
edge cache in front of the database, and a Worker that routes to each user's object). A
:class:`Device` is one browser of a user, in one region, with its own cookie jar;
:class:`FixesDemo` clicks as a device and reports count, round trips and latency. Each design runs
in a lab of its own (its own database, cache and objects), so their numbers do not mix, and
:meth:`FixesDemo.usage_per_click` says what a design used per click: what :func:`monthly_bills`
prices for a month of traffic, with the database's and the cache's own bills as inputs.
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
from dolab.runtime.lab import Lab
from dolab.runtime.worker import WorkerEntrypoint
from dolab.sim.externaldb import ExternalDatabase
from dolab.sim.network import Network
from dolab.sim.pricing import Usage, bill
from dolab.sim.trace import RequestRecord

DESIGNS = ("external-db", "cookie", "cached-db", "do-per-user")
CART_TABLE = "CREATE TABLE carts (user TEXT PRIMARY KEY, count INTEGER)"


class EdgeCache:
    """A cache per region with a time-to-live, like a CDN's: regions do not share entries.

    ``env.CACHE`` in the chapter; on Cloudflare the Cache API (``caches.default``) is per data
    centre in the same way, and asynchronous."""

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
    user: str
    device: str
    action: str
    count: int | None
    round_trips: int
    latency_ms: float
    served_from: str  # where the request was answered: the database's or the object's region, or the edge


class FixesDemo:
    """The four carts, each in a lab of its own, clicked from devices.

    Args:
        carts: design name (:data:`DESIGNS`) -> the chapter's Worker class for it.
        objects: Durable Object bindings the ``do-per-user`` Worker routes to, e.g. ``{"CART": Cart}``.
        seed, db_region, cache_ttl: the labs' seed, the database's home region, the edge cache's TTL.
    """

    def __init__(self, carts: dict[str, type], objects: dict[str, type] | None = None, *, seed: int = 1,
                 db_region: str = "eastus", cache_ttl: float = 60.0) -> None:
        unknown = set(carts) - set(DESIGNS)
        if unknown:
            raise ConfigError(f"unknown designs {sorted(unknown)}; designs are {', '.join(DESIGNS)}")
        for design, cls in carts.items():
            if not (isinstance(cls, type) and issubclass(cls, WorkerEntrypoint)):
                raise ConfigError(f"the {design} cart must be a WorkerEntrypoint subclass, got {cls!r}")
        self.labs: dict[str, Lab] = {}
        self.workers: dict[str, Any] = {}
        self.db_region = db_region
        for design, cls in carts.items():
            lab = Lab(durable_objects=dict(objects or {}) if design == "do-per-user" else None,
                      network=Network(), seed=seed)
            db = ExternalDatabase(lab, db_region)
            db.conn.execute(CART_TABLE)
            lab.env.DB = db
            lab.env.CACHE = EdgeCache(cache_ttl)
            self.labs[design] = lab
            self.workers[design] = lab.worker(cls)
        self.log: list[FixClick] = []
        self._ids = itertools.count(1)

    def click(self, design: str, device: Device, action: str = "add") -> FixClick:
        """One click as ``device`` on ``design``: ``action`` is ``"add"`` or ``"view"``."""
        if design not in self.workers:
            raise ConfigError(f"design must be one of {', '.join(self.workers)}, got {design!r}")
        if action not in ("add", "view"):
            raise ConfigError(f"action must be 'add' or 'view', got {action!r}")
        lab, worker = self.labs[design], self.workers[design]
        network = lab.network
        assert isinstance(network, Network)
        jar = device.cookies.get(design, "")
        headers = {"x-user": device.user, **({"cookie": jar} if jar else {})}
        url = f"https://shop.example/cart/{action}"
        n = next(self._ids)
        record = RequestRecord(n, design, device.user, action, device.region, device.region)

        async def go() -> tuple[Any, str]:
            response = await network.user_request(record, lambda: worker.fetch(url, method="POST", headers=headers))
            return response, (await response.text() if hasattr(response, "text") else str(response))

        response, text = lab.run(go())
        cookie = response.headers.get("set-cookie") if hasattr(response, "headers") else None
        if cookie:
            device.cookies[design] = cookie
        count = _count(text)
        click = FixClick(n, design, device.user, device.name or device.user, action, count, record.round_trips,
                         record.latency_ms, record.target_region or device.region)
        self.log.append(click)
        return click

    def wait(self, seconds: float) -> None:
        """Let simulated time pass in every design's lab (caches expire, objects hibernate)."""
        for lab in self.labs.values():
            lab.advance(seconds)

    def usage_per_click(self, design: str) -> dict[str, float]:
        """What one click of ``design`` used, on average over its clicks so far: Worker and Durable
        Object requests, rows, billed seconds, database queries, and stored bytes per user."""
        clicks = [c for c in self.log if c.design == design]
        if not clicks:
            raise ConfigError(f"no clicks on {design!r} yet: click it before asking what a click uses")
        lab = self.labs[design]
        stats = lab.statistics()
        users = {c.user for c in clicks}
        db = lab.env.DB
        n = len(clicks)
        return {
            "worker_requests": 1.0,
            "do_requests": stats.requests / n,
            "rows_read": stats.rows_read / n,
            "rows_written": stats.rows_written / n,
            "active_seconds": stats.active_seconds / n,
            "db_queries": db.queries / n,
            "stored_bytes_per_user": lab.stored_bytes() / max(1, len(users)),
        }

    def close(self) -> None:
        for lab in self.labs.values():
            lab.close()


@dataclass(frozen=True)
class Month:
    """A month of traffic, and the bills that are not Cloudflare's (your quotes: inputs, not data)."""

    users: int
    clicks_per_user: float  # requests a user makes in a month, in the mix of views and adds measured
    database_usd: float = 0.0  # the external database's own monthly bill
    cache_usd: float = 0.0  # the cache's own monthly bill (0 for Cloudflare's Cache API)

    def __post_init__(self) -> None:
        for name in ("users", "clicks_per_user", "database_usd", "cache_usd"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
                raise ConfigError(f"Month.{name} must be a number >= 0, got {value!r}")


def monthly_bills(usage: dict[str, dict[str, float]], month: Month) -> list[dict[str, Any]]:
    """Each design's month, priced: Cloudflare's lines from ``data/prices.csv`` (Workers Paid, with
    its $5 minimum), plus the database's and the cache's own bills where the design uses them.

    ``usage`` maps a design to :meth:`FixesDemo.usage_per_click`."""
    clicks = month.users * month.clicks_per_user
    rows = []
    for design, per_click in usage.items():
        priced = bill(Usage(
            requests=per_click["do_requests"] * clicks,
            active_seconds=per_click["active_seconds"] * clicks,
            rows_read=per_click["rows_read"] * clicks,
            rows_written=per_click["rows_written"] * clicks,
            stored_gb=per_click["stored_bytes_per_user"] * month.users / 1e9,
            worker_requests=per_click["worker_requests"] * clicks,
        ))
        database = month.database_usd if per_click["db_queries"] > 0 else 0.0
        cache = month.cache_usd if design == "cached-db" else 0.0
        workers = priced.cost("minimum") + priced.cost("worker_requests")
        objects = priced.total - workers
        rows.append({
            "design": design, "workers_usd": workers, "durable_objects_usd": objects,
            "database_usd": database, "cache_usd": cache, "total_usd": priced.total + database + cache,
            "db_queries": per_click["db_queries"] * clicks,
        })
    return rows


def lines_of_code(*classes: type) -> int:
    """Lines of the classes' code, without docstrings, blank lines and comments."""
    return sum(_code_lines(_source(cls)) for cls in classes)


def _source(cls: type) -> str:
    """A class's source. Python 3.11 cannot find a class defined in a notebook cell (3.13 can), but it
    finds its methods: then the class is its ``class`` line and its methods."""
    try:
        return textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):
        methods = [textwrap.indent(textwrap.dedent(inspect.getsource(f)), "    ")
                   for f in vars(cls).values() if inspect.isfunction(f)]
        return f"class {cls.__name__}:\n" + "".join(methods)


def _code_lines(source: str) -> int:
    tree = ast.parse(source)
    docs: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and ast.get_docstring(node):
            first = node.body[0]
            docs.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    lines = source.splitlines()
    return sum(1 for i, line in enumerate(lines, start=1)
               if i not in docs and line.split("#", 1)[0].strip())


def _count(text: str) -> int | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    count = data.get("count") if isinstance(data, dict) else None
    return count if isinstance(count, int) else None

