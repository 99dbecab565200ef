"""The two carts of chapter 01, clicked by simulated users; plain functions the cart panel calls.

The carts are the chapter's own Worker classes: a stateless one, and one that routes each user to
their Durable Object with ``env.CART.getByName(user)``. :class:`CartDemo` sends one request per
click to either Worker, as a user standing in their region, through the lab's
:class:`~dolab.sim.network.Network`, and returns a :class:`Click` record: what the response said,
the count it reported, and how long the click took on the simulated clock. Whoever wants to follow
the clicks (the panel) subscribes with :meth:`CartDemo.subscribe`, so clicks made in code show up
there too. Tests call these functions directly (lessons layer: no pandas, no ipywidgets).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dolab.runtime.errors import ConfigError
from dolab.runtime.lab import Lab
from dolab.runtime.worker import WorkerStub
from dolab.sim.network import Network
from dolab.sim.trace import RequestRecord

SIDES = ("stateless", "stateful")
ACTIONS = ("add", "remove", "reset")
USERS = {"alice": "westeurope", "bob": "australiaeast", "carol": "eastus", "dan": "southeastasia"}


@dataclass(frozen=True)
class Click:
    """One click and its answer."""

    n: int
    side: str
    user: str
    action: str
    status: int
    message: str
    count: int | None
    latency_ms: float
    round_trips: int
    served_from: str
    at: float


@dataclass(frozen=True)
class Event:
    """What happened, for subscribers: ``kind`` is ``"click"`` (with ``click``) or ``"evict"``."""

    kind: str
    user: str
    click: Click | None = None
    message: str = ""


class CartDemo:
    """Clicks on a stateless cart and a stateful cart, side by side, for several users.

    Args:
        lab: a lab with a :class:`~dolab.sim.network.Network` and the Durable Object binding that
            the stateful Worker routes to.
        stateless: ``lab.worker(SomeWorker)``: the stateless cart.
        stateful: ``lab.worker(TheRoutingWorker)``: the Worker in front of the users' objects.
        binding: the Durable Object binding of the users' carts (default ``"CART"``).
        users: user name -> region code they click from.
    """

    def __init__(self, lab: Lab, stateless: WorkerStub, stateful: WorkerStub, binding: str = "CART",
                 users: dict[str, str] | None = None) -> None:
        if not isinstance(lab.network, Network):
            raise ConfigError("CartDemo needs a lab with a network: Lab(..., network=Network())")
        if binding not in lab.namespaces:
            raise ConfigError(f"the lab has no Durable Object binding {binding!r}; it has {sorted(lab.namespaces)}")
        for name, stub in (("stateless", stateless), ("stateful", stateful)):
            if not isinstance(stub, WorkerStub):
                raise ConfigError(f"{name} must be lab.worker(SomeWorkerClass), got {stub!r}")
        self.lab = lab
        self.network = lab.network
        self.workers = {"stateless": stateless, "stateful": stateful}
        self.namespace = lab.namespaces[binding]
        self.users = dict(users or USERS)
        for region in self.users.values():
            self.network.geo.region(region)
        self.log: list[Click] = []
        self._ids = itertools.count(1)
        self._subscribers: list[Callable[[Event], None]] = []

    def subscribe(self, callback: Callable[[Event], None]) -> None:
        """Call ``callback(event)`` after every click and eviction, whoever made it."""
        self._subscribers.append(callback)

    def _tell(self, event: Event) -> None:
        for callback in list(self._subscribers):
            callback(event)

    def click(self, side: str, action: str, user: str) -> Click:
        """Send one click (``side`` stateless/stateful, ``action`` add/remove/reset) as ``user``."""
        if side not in SIDES:
            raise ConfigError(f"side must be one of {SIDES}, got {side!r}")
        if action not in ACTIONS:
            raise ConfigError(f"action must be one of {ACTIONS}, got {action!r}")
        if user not in self.users:
            raise ConfigError(f"unknown user {user!r}; users are {', '.join(self.users)}")
        region = self.users[user]
        url = f"https://shop.example/cart/{action}"
        n = next(self._ids)
        record = RequestRecord(n, side, user, action, region, region)
        worker = self.workers[side]

        async def send() -> Any:
            # The user's name travels as a header, as a session or auth header would.
            return await worker.fetch(url, method="POST", headers={"x-user": user})

        async def go() -> tuple[Any, str]:
            response = await self.network.user_request(record, send)
            text = await response.text() if hasattr(response, "text") else str(response)
            return response, text

        response, text = self.lab.run(go())
        count, message = _parse(text)
        click = Click(
            n=n, side=side, user=user, action=action,
            status=getattr(response, "status", 500), message=message, count=count,
            latency_ms=record.latency_ms, round_trips=record.round_trips,
            served_from=record.target_region or region, at=self.lab.now,
        )
        self.log.append(click)
        self._tell(Event("click", user, click))
        return click

    def stored_count(self, user: str) -> Any:
        """What the user's Durable Object has in storage under ``"count"`` (``None`` if nothing).

        Reading runs inside the object, so it wakes an object that is not in memory."""
        stub = self.namespace.getByName(user)
        return self.lab.run(self.lab.run_in_durable_object(stub, lambda obj, ctx: ctx.storage.get("count")))

    def in_memory(self, user: str) -> bool:
        """Is the user's object in memory right now? (Looking does not wake it.)"""
        return self.lab.gate_statistics(self.namespace.getByName(user)) is not None

    def evict(self, user: str) -> str:
        """Evict the user's object: in-memory state goes, storage stays. Says what happened."""
        stub = self.namespace.getByName(user)
        if self.lab.evict(stub):
            message = f"{user}'s object was evicted: its memory is gone, its storage is kept"
        else:
            message = f"{user}'s object was not in memory (nothing to evict)"
        self._tell(Event("evict", user, message=message))
        return message


def _parse(text: str) -> tuple[int | None, str]:
    try:
        data = json.loads(text)
    except ValueError:
        return None, text
    if isinstance(data, dict):
        count = data.get("count")
        return (count if isinstance(count, int) else None), str(data.get("message", text))
    return None, text
