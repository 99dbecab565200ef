"""Chapter 01's carts: the plain functions, and the widget clicked headless."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from dolab import DurableObject, Lab, LabError, Network, Response, WorkerEntrypoint
from dolab.lessons.cart import CartDemo


class StatelessCart(WorkerEntrypoint):
    async def fetch(self, request: Any) -> Response:
        count = 0
        if request.url.endswith("/add"):
            count += 1
        return Response.json({"count": count, "message": f"{count} item(s) in cart"})


class CartWorker(WorkerEntrypoint):
    async def fetch(self, request: Any) -> Any:
        return await self.env.CART.getByName(request.headers.get("x-user")).fetch(request)


class Cart(DurableObject):
    def __init__(self, ctx: Any, env: Any) -> None:
        super().__init__(ctx, env)
        self.count = 0
        ctx.blockConcurrencyWhile(self.load)

    async def load(self) -> None:
        self.count = (await self.ctx.storage.get("count")) or 0

    async def fetch(self, request: Any) -> Response:
        action = request.url.rsplit("/", 1)[-1]
        self.count = {"add": self.count + 1, "remove": max(0, self.count - 1), "reset": 0}[action]
        await self.ctx.storage.put("count", self.count)
        return Response.json({"count": self.count, "message": f"{self.count} item(s) in cart"})


@pytest.fixture
def demo() -> Iterator[CartDemo]:
    with Lab(durable_objects={"CART": Cart}, network=Network(), seed=1) as lab:
        yield CartDemo(lab, lab.worker(StatelessCart), lab.worker(CartWorker))


def test_two_adds_one_on_the_stateless_side_two_on_the_stateful(demo: CartDemo) -> None:
    stateless = [demo.click("stateless", "add", "alice") for _ in range(2)]
    stateful = [demo.click("stateful", "add", "alice") for _ in range(2)]
    assert [c.count for c in stateless] == [1, 1]
    assert [c.message for c in stateless] == ["1 item(s) in cart"] * 2
    assert [c.count for c in stateful] == [1, 2]
    assert demo.stored_count("alice") == 2


def test_each_user_has_their_own_object_near_them(demo: CartDemo) -> None:
    demo.click("stateful", "add", "alice")
    bob = demo.click("stateful", "add", "bob")
    assert bob.count == 1
    assert bob.served_from == "australiaeast"
    assert demo.click("stateful", "add", "alice").served_from == "westeurope"


def test_latency_is_simulated_per_click(demo: CartDemo) -> None:
    stateless = demo.click("stateless", "add", "alice")
    first = demo.click("stateful", "add", "alice")
    stateful = demo.click("stateful", "add", "alice")
    # The first request to a named object waits for Cloudflare's global uniqueness check.
    assert first.latency_ms > 100
    # Then: last mile (10 ms) for both; the object adds a same-region trip (~1 ms), storage time and
    # the followers' confirmation of the write (~5 ms near Amsterdam).
    assert 9 < stateless.latency_ms < 15
    assert stateless.latency_ms < stateful.latency_ms < 25
    assert stateful.round_trips == 1 and stateless.round_trips == 0


def test_eviction_keeps_storage_and_reruns_the_constructor(demo: CartDemo) -> None:
    for _ in range(3):
        demo.click("stateful", "add", "dan")
    assert "was evicted" in demo.evict("dan")
    assert "not in memory" in demo.evict("dan")
    assert demo.click("stateful", "add", "dan").count == 4
    assert demo.click("stateful", "reset", "dan").count == 0
    assert demo.stored_count("dan") == 0


def test_bad_clicks_are_refused(demo: CartDemo) -> None:
    with pytest.raises(LabError, match="side must be one of"):
        demo.click("sideways", "add", "alice")
    with pytest.raises(LabError, match="action must be one of"):
        demo.click("stateful", "buy", "alice")
    with pytest.raises(LabError, match="unknown user 'zed'; users are alice, bob, carol, dan"):
        demo.click("stateful", "add", "zed")
    assert demo.log == []
    with pytest.raises(LabError, match="stateful must be lab.worker"):
        CartDemo(demo.lab, demo.workers["stateless"], Cart)  # type: ignore[arg-type]


def test_in_memory_says_so_without_waking_the_object(demo: CartDemo) -> None:
    assert not demo.in_memory("alice")  # not created yet
    demo.click("stateful", "add", "alice")
    assert demo.in_memory("alice")
    demo.evict("alice")
    assert not demo.in_memory("alice") and not demo.in_memory("alice")  # looking twice wakes nothing
    demo.lab.advance(30)
    assert not demo.in_memory("alice")
    demo.click("stateful", "add", "alice")
    assert demo.in_memory("alice")


def test_the_widget_clicked_headless(demo: CartDemo) -> None:
    from dolab.view.cart_panel import cart_panel

    panel = cart_panel(demo)
    assert "not created yet" in panel.memory.value
    for _ in range(2):
        panel.buttons[("stateless", "add")].click()
        panel.buttons[("stateful", "add")].click()
    assert panel.counts["stateless"].value == "1"
    assert panel.counts["stateful"].value == "2"
    assert "1 item(s) in cart" in panel.responses["stateless"].value
    assert "ms simulated" in panel.responses["stateful"].value
    assert panel.log.value.count("<tr>") == 5  # header + 4 clicks
    assert "<b>nothing</b>" in panel.kept["stateless"].value
    assert "storage: <b>2</b>" in panel.kept["stateful"].value
    assert "in memory" in panel.memory.value and "not in memory" not in panel.memory.value
    assert not any(b.disabled for b in panel.buttons.values())  # busy only while a click is on its way
    panel.evict_button.click()
    assert "was evicted" in panel.status.value
    assert "not in memory" in panel.memory.value and "storage: <b>2</b>" in panel.kept["stateful"].value
    panel.user.value = "bob"  # another user: their own cart, starting empty
    assert panel.counts["stateful"].value == "0"
    panel.buttons[("stateful", "add")].click()
    assert panel.counts["stateful"].value == "1"
    panel.user.value = "alice"
    assert panel.counts["stateful"].value == "2" and "not in memory" in panel.memory.value
    panel.buttons[("stateful", "remove")].click()
    assert panel.counts["stateful"].value == "1" and "● in memory" in panel.memory.value


def test_the_widget_follows_clicks_and_evictions_made_in_code(demo: CartDemo) -> None:
    from dolab.view.cart_panel import cart_panel

    panel = cart_panel(demo)
    for _ in range(3):
        demo.click("stateful", "add", "carol")
    demo.click("stateless", "add", "carol")
    assert panel.user.value == "carol", "the panel shows the user the code clicked as"
    assert panel.counts["stateful"].value == "3" and panel.counts["stateless"].value == "1"
    assert "storage: <b>3</b>" in panel.kept["stateful"].value
    assert "came from code" in panel.status.value and panel.log.value.count("<tr>") == 5
    demo.evict("carol")
    assert "not in memory" in panel.memory.value and "was evicted" in panel.status.value
    demo.click("stateful", "add", "dan")
    assert panel.user.value == "dan" and panel.counts["stateful"].value == "1"
