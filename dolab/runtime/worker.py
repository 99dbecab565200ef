"""Stateless Workers: ``WorkerEntrypoint`` and ``lab.worker(cls)`` (runtime layer).

On Cloudflare a Worker runs at the edge nearest each user and keeps nothing you can rely on
between requests. dolab makes that plain: every request gets a fresh instance, so state kept on
``self`` never survives. Anything that must last has to go somewhere else: an external
database, a cookie, or a Durable Object.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from dolab.runtime import wallclock
from dolab.runtime.errors import FetchError, RpcError
from dolab.runtime.fetch import Request, Response
from dolab.runtime.values import to_wire

if TYPE_CHECKING:
    from dolab.runtime.engine import Engine


class WorkerContext:
    """The ``ctx`` of a Worker request: only ``waitUntil``."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def waitUntil(self, awaitable: Awaitable[Any]) -> None:
        """Let ``awaitable`` finish after the response has gone."""
        self._engine.loop.create_task(_await(awaitable))


async def _await(awaitable: Awaitable[Any]) -> None:
    await awaitable


class WorkerEntrypoint:
    """Base class of a stateless Worker. Define ``async def fetch(self, request)`` and/or methods."""

    ctx: WorkerContext
    env: Any

    def __init__(self, ctx: WorkerContext, env: Any) -> None:
        self.ctx = ctx
        self.env = env


class WorkerStub:
    """Calls a Worker: ``await worker.fetch(url)`` or ``await worker.method(...)``; a fresh instance each time."""

    _dolab_passable = True

    def __init__(self, engine: Engine, cls: type[WorkerEntrypoint]) -> None:
        if not (isinstance(cls, type) and issubclass(cls, WorkerEntrypoint)):
            raise RpcError(f"lab.worker() needs a WorkerEntrypoint subclass, got {cls!r}")
        self._engine = engine
        self._cls = cls
        wallclock.adopt(cls)  # datetime.now() in the Worker's code reads the lab clock
        self.requests = 0

    def _instance(self) -> WorkerEntrypoint:
        self.requests += 1
        ctx = WorkerContext(self._engine)
        instance = self._cls.__new__(self._cls)
        instance.ctx, instance.env = ctx, self._engine.env
        instance.__init__(ctx, self._engine.env)  # type: ignore[misc]
        return instance

    def fetch(self, input: str | Request, init: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        request = input if isinstance(input, Request) else Request(input, **dict(init or {}, **kwargs))
        return self._engine.enter(self._run("fetch", (request,), {}))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise RpcError(f"{name!r} cannot be called over RPC: names starting with '_' are private.")

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._engine.enter(self._run(name, to_wire(list(args)), to_wire(kwargs)))

        return call

    async def _run(self, name: str, args: Any, kwargs: Any) -> Any:
        instance = self._instance()
        method = getattr(instance, name, None)
        if not callable(method):
            raise RpcError(f'The RPC receiver does not implement the method "{name}".')
        result = method(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        if name == "fetch":
            if not isinstance(result, Response):
                raise FetchError(f"fetch() handler must return a Response, got {type(result).__name__}")
            return result
        return to_wire(result)

    def __repr__(self) -> str:
        return f"<WorkerStub {self._cls.__name__}>"
