"""Input and output gates, implicit transactions, blockConcurrencyWhile and resets."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from dolab import DurableObject, DurableObjectError, Lab, ResetError


class Pinger(DurableObject):
    """Another object to await: a call to it is an 'outside' await for the caller."""

    async def ping(self) -> str:
        await asyncio.sleep(0.005)
        return "pong"


class Account(DurableObject):
    constructed = 0

    def __init__(self, ctx: Any, env: Any) -> None:
        super().__init__(ctx, env)
        type(self).constructed += 1
        self.trace: list[str] = []
        self.memory = "fresh"

    async def add_storage_only(self, tag: str) -> None:
        self.trace.append(f"{tag}:start")
        n = (await self.ctx.storage.get("n")) or 0  # a storage await: the input gate holds
        self.trace.append(f"{tag}:read")
        await self.ctx.storage.put("n", n + 1)
        self.trace.append(f"{tag}:end")

    async def add_with_outside_await(self, tag: str) -> None:
        self.trace.append(f"{tag}:start")
        n = (await self.ctx.storage.get("n")) or 0
        self.trace.append(f"{tag}:read")
        await self.env.PINGER.getByName("p").ping()  # an outside await: others may run here
        await self.ctx.storage.put("n", n + 1)
        self.trace.append(f"{tag}:end")

    async def add_allow_concurrency(self, tag: str) -> None:
        n = (await self.ctx.storage.get("n", {"allowConcurrency": True})) or 0
        await self.ctx.storage.put("n", n + 1)

    async def get_trace(self) -> list[str]:
        return self.trace

    async def n(self) -> Any:
        return await self.ctx.storage.get("n")

    async def write_two_then_abort(self) -> None:
        self.ctx.storage.put("a", 1)
        await self.ctx.storage.put("b", 2)
        self.ctx.abort()

    async def write_yield_write_abort(self) -> None:
        await self.ctx.storage.put("a", 1)
        await self.env.PINGER.getByName("p").ping()  # yields: the first write commits here
        await self.ctx.storage.put("b", 2)
        self.ctx.abort("enough")

    async def put_and_return(self, key: str) -> str:
        self.ctx.storage.put(key, "saved")  # not awaited: the output gate still holds the reply
        return "ok"

    async def critical(self, seconds: float) -> None:
        async def section() -> None:
            self.trace.append("critical:start")
            await self.env.PINGER.getByName("p").ping()
            await asyncio.sleep(seconds)
            self.trace.append("critical:end")

        await self.ctx.blockConcurrencyWhile(section)

    async def note(self, tag: str) -> None:
        self.trace.append(tag)

    async def critical_fails(self) -> None:
        async def section() -> None:
            self.ctx.storage.put("half", "written")
            raise ValueError("init failed")

        self.memory = "changed"
        await self.ctx.blockConcurrencyWhile(section)

    async def get_memory(self) -> str:
        return self.memory

    async def stale_write(self) -> None:
        await asyncio.sleep(5)
        await self.ctx.storage.put("late", True)

    async def do_abort(self) -> None:
        self.ctx.abort()


class SlowInit(DurableObject):
    def __init__(self, ctx: Any, env: Any) -> None:
        super().__init__(ctx, env)
        self.ready = False

        async def load() -> None:
            await asyncio.sleep(2)
            self.ready = True

        ctx.blockConcurrencyWhile(load)  # not awaited, as in a Python constructor

    async def is_ready(self) -> bool:
        return self.ready


class FailingInit(DurableObject):
    """Its constructor's setup fails: a schema migration that cannot run on this object's data."""

    def __init__(self, ctx: Any, env: Any) -> None:
        super().__init__(ctx, env)

        async def setup() -> None:
            ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS t (x)")
            ctx.storage.sql.exec("ALTER TABLE t ADD COLUMN y")  # fails on the second wake

        ctx.blockConcurrencyWhile(setup)  # not awaited, as in a Python constructor

    async def ping(self) -> str:
        return "pong"


class SlowFailingInit(DurableObject):
    """Its constructor's setup waits, then fails once: events queue behind it meanwhile."""

    fail = True

    def __init__(self, ctx: Any, env: Any) -> None:
        super().__init__(ctx, env)

        async def setup() -> None:
            await asyncio.sleep(1)
            if type(self).fail:
                type(self).fail = False
                raise ValueError("schema mismatch")

        ctx.blockConcurrencyWhile(setup)

    async def ping(self) -> str:
        return "pong"


