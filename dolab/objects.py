"""What a learner's class sees: the ``DurableObject`` base class and its ``ctx``.

Names are Cloudflare's Python Workers names, so ``from dolab import DurableObject`` becomes
``from workers import DurableObject`` in production and nothing else changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, NoReturn

from dolab.errors import DurableObjectAbort
from dolab.storage import DurableObjectStorage

if TYPE_CHECKING:
    from dolab.host import ObjectHost
    from dolab.ids import DurableObjectId

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
