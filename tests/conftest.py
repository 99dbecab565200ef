"""Shared fixtures: a fresh lab per test, closed afterwards, and a few small object classes."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import Any

import pytest

from dolab import DurableObject, Lab, Response


@pytest.fixture(scope="session", autouse=True)
def shared_results(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One fresh folder of simulation results per test session (dolab.lessons.sweep's DOLAB_CACHE_DIR):
    a chapter executed as shipped, with its solutions and in the browser simulates its sweep once.
    Fresh each session, so a result is never older than the code under test. The notebook kernels and
    JupyterLab inherit the variable."""
    previous = os.environ.get("DOLAB_CACHE_DIR")
    os.environ["DOLAB_CACHE_DIR"] = str(tmp_path_factory.mktemp("results"))
    yield
    if previous is None:
        del os.environ["DOLAB_CACHE_DIR"]
    else:
        os.environ["DOLAB_CACHE_DIR"] = previous


class Counter(DurableObject):
    """A tiny object used across tests: counts constructions and keeps a KV counter."""

    constructed = 0

    def __init__(self, ctx: Any, env: Any) -> None:
        super().__init__(ctx, env)
        type(self).constructed += 1
        self.memory = 0

    async def add(self, n: int = 1) -> int:
        count = (await self.ctx.storage.get("count")) or 0
        await self.ctx.storage.put("count", count + n)
        self.memory += n
        return int(count + n)

    async def read(self) -> Any:
        return await self.ctx.storage.get("count")

    def in_memory(self) -> int:
        return self.memory

    async def sleep_then_add(self, seconds: float, n: int = 1) -> int:
        await asyncio.sleep(seconds)
        return await self.add(n)

    async def fetch(self, request: Any) -> Response:
        return Response(f"{request.method} {request.url}")


@pytest.fixture
def lab() -> Iterator[Lab]:
    Counter.constructed = 0
    with Lab(durable_objects={"COUNTER": Counter}, seed=0) as the_lab:
        yield the_lab


def kv_snapshot(lab: Lab, stub: Any) -> dict[str, Any]:
    """Every KV pair and every SQL row of one object, to prove a failed call changed nothing."""

    async def grab(instance: Any, ctx: Any) -> dict[str, Any]:
        kv = dict(await ctx.storage.list())
        listed = ctx.storage.sql.exec("PRAGMA table_list")
        tables = [r["name"] for r in listed if not r["name"].startswith(("_cf_", "sqlite_"))]
        sql = {t: ctx.storage.sql.exec(f'SELECT * FROM "{t}"').raw().toArray() for t in sorted(tables)}
        return {"kv": kv, "sql": sql}

    return lab.run(lab.run_in_durable_object(stub, grab))  # type: ignore[no-any-return]
