"""The output gate and its opt-out: a reply waits for its writes unless all of them asked for allowUnconfirmed.

On Cloudflare a write's promise resolves at once and the *output gate* holds every outgoing
message until the write is durable; ``put(k, v, {"allowUnconfirmed": True})`` lets the reply go
first. If the write then fails, the object is reset all the same, but the caller has already been
told yes (docs glossary "output gate"; workerd api/actor-state.c++).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from dolab import DurableObject, Lab, Network, ResetError
from dolab.sim.trace import RequestRecord


class Cart(DurableObject):
    write_options: dict[str, Any] = {}
    also_sql = False

    async def add(self) -> int:
        count = (await self.ctx.storage.get("count")) or 0
        self.ctx.storage.put("count", count + 1, self.write_options)  # not awaited: the gate still guards it
        if self.also_sql:
            self.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS log (n INTEGER)")
        return int(count + 1)

    async def peek(self) -> Any:
        return await self.ctx.storage.get("count")

    async def unconfirmed_alarm(self) -> None:
        await self.ctx.storage.setAlarm(10**13, {"allowUnconfirmed": True})

    async def alarm(self, info: Any = None) -> None:
        pass


def variant(**attrs: Any) -> type:
    return type("Cart", (Cart,), attrs)


def run_adds(cls: type, fail: bool) -> tuple[Any, Any, list[str], int]:
    """One add through a network; with ``fail`` its commit fails. Returns (reply, stored, hop kinds, resets)."""
    network = Network(first_use=False)
    with Lab(durable_objects={"CART": cls}, network=network, seed=1, storage_latency=0.001) as lab:
        stub = lab.env.CART.getByName("alice")
        lab.run(stub.add())  # place the object and store 1
        before = len(network.trace.hops)
        if fail:
            lab.fail_storage("disk-full", 1, target=stub)
        record = RequestRecord(1, "do", "alice", "add", "westeurope", "westeurope")
        reply = lab.run(network.user_request(record, stub.add))
        kinds = [h.kind for h in network.trace.hops[before:]]
        fresh = lab.env.CART.getByName("alice")
        stored = lab.run(lab.run_in_durable_object(fresh, lambda obj, ctx: ctx.storage.get("count")))
        return reply, stored, kinds, lab.statistics().resets


def test_a_reply_waits_for_the_followers_unless_its_writes_are_unconfirmed() -> None:
    reply, stored, kinds, _ = run_adds(Cart, fail=False)
    assert (reply, stored) == (2, 2) and "replication" in kinds
    reply, stored, kinds, _ = run_adds(variant(write_options={"allowUnconfirmed": True}), fail=False)
    assert (reply, stored) == (2, 2) and "replication" not in kinds  # the reply did not wait


def test_an_unconfirmed_write_holds_no_later_reply_either() -> None:
    for options, held in (({}, True), ({"allowUnconfirmed": True}, False)):
        network = Network(first_use=False)
        with Lab(durable_objects={"CART": variant(write_options=options)}, network=network, seed=1) as lab:
            stub = lab.env.CART.getByName("alice")

            async def add_then_peek(stub: Any = stub) -> Any:
                await stub.add()
                return await stub.peek()  # unconfirmed: it arrives before the followers confirmed the add

            record = RequestRecord(1, "do", "alice", "add", "westeurope", "westeurope")
            lab.run(network.user_request(record, add_then_peek))
            assert sum(h.kind == "replication" for h in network.trace.hops) == (1 if held else 0), options


def test_a_failed_write_drops_the_reply_even_when_put_was_not_awaited() -> None:
    reply, stored, kinds, resets = run_adds(Cart, fail=True)
    assert isinstance(reply, ResetError) and "storage write caused object to be reset" in str(reply)
    assert stored == 1 and resets == 1  # the write is gone and nobody was told it happened


def test_an_unconfirmed_write_that_fails_was_already_answered(caplog: pytest.LogCaptureFixture) -> None:
    reply, stored, _, resets = run_adds(variant(write_options={"allowUnconfirmed": True}), fail=True)
    assert reply == 2, "the reply left before the write was confirmed"
    assert stored == 1 and resets == 1, "the write failed after all, and the object was reset"
    assert "storage write caused object to be reset" in caplog.text


def test_one_confirmed_write_in_the_transaction_holds_the_reply() -> None:
    # allowUnconfirmed on the put, but a SQL statement joins the same transaction: replies wait.
    reply, stored, kinds, _ = run_adds(variant(write_options={"allowUnconfirmed": True}, also_sql=True), fail=True)
    assert isinstance(reply, ResetError) and stored == 1


def test_keyword_options_and_unconfirmed_alarms() -> None:
    class KeywordCart(DurableObject):
        async def add(self) -> int:
            self.ctx.storage.put("count", 1, allowUnconfirmed=True)
            return 1

    with Lab(durable_objects={"CART": KeywordCart, "ALARMED": Cart}, seed=1) as lab:
        stub = lab.env.CART.getByName("a")
        lab.fail_storage("read-only", 1, target=stub)
        assert lab.run(stub.add()) == 1  # answered; the failed commit came after
        alarmed = lab.env.ALARMED.getByName("b")
        lab.fail_storage("io-error", 1, target=alarmed)
        assert lab.run(alarmed.unconfirmed_alarm()) is None
        assert lab.run(lab.run_in_durable_object(lab.env.ALARMED.getByName("b"),
                                                 lambda obj, ctx: ctx.storage.getAlarm())) is None
        assert lab.statistics().resets == 2


def test_storage_hops_say_when_a_read_let_other_events_in() -> None:
    class Reader(DurableObject):
        async def both(self) -> None:
            await self.ctx.storage.get("a")
            await self.ctx.storage.get("a", {"allowConcurrency": True})

    network = Network(first_use=False)
    with Lab(durable_objects={"R": Reader}, network=network, seed=1, storage_latency=0.002) as lab:
        record = RequestRecord(1, "do", "u", "both", "eastus", "eastus")
        lab.run(network.user_request(record, lambda: lab.env.R.getByName("u").both()))
        details = [h.detail for h in network.trace.hops if h.kind == "storage"]
        assert details == ["R", "R allowConcurrency"]
        assert asyncio.iscoroutinefunction(Reader.both)


def test_a_request_still_running_when_its_write_fails_is_told_why() -> None:
    class Awaiting(DurableObject):
        async def add(self) -> int:
            count = (await self.ctx.storage.get("count")) or 0
            await self.ctx.storage.put("count", count + 1)  # the commit point fails during this await
            return int(count + 1)

    with Lab(durable_objects={"CART": Awaiting}, seed=1, storage_latency=0.001) as lab:
        stub = lab.env.CART.getByName("alice")
        lab.fail_storage("disk-full", 1, target=stub)
        with pytest.raises(ResetError, match="storage write caused object to be reset") as caught:
            lab.run(stub.add())
        assert caught.value.durableObjectReset  # type: ignore[attr-defined]
