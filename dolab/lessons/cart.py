"""The two carts of chapter 01, clicked by simulated users; plain functions the widgets call.

:class:`CartDemo` sends one request per click — to a stateless Worker or to a user's Durable
Object — as a user standing in their region, through the lab's :class:`~dolab.sim.network.Network`,
and returns a :class:`Click` record: what the response said, the count it reported, and how long
the click took on the simulated clock. Tests call these functions directly; the widget in
:mod:`dolab.view.widgets` only draws them (simulation layer: no pandas, no ipywidgets here).
"""

from __future__ import annotations

import itertools
import json
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


class CartDemo:
    """Clicks on a stateless cart and a stateful cart, side by side, for several users.

    Args:
        lab: a lab with a :class:`~dolab.sim.network.Network` and a Durable Object binding for the
            stateful cart.
        stateless: ``lab.worker(SomeWorker)``: the stateless cart.
        binding: the Durable Object binding of the stateful cart (default ``"CART"``).
        users: user name -> region code they click from.
    """

    def __init__(self, lab: Lab, stateless: WorkerStub, binding: str = "CART",
                 users: dict[str, str] | None = None) -> None:
        if not isinstance(lab.network, Network):
            raise ConfigError("CartDemo needs a lab with a network: Lab(..., network=Network())")
        if binding not in lab.namespaces:
            raise ConfigError(f"the lab has no Durable Object binding {binding!r}; it has {sorted(lab.namespaces)}")
        self.lab = lab
        self.network = lab.network
        self.stateless = stateless
        self.namespace = lab.namespaces[binding]
        self.users = dict(users or USERS)
        for region in self.users.values():
            self.network.geo.region(region)
        self.log: list[Click] = []
        self._ids = itertools.count(1)

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

        async def send() -> Any:
            # The user's name travels as a header, as a session or auth header would.
            headers = {"x-user": user}
            if side == "stateless":
                return await self.stateless.fetch(url, method="POST", headers=headers)
            return await self.namespace.getByName(user).fetch(url, method="POST", headers=headers)

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
        return click

    def stored_count(self, user: str) -> Any:
        """What the user's Durable Object has in storage under ``"count"`` (``None`` if nothing)."""
        stub = self.namespace.getByName(user)
        return self.lab.run(self.lab.run_in_durable_object(stub, lambda obj, ctx: ctx.storage.get("count")))

    def evict(self, user: str) -> str:
        """Evict the user's object: in-memory state goes, storage stays. Says what happened."""
        stub = self.namespace.getByName(user)
        if self.lab.evict(stub):
            return f"{user}'s object was evicted: its memory is gone, its storage is kept"
        return f"{user}'s object was not in memory (nothing to evict)"


def _parse(text: str) -> tuple[int | None, str]:
    try:
        data = json.loads(text)
    except ValueError:
        return None, text
    if isinstance(data, dict):
        count = data.get("count")
        return (count if isinstance(count, int) else None), str(data.get("message", text))
    return None, text