def make_lab(**kwargs: Any) -> Lab:
    Account.constructed = 0
    return Lab(durable_objects={"ACCOUNT": Account, "PINGER": Pinger, "SLOW": SlowInit, "FAILING": FailingInit,
                               "SLOWFAIL": SlowFailingInit},
               **kwargs)


def run_concurrently(lab: Lab, method: str, n: int) -> tuple[Any, list[str]]:
    stub = lab.env.ACCOUNT.getByName("acc")

    async def main() -> None:
        await asyncio.gather(*(getattr(stub, method)(f"r{i}") for i in range(n)))

    lab.run(main())
    return lab.run(stub.n()), lab.run(stub.get_trace())


def test_storage_awaits_do_not_interleave_but_outside_awaits_do() -> None:
    with make_lab(storage_latency=0.001) as lab:
        n, trace = run_concurrently(lab, "add_storage_only", 5)
        assert n == 5  # no lost update: the input gate held at every storage await
        assert trace[:3] == ["r0:start", "r0:read", "r0:end"]  # each ran start to end alone
    with make_lab(storage_latency=0.001) as lab:
        n, trace = run_concurrently(lab, "add_with_outside_await", 5)
        assert n == 1  # all five read 0 before any wrote: four updates lost
        assert trace.index("r1:read") < trace.index("r0:end")  # interleaved at the outside await


def test_allow_concurrency_opens_the_gate_for_that_read() -> None:
    with make_lab(storage_latency=0.001) as lab:
        stub = lab.env.ACCOUNT.getByName("acc")

        async def main() -> None:
            await asyncio.gather(*(stub.add_allow_concurrency(str(i)) for i in range(4)))

        lab.run(main())
        assert lab.run(stub.n()) < 4


def test_storage_await_takes_virtual_time_only_with_latency() -> None:
    with make_lab() as lab:
        lab.run(lab.env.ACCOUNT.getByName("a").add_storage_only("x"))
        assert lab.now == 0.0
    with make_lab(storage_latency=0.002) as lab:
        lab.run(lab.env.ACCOUNT.getByName("a").add_storage_only("x"))
        # The read waits for storage; the put resolves at once (its write waits at the output gate).
        assert lab.now == pytest.approx(0.002)


def test_output_gate_reply_leaves_after_commit(tmp_path: Path) -> None:
    with make_lab(persist=tmp_path) as lab:
        stub = lab.env.ACCOUNT.getByName("gate")
        assert lab.run(stub.put_and_return("k")) == "ok"
        # Another process's view: read the object's file with a separate connection right now.
        (path,) = (tmp_path / "Account").glob("*.sqlite")
        other = sqlite3.connect(path)
        try:
            assert other.execute("SELECT key FROM _cf_KV").fetchall() == [("k",)]
        finally:
            other.close()


def test_writes_between_awaits_are_atomic_and_abort_discards_them() -> None:
    with make_lab() as lab:
        stub = lab.env.ACCOUNT.getByName("atomic")
        aborted = "^Error: Application called abort\\(\\) to reset Durable Object\\.$"
        with pytest.raises(ResetError, match=aborted) as info:
            lab.run(stub.write_two_then_abort())
        assert info.value.durableObjectReset is True and info.value.remote is True
        fresh = lab.env.ACCOUNT.getByName("atomic")
        assert lab.run(lab.run_in_durable_object(fresh, lambda o, c: c.storage.list())) == {}


def test_a_yield_commits_what_came_before_it() -> None:
    with make_lab() as lab:
        stub = lab.env.ACCOUNT.getByName("partial")
        with pytest.raises(ResetError, match="^Error: enough$"):
            lab.run(stub.write_yield_write_abort())
        fresh = lab.env.ACCOUNT.getByName("partial")
        assert lab.run(lab.run_in_durable_object(fresh, lambda o, c: c.storage.list())) == {"a": 1}


def test_abort_resets_memory_and_breaks_the_stub() -> None:
    with make_lab() as lab:
        stub = lab.env.ACCOUNT.getByName("ab")
        lab.run(stub.note("before"))
        with pytest.raises(ResetError):
            lab.run(stub.do_abort())
        with pytest.raises(ResetError, match="This stub is broken.*Create a new stub"):
            lab.run(stub.get_trace())
        assert lab.run(lab.env.ACCOUNT.getByName("ab").get_trace()) == []  # the constructor ran again
        assert Account.constructed == 2


def test_block_concurrency_while_holds_every_other_event() -> None:
    with make_lab() as lab:
        stub = lab.env.ACCOUNT.getByName("bcw")

        async def main() -> None:
            first = asyncio.ensure_future(stub.critical(1.0))
            await asyncio.sleep(0.1)  # the critical section is now inside its outside await
            await stub.note("other")
            await first

        lab.run(main())
        assert lab.run(stub.get_trace()) == ["critical:start", "critical:end", "other"]


