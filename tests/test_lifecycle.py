"""Hibernation, eviction, memory pressure, and what survives them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from dolab import DurableObject, Lab, LabError
from tests.conftest import Counter


def test_idle_object_hibernates_after_ten_seconds_and_storage_survives(lab: Lab) -> None:
    stub = lab.env.COUNTER.getByName("h")
    lab.run(stub.add(3))
    lab.advance(9.9)
    assert lab.run(stub.in_memory()) == 3  # still the same instance
    lab.advance(10.0)  # idle for 10 s since the last call
    stats = lab.statistics()
    assert stats.active == 0 and stats.hibernated == 1
    assert lab.run(stub.in_memory()) == 0  # the constructor ran again: memory is fresh
    assert lab.run(stub.read()) == 3  # storage is intact
    assert Counter.constructed == 2


def test_clock_stands_still_between_calls(lab: Lab) -> None:
    stub = lab.env.COUNTER.getByName("still")
    lab.run(stub.add())
    lab.run(stub.add())
    assert lab.now == 0.0
    assert lab.statistics().active == 1


def test_non_hibernatable_object_is_evicted_after_70_to_140_seconds() -> None:
    class Ticker(DurableObject):
        ticks = 0

        async def start(self) -> None:
            async def tick_forever() -> None:
                while True:  # a pending timer: Cloudflare cannot hibernate this object
                    await asyncio.sleep(1)
                    type(self).ticks += 1

            self.task = asyncio.create_task(tick_forever())
            await self.ctx.storage.put("x", 1)

    times = []
    for seed in range(6):
        with Lab(durable_objects={"TICK": Ticker}, seed=seed) as lab:
            lab.run(lab.env.TICK.getByName("b").start())
            while lab.statistics().evicted == 0 and lab.now < 400:
                lab.advance(1)
            times.append(lab.now)
            ticks = Ticker.ticks
            lab.advance(50)
            assert Ticker.ticks == ticks  # the timer died with the evicted object
            assert lab.statistics().hibernated == 0
    assert all(70 <= t <= 141 for t in times), times
    assert len(set(times)) > 1  # drawn at random from the lab's seed


def test_wait_until_keeps_the_object_in_memory_then_it_hibernates() -> None:
    class Worker(DurableObject):
        def __init__(self, ctx: Any, env: Any) -> None:
            super().__init__(ctx, env)
            self.done = False

        async def kick(self) -> str:
            async def later() -> None:
                await asyncio.sleep(300)  # longer than any eviction timer
                self.done = True
                await self.ctx.storage.put("done", True)

            self.ctx.waitUntil(later())
            return "accepted"

    with Lab(durable_objects={"W": Worker}) as lab:
        stub = lab.env.W.getByName("w")
        assert lab.run(stub.kick()) == "accepted"
        assert lab.now == 0.0  # the reply did not wait for waitUntil
        lab.advance(299)
        assert lab.statistics().active == 1  # not evicted while waitUntil is pending
        lab.advance(2)
        assert lab.statistics().active == 1
        lab.advance(10)  # settled at 300 s: hibernatable now, hibernated 10 s later
        stats = lab.statistics()
        assert stats.active == 0 and stats.hibernated == 1 and stats.evicted == 0
        assert lab.run(lab.run_in_durable_object(stub, lambda o, c: c.storage.get("done"))) is True


def test_timings_are_configurable() -> None:
    with Lab(durable_objects={"COUNTER": Counter}, hibernate_after=2.0) as lab:
        stub = lab.env.COUNTER.getByName("fast")
        lab.run(stub.add())
        lab.advance(2.5)
        assert lab.statistics().hibernated == 1


def test_evict_and_evict_all(lab: Lab) -> None:
    a, b = lab.env.COUNTER.getByName("a"), lab.env.COUNTER.getByName("b")
    lab.run(a.add(1))
    lab.run(b.add(2))
    assert lab.evict(a) is True
    assert lab.evict(a) is False  # not in memory any more
    assert lab.statistics().active == 1
    assert lab.evict_all() == 1
    assert lab.run(a.in_memory()) == 0 and lab.run(a.read()) == 1 and lab.run(b.read()) == 2


def test_evicting_a_busy_object_is_refused(lab: Lab) -> None:
    stub = lab.env.COUNTER.getByName("busy")

    async def main() -> None:
        pending = asyncio.ensure_future(stub.sleep_then_add(5))
        await asyncio.sleep(1)
        with pytest.raises(LabError, match="handling a request right now"):
            lab.evict(stub)
        await pending

    lab.run(main())


def test_memory_pressure_evicts_least_recently_used() -> None:
    with Lab(durable_objects={"COUNTER": Counter}, max_active=3) as lab:
        stubs = [lab.env.COUNTER.getByName(f"u{i}") for i in range(5)]
        for stub in stubs:
            lab.run(stub.add())
        stats = lab.statistics()
        assert stats.active == 3 and stats.evicted == 2
        assert lab.run(stubs[4].in_memory()) == 1  # most recent: still in memory
        assert lab.run(stubs[0].in_memory()) == 0  # evicted first
        assert all(lab.run(s.read()) == 1 for s in stubs)


def test_an_evicted_object_costs_little(lab: Lab) -> None:
    stub = lab.env.COUNTER.getByName("small")
    lab.run(stub.add(3))
    lab.evict(stub)
    cold = lab.env.COUNTER.cold[stub.id._raw]
    assert len(cold) < 1000  # a compressed 12 KB SQLite image of a one-key cart


def test_object_with_empty_storage_ceases_to_exist(lab: Lab) -> None:
    stub = lab.env.COUNTER.getByName("ghost")
    assert lab.run(stub.in_memory()) == 0
    lab.evict(stub)
    assert lab.list_durable_object_ids("COUNTER") == []
    lab.run(stub.add())
    lab.evict(stub)
    assert [i.toString() for i in lab.list_durable_object_ids("COUNTER")] == [stub.id.toString()]
    lab.run(lab.run_in_durable_object(stub, lambda o, c: c.storage.deleteAll()))
    lab.evict(stub)
    assert lab.list_durable_object_ids(lab.env.COUNTER) == []


def test_list_ids_includes_active_objects(lab: Lab) -> None:
    names = ["x", "y", "z"]
    for name in names:
        lab.run(lab.env.COUNTER.getByName(name).add())
    lab.evict(lab.env.COUNTER.getByName("y"))
    listed = {i.toString() for i in lab.list_durable_object_ids("COUNTER")}
    assert listed == {lab.env.COUNTER.idFromName(n).toString() for n in names}


class Keepalive(DurableObject):
    """A room whose join() leaves a timer behind: the bug that keeps objects awake and billed."""

    async def join(self, leak: bool = True) -> str:
        if leak and not hasattr(self, "keepalive"):
            self.keepalive = asyncio.create_task(self.ping_forever())
        return "joined"

    async def ping_forever(self) -> None:
        while True:
            await asyncio.sleep(30)

    async def later(self) -> None:
        self.ctx.waitUntil(asyncio.sleep(600))

    async def stop(self) -> None:
        self.keepalive.cancel()


def test_why_awake_names_the_forgotten_timer_and_the_line_that_started_it() -> None:
    with Lab(durable_objects={"R": Keepalive}) as lab:
        leaky, clean = lab.env.R.getByName("leaky"), lab.env.R.getByName("clean")
        for _ in range(30):  # a visitor a minute, for half an hour
            lab.run(leaky.join())
            lab.run(clean.join(leak=False))
            lab.advance(60)
        assert lab.why_awake(clean) == []  # hibernated after each visit
        (blocker,) = lab.why_awake(leaky)
        assert blocker.kind == "task" and "ping_forever()" in blocker.what
        assert "test_lifecycle.py" in blocker.where and "asyncio.create_task(self.ping_forever())" in blocker.where
        stats = lab.statistics()
        assert stats.active == 1 and stats.active_seconds >= 30 * 60 - 1  # billed the whole half hour
        lab.run(leaky.stop())
        lab.run(leaky.later())
        (pending,) = lab.why_awake(leaky)
        assert pending.kind == "waitUntil" and "test_lifecycle.py" in pending.where
        lab.advance(600)
        assert lab.why_awake(leaky) == []  # nothing pending: it hibernates 10 s later
        lab.advance(11)
        assert lab.statistics().active == 0


def test_an_object_evicted_while_a_call_travels_to_it_keeps_what_it_stored() -> None:
    """With a network, a call finds its object's host, then travels for a few ms. If the object is
    evicted meanwhile (another object took its slot), the call must wake it from what it stored,
    not revive the host it found: that host would reopen the image it had been woken from."""
    from dolab.runtime.context import current_region
    from dolab.sim.network import Network

    class Tally(DurableObject):
        async def add(self) -> int:
            n = ((await self.ctx.storage.get("n")) or 0) + 1
            await self.ctx.storage.put("n", n)
            return int(n)

    with Lab(durable_objects={"T": Tally}, network=Network(first_use=False), max_active=1) as lab:
        a, b = lab.env.T.getByName("a"), lab.env.T.getByName("b")

        async def main() -> list[int]:
            current_region.set("eastus")
            first = await a.add()  # a is active and idle, holding n = 1
            # b's call leaves first and lands while a's call is still on its way: b takes the only
            # slot, so a is evicted under a's call.
            later = asyncio.ensure_future(b.add())
            again = await a.add()
            return [first, again, await later]

        assert lab.run(main()) == [1, 2, 1]
        assert lab.run(a.add()) == 3  # and nothing was overwritten by a stale copy
        assert lab.statistics().evicted >= 1
