"""What the runtime knows about the world around a call: which object's code is running, where
the caller stands, which request it belongs to, and the shape of a transport that charges time
for hops.

The runtime only defines these hooks. The simulation layer fills them in: it sets the region a
simulated user stands in, opens a request record, and supplies a :class:`Transport` (the
``Network``) that places objects and makes each hop take time. Without one, calls are free.
"""

from __future__ import annotations

import contextvars
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from dolab.runtime.host import ObjectHost
    from dolab.runtime.namespace import DurableObjectNamespace

#: The object whose code is running now (``None`` outside every object).
current_host: contextvars.ContextVar[ObjectHost | None] = contextvars.ContextVar("dolab_current_host", default=None)
#: The region the current caller stands in (``None``: nowhere in particular, no transit).
current_region: contextvars.ContextVar[str | None] = contextvars.ContextVar("dolab_current_region", default=None)
#: The request being traced, if any: it counts ``storage_ops`` and ``round_trips``.
current_request: contextvars.ContextVar[Any] = contextvars.ContextVar("dolab_current_request", default=None)


class Transport(Protocol):
    """What a lab needs from a network model (see ``dolab.sim.network.Network``)."""

    def attach(self, lab: Any) -> None: ...

    def place(self, ns: DurableObjectNamespace, raw: bytes, caller_region: str) -> str: ...

    def placement_of(self, ns: DurableObjectNamespace, raw: bytes) -> str | None: ...

    def count_round_trip(self, target_region: str) -> None: ...

    async def transit(self, src: str, dst: str, kind: str = "network", detail: str = "",
                      rtt_ms: float | None = None) -> None: ...

    def record(self, kind: str, start: float, end: float, src: str, dst: str, detail: str = "") -> None: ...

    def replication_ms(self, region: str) -> float: ...

    async def first_use(self, src: str, dst: str, key: tuple[str, bytes] | None = None) -> None: ...
