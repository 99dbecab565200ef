"""What a learner's class sees: the ``DurableObject`` base class and its ``ctx``.

Names are Cloudflare's Python Workers names, so ``from dolab import DurableObject`` becomes
``from workers import DurableObject`` in production and nothing else changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, NoReturn

from dolab.runtime.errors import ConfigError, DurableObjectAbort
from dolab.runtime.storage import DurableObjectStorage

if TYPE_CHECKING:
    from dolab.runtime.host import ObjectHost
    from dolab.runtime.ids import DurableObjectId

ABORT_MESSAGE = "Application called abort() to reset Durable Object."


class DurableObjectState:
    """``ctx``: the object's id, its storage, and the calls that control its concurrency."""

    def __init__(self, host: ObjectHost, generation: int) -> None:
        self._host = host
        self.id: DurableObjectId = host.id
        self.storage = DurableObjectStorage(host, generation)

    def blockConcurrencyWhile(self, callback: Callable[[], Awaitable[Any]] | Awaitable[Any]) -> asyncio.Task[Any]:
        """Run ``callback`` with no other event delivered to this object until it finishes.

        Starts at once, so it also works un-awaited in ``__init__``. If ``callback`` raises (or
        runs over 30 s), the object is reset. Returns an awaitable with ``callback``'s result.
        """
        return self._host.block_concurrency_while(callback, reset_on_error=True)

    def waitUntil(self, awaitable: Awaitable[Any]) -> None:
        """Keep the object in memory until ``awaitable`` settles (it does not delay the reply)."""
        self._host.wait_until(awaitable)

    # -- WebSockets (Hibernation API) -----------------------------------------------------------------

    def acceptWebSocket(self, ws: Any, tags: list[str] | None = None) -> None:
        """Take the server end of a pair; its messages arrive as ``webSocketMessage`` events and
        the object may hibernate while the client stays connected."""
        self._host.engine.sockets.accept(self._host, ws, tags)

    def getWebSockets(self, tag: str | None = None) -> list[Any]:
        """Accepted, not yet closed WebSockets (those with ``tag``, if given)."""
        return self._host.engine.sockets.sockets(self._host, tag)

    def getTags(self, ws: Any) -> list[str]:
        if ws.host_key != (self._host.ns.binding, self._host.raw):
            raise ConfigError("getTags() takes a WebSocket accepted by this object's ctx.acceptWebSocket()")
        return list(ws.tags)

    def setWebSocketAutoResponse(self, pair: Any = None) -> None:
        """Answer a message equal to ``pair.request`` with ``pair.response`` without waking the object."""
        hub, key = self._host.engine.sockets, (self._host.ns.binding, self._host.raw)
        if pair is None:
            hub.auto.pop(key, None)
        else:
            hub.auto[key] = pair

    def getWebSocketAutoResponse(self) -> Any:
        return self._host.engine.sockets.auto.get((self._host.ns.binding, self._host.raw))

    def getWebSocketAutoResponseTimestamp(self, ws: Any) -> Any:
        return ws.auto_response_at

    def abort(self, reason: str | None = None) -> NoReturn:
        """Reset the object now: in-memory state is dropped, uncommitted writes are discarded."""
        raise DurableObjectAbort(reason if reason is not None else ABORT_MESSAGE)

    def __repr__(self) -> str:
        return f"<DurableObjectState id={self.id!r}>"


class DurableObject:
    """Base class of a Durable Object. Subclass it; public methods become RPC methods.

    ``self.ctx`` (a :class:`DurableObjectState`) and ``self.env`` (the lab's bindings) are set
    before your ``__init__`` runs, so they are there even if it forgets ``super().__init__``.
    """

    ctx: DurableObjectState
    env: Any

    def __init__(self, ctx: DurableObjectState, env: Any) -> None:
        self.ctx = ctx
        self.env = env
