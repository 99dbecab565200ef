"""Chapter 07's chat: clients in different regions, each message timed (simulation layer).

:class:`ChatDemo` connects users (each standing in a region) to one chat-room object through
the lab's network, sends messages as them, lets the lab run until they arrive, and reports per
recipient how long each message took. The chat widget in :mod:`dolab.view.widgets` only draws it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dolab.runtime.context import current_region
from dolab.runtime.errors import ConfigError, LabStateError
from dolab.runtime.lab import Lab
from dolab.sim.network import Network


@dataclass(frozen=True)
class Delivery:
    """One message as one client saw it."""

    sender: str
    recipient: str
    text: str
    sent: float
    arrived: float

    @property
    def latency_ms(self) -> float:
        return (self.arrived - self.sent) * 1000.0


class ChatDemo:
    """Users connected to one room object; ``send`` returns every client's delivery."""

    def __init__(self, lab: Lab, binding: str, room: str = "lobby", users: dict[str, str] | None = None) -> None:
        if not isinstance(lab.network, Network):
            raise ConfigError("ChatDemo needs a lab with a network: Lab(..., network=Network())")
        self.lab = lab
        self.stub = lab.namespaces[binding].getByName(room)
        self.clients: dict[str, Any] = {}
        self.regions: dict[str, str] = {}
        self.deliveries: list[Delivery] = []
        for user, region in (users or {}).items():
            self.join(user, region)

    def join(self, user: str, region: str) -> Any:
        """Open a WebSocket to the room as ``user`` standing in ``region``."""
        self.lab.network.geo.region(region)  # type: ignore[union-attr]
        token = current_region.set(region)
        try:
            response = self.lab.run(self.stub.fetch("https://chat.example/ws", headers={"x-user": user}))
        finally:
            current_region.reset(token)
        if response.status != 101 or response.webSocket is None:
            raise LabStateError(f"the room did not accept a WebSocket for {user!r} (status {response.status})")
        self.clients[user] = response.webSocket
        self.regions[user] = region
        return response.webSocket

    def send(self, user: str, text: str, settle: float = 2.0) -> list[Delivery]:
        """``user`` sends ``text``; run the lab ``settle`` seconds; who got it, and when."""
        if user not in self.clients:
            raise ConfigError(f"{user!r} is not in the room; users: {', '.join(self.clients)}")
        sent = self.lab.now
        seen = {name: len(ws.arrivals) for name, ws in self.clients.items()}
        self.clients[user].send(text)
        self.lab.advance(settle)
        got = []
        for name, ws in self.clients.items():
            for at, message in ws.arrivals[seen[name]:]:
                if isinstance(message, str) and text in message:
                    got.append(Delivery(user, name, message, sent, at))
        self.deliveries.extend(got)
        return got

    def leave(self, user: str) -> None:
        self.clients.pop(user).close(1000, "bye")
        self.lab.advance(1.0)
