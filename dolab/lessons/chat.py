"""Chapter 07's chat: clients in different regions, each message timed, and a room's traffic and bill.

:class:`ChatDemo` connects users (each standing in a region) to one chat-room object through the
lab's network, the way a browser would (``GET /ws?user=alice`` with ``Upgrade: websocket``), sends
messages as them, lets the lab run until they arrive, and reports per recipient how long each
message took. Whoever draws it (the chat panel in :mod:`dolab.view.chat_panel`) subscribes with
:meth:`ChatDemo.subscribe` and is told after every change, whether a button or a cell made it.

:func:`run_traffic` drives a room class for a while (clients each sending a message per round)
and returns what it cost: the :class:`~dolab.sim.pricing.Usage` the bill is made of, how often the
room was constructed and hibernated, and what, if anything, still kept it awake at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from dolab.runtime.context import current_region
from dolab.runtime.errors import ConfigError, LabStateError
from dolab.runtime.lab import Lab
from dolab.sim.network import Network
from dolab.sim.pricing import Usage, usage_of

URL = "https://chat.example/ws"
UPGRADE = {"Upgrade": "websocket"}  # what a browser's `new WebSocket(url)` sends


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


def connect(lab: Lab, stub: Any, user: str, url: str = URL) -> Any:
    """Open a WebSocket to a room object as ``user``: the client end, or a clear error."""
    response = lab.run(stub.fetch(f"{url}?user={quote(user)}", headers=UPGRADE))
    if response.status != 101 or response.webSocket is None:
        raise LabStateError(f"the room did not accept a WebSocket for {user!r} (status {response.status})")
    return response.webSocket


class ChatDemo:
    """Users connected to one room object; ``send`` returns every client's delivery."""

    def __init__(self, lab: Lab, binding: str, room: str = "lobby", users: dict[str, str] | None = None) -> None:
        if not isinstance(lab.network, Network):
            raise ConfigError("ChatDemo needs a lab with a network: Lab(..., network=Network())")
        if binding not in lab.namespaces:
            raise ConfigError(f"no binding {binding!r} in this lab; bindings: {', '.join(lab.namespaces)}")
        self.lab = lab
        self.room = room
        self.stub = lab.namespaces[binding].getByName(room)
        self.clients: dict[str, Any] = {}
        self.regions: dict[str, str] = {}
        self.deliveries: list[Delivery] = []
        self._listeners: list[Callable[[], None]] = []
        for user, region in (users or {}).items():
            self.join(user, region)

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after every join, message, wait and leave (a panel redraws then)."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in self._listeners:
            listener()

    def join(self, user: str, region: str) -> Any:
        """Open a WebSocket to the room as ``user`` standing in ``region``."""
        if user in self.clients:
            raise ConfigError(f"{user!r} is already in the room")
        self.lab.network.geo.region(region)  # type: ignore[union-attr]  # an unknown region: a clear error
        token = current_region.set(region)
        try:
            ws = connect(self.lab, self.stub, user)
        finally:
            current_region.reset(token)
        self.clients[user] = ws
        self.regions[user] = region
        self.lab.advance(1.0)  # let what the room sent on joining arrive
        self._changed()
        return ws

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
                if isinstance(message, str) and message.endswith(text):
                    got.append(Delivery(user, name, message, sent, at))
        self.deliveries.extend(got)
        self._changed()
        return got

    def wait(self, seconds: float) -> float:
        """Let ``seconds`` pass with nobody typing; returns the lab's clock."""
        now = self.lab.advance(seconds)
        self._changed()
        return now

    def leave(self, user: str) -> None:
        self.clients.pop(user).close(1000, "bye")
        self.regions.pop(user)
        self.lab.advance(1.0)
        self._changed()

    @property
    def in_memory(self) -> bool:
        """Is the room object in memory now (rather than hibernated or never started)?"""
        return self.lab.gate_statistics(self.stub) is not None

    @property
    def region(self) -> str | None:
        """Where the room object lives (placed near its first user)."""
        server = next((ws.peer for ws in self.clients.values() if ws.peer is not None), None)
        return None if server is None else server.region  # the server end lives with the object

    def inbox(self, user: str) -> list[Delivery]:
        return [d for d in self.deliveries if d.recipient == user]


@dataclass(frozen=True)
class RoomRun:
    """What one room class did and used under :func:`run_traffic`."""

    room: str
    clients: int
    rounds: int
    every: float
    usage: Usage
    constructed: int
    hibernated: int
    evicted: int
    received: dict[str, list[str]]  # user -> every message that client received
    awake: tuple[str, ...]  # what kept the room awake at the end (lab.why_awake)

    @property
    def billed_seconds(self) -> float:
        return self.usage.active_seconds

    @property
    def seconds(self) -> float:
        return self.rounds * self.every


def run_traffic(room_class: type, *, clients: int = 10, rounds: int = 60, every: float = 60.0,
                cpu_per_event: float = 0.010, seed: int = 1) -> RoomRun:
    """``clients`` join one room; every ``every`` seconds each sends one message, ``rounds`` times.

    Each event keeps the room busy ``cpu_per_event`` seconds (10 ms: the docs' pricing example).
    Runs in a lab of its own (no network: the bill, not the latency, is the point here).
    """
    if not (isinstance(clients, int) and clients >= 1 and isinstance(rounds, int) and rounds >= 1):
        raise ConfigError(f"clients and rounds must be ints >= 1, got {clients!r} and {rounds!r}")
    if not every > 0:
        raise ConfigError(f"every must be a number of seconds > 0, got {every!r}")
    with Lab(durable_objects={"ROOM": room_class}, cpu_per_event=cpu_per_event, seed=seed) as lab:
        room = lab.env.ROOM.getByName("room")
        users = [f"u{i}" for i in range(clients)]
        sockets = {user: connect(lab, room, user) for user in users}
        for n in range(rounds):
            for user, ws in sockets.items():
                ws.send(f"message {n} from {user}")
            lab.advance(every)
        stats = lab.statistics()
        return RoomRun(
            room=room_class.__name__, clients=clients, rounds=rounds, every=float(every), usage=usage_of(lab),
            constructed=stats.constructed, hibernated=stats.hibernated, evicted=stats.evicted,
            received={user: list(ws.received) for user, ws in sockets.items()},
            awake=tuple(str(b) for b in lab.why_awake(room)),
        )


def monthly_usage(run: RoomRun, rooms: int = 1) -> Usage:
    """What ``rooms`` rooms like the one in ``run`` would use in a 30-day month of the same traffic.

    Stored data is a level, not a flow: it is multiplied by the number of rooms, not by time.
    """
    if not isinstance(rooms, int) or rooms < 1:
        raise ConfigError(f"rooms must be an int >= 1, got {rooms!r}")
    month = run.usage.per_month(run.seconds)
    return Usage(requests=month.requests * rooms, ws_messages=month.ws_messages * rooms,
                 active_seconds=month.active_seconds * rooms, rows_read=month.rows_read * rooms,
                 rows_written=month.rows_written * rooms, stored_gb=month.stored_gb * rooms)