def test_block_concurrency_while_failure_resets_the_object() -> None:
    with make_lab() as lab:
        stub = lab.env.ACCOUNT.getByName("bcw-fail")
        with pytest.raises(DurableObjectError, match=r"ValueError: init failed\n$") as info:
            lab.run(stub.critical_fails())
        assert info.value.name == "PythonError" and info.value.type == "ValueError"
        assert lab.run(stub.get_memory()) == "fresh"  # in-memory state is gone
        assert lab.run(lab.run_in_durable_object(stub, lambda o, c: c.storage.list())) == {}  # write discarded
        assert Account.constructed == 2


def test_a_failing_setup_in_the_constructor_fails_the_waiting_event_with_its_error() -> None:
    """workerd rejects the events waiting at a broken input gate with the error that broke it, so
    the caller learns why (here: the column exists already), not only that the object was reset."""
    with make_lab() as lab:
        assert lab.run(lab.env.FAILING.getByName("f").ping()) == "pong"  # first wake: the setup runs
        lab.evict_all()
        with pytest.raises(DurableObjectError, match="duplicate column name: y: SQLITE_ERROR"):
            lab.run(lab.env.FAILING.getByName("f").ping())  # second wake: ALTER TABLE fails
        assert lab.statistics().resets == 1


def test_every_event_queued_behind_a_failing_setup_fails_with_its_error() -> None:
    """Events that arrived while the constructor's blockConcurrencyWhile ran all get its error
    (InputGate::setBroken); an event that arrives after the reset constructs a fresh instance."""
    SlowFailingInit.fail = True
    with make_lab() as lab:
        stub = lab.env.SLOWFAIL.getByName("s")

        async def three() -> list[Any]:
            return list(await asyncio.gather(stub.ping(), stub.ping(), stub.ping(), return_exceptions=True))

        outcomes = lab.run(three())
        assert all(isinstance(o, DurableObjectError) and "schema mismatch" in str(o) for o in outcomes), outcomes
        assert lab.statistics().constructed == 1  # nobody built a second instance behind the failure
        assert lab.run(lab.env.SLOWFAIL.getByName("s").ping()) == "pong"


def test_block_concurrency_while_in_constructor_delays_the_first_event() -> None:
    with make_lab() as lab:
        assert lab.run(lab.env.SLOW.getByName("s").is_ready()) is True
        assert lab.now == pytest.approx(2.0)


def test_a_reset_instance_cannot_touch_storage() -> None:
    with make_lab() as lab:
        stub = lab.env.ACCOUNT.getByName("stale")

        async def main() -> Any:
            slow = asyncio.ensure_future(stub.stale_write())
            await asyncio.sleep(1)
            with pytest.raises(ResetError):
                await lab.env.ACCOUNT.getByName("stale").do_abort()
            return await asyncio.gather(slow, return_exceptions=True)

        (outcome,) = lab.run(main())
        assert isinstance(outcome, ResetError)
        fresh = lab.env.ACCOUNT.getByName("stale")
        assert lab.run(lab.run_in_durable_object(fresh, lambda o, c: c.storage.list())) == {}


def test_the_input_gate_reports_who_holds_it_and_how_many_wait() -> None:
    """gate_statistics() is a window on chapter 02's concept: a storage call in flight holds the
    gate, and the events that arrived meanwhile wait at it, in order."""

    class Slow(DurableObject):
        async def add(self, n: int) -> int:
            count = (await self.ctx.storage.get("n")) or 0
            await self.ctx.storage.put("n", count + n)
            return int(count + n)

    with Lab(durable_objects={"SLOW": Slow}, storage_latency=0.010) as lab:
        stub = lab.env.SLOW.getByName("x")
        assert lab.gate_statistics(stub) is None  # not in memory yet
        seen: list[tuple[int, int]] = []

        async def watch() -> None:
            await asyncio.sleep(0.005)  # inside the first get(): three adds arrived together
            s = lab.gate_statistics(stub)
            assert s is not None
            seen.append((s.held_by, s.waiting))

        async def scene() -> list[int]:
            results = await asyncio.gather(stub.add(1), stub.add(2), stub.add(3), watch())
            return [r for r in results if r is not None]

        assert lab.run(scene()) == [1, 3, 6]
        assert seen == [(1, 2)]
        after = lab.gate_statistics(stub)
        assert after is not None and (after.held_by, after.waiting) == (0, 0)
