"""Reliability: no stored data lost, no hang, a clear error for every misuse.

One regression test (at least) per problem found by a hostile review; the number in each test's
docstring is the problem's number in that review. Anything that could hang runs under
:func:`bounded`, so a regression fails in seconds instead of wedging the suite.
"""

from __future__ import annotations

import asyncio
import gc
import math
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dolab import ConfigError, DurableObject, DurableObjectError, Lab, LabStateError, ResetError

ROOT = Path(__file__).resolve().parent.parent


def bounded(fn: Callable[[], Any], seconds: float = 20.0) -> Any:
    """Run ``fn()`` in a thread; fail the test (instead of hanging it) if it takes too long."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            box["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    started = time.monotonic()
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        pytest.fail(f"still running after {seconds:g} s: the lab hung")
    box["wall"] = time.monotonic() - started
    if "error" in box:
        raise box["error"]
    return box.get("value")


class Monthly(DurableObject):
    """Sets an alarm every 30 days, for ever: a fair lesson needs a year of virtual time."""

    async def start(self) -> None:
        await self.ctx.storage.setAlarm(self.env.LAB_EPOCH_MS + 30 * 86_400_000)

    async def alarm(self, info: Any = None) -> None:
        fired = (await self.ctx.storage.get("fired")) or 0
        await self.ctx.storage.put("fired", fired + 1)
        current = int(self.ctx.storage.sql.exec("SELECT 1 AS one").one()["one"])  # any work at all
        assert current == 1
        await self.ctx.storage.setAlarm(self.env.now_ms() + 30 * 86_400_000)

    async def fired(self) -> int:
        return int((await self.ctx.storage.get("fired")) or 0)


def test_9_the_clock_keeps_going_past_two_to_the_24_seconds() -> None:
    """Past 2**24 s (~194 days) a fixed 1 ns resolution no longer moves a float clock."""

    def year() -> tuple[float, int]:
        with Lab(durable_objects={"M": Monthly}) as lab:
            lab.env.LAB_EPOCH_MS = lab.time_ms
            lab.env.now_ms = lambda: lab.time_ms
            stub = lab.env.M.getByName("m")
            lab.run(stub.start())
            lab.advance(400 * 86_400)
            return lab.now, lab.run(stub.fired())

    now, fired = bounded(year, 30)
    assert now == pytest.approx(400 * 86_400)
    assert fired == 13  # days 30, 60, ..., 390


def test_9_a_timer_due_now_fires_on_a_clock_past_two_to_the_24() -> None:
    def late() -> list[str]:
        with Lab() as lab:
            lab.advance(2**25 + 0.5)
            fired: list[str] = []

            async def soon() -> None:
                loop = asyncio.get_running_loop()
                loop.call_at(loop.time(), fired.append, "now")
                loop.call_at(loop.time() + 1e-9, fired.append, "a nanosecond later")
                await asyncio.sleep(0.001)

            lab.run(soon())
            return fired

    assert bounded(late, 10) == ["now", "a nanosecond later"]


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, True, "5"])
@pytest.mark.parametrize("setting", ["hibernate_after", "storage_latency", "cpu_per_event"])
def test_14_settings_refuse_nan_infinity_and_booleans(setting: str, value: Any) -> None:
    with pytest.raises(ConfigError, match=rf"^{setting} must be a .* number of seconds, got "):
        Lab(**{setting: value})


@pytest.mark.parametrize("value", [math.nan, math.inf, True])
def test_14_advance_and_run_until_refuse_nan_infinity_and_booleans(value: Any) -> None:
    with Lab() as lab:
        with pytest.raises(ConfigError, match=r"^advance\(\) seconds must be a finite, non-negative number"):
            lab.advance(value)
        if value is not True:
            with pytest.raises(ConfigError, match=r"^run\(until=\.\.\.\) needs a finite time in seconds"):
                lab.run(until=value)
        assert lab.now == 0


# -- stored data is never lost -------------------------------------------------------------------


class Keeper(DurableObject):
    async def store(self, total: int) -> None:
        await self.ctx.storage.put("total", total)

    async def hello(self) -> str:
        return "hi"  # touches no storage

    async def total(self) -> Any:
        return await self.ctx.storage.get("total")


@pytest.mark.parametrize("how", ["hibernate", "evict", "evict_all", "max_active"])
def test_1_an_object_that_wakes_without_touching_storage_keeps_its_data(tmp_path: Path, how: str) -> None:
    with Lab(durable_objects={"K": Keeper}, persist=tmp_path) as lab:
        lab.run(lab.env.K.getByName("a").store(42))
    with Lab(durable_objects={"K": Keeper}, persist=tmp_path, max_active=1) as lab:  # a kernel restart
        stub = lab.env.K.getByName("a")
        assert lab.run(stub.hello()) == "hi"
        if how == "hibernate":
            lab.advance(11)
        elif how == "evict":
            assert lab.evict(stub)
        elif how == "evict_all":
            assert lab.evict_all() == 1
        else:
            lab.run(lab.env.K.getByName("b").hello())  # a second object pushes the first out
        assert lab.run(stub.total()) == 42
    assert len(list((tmp_path / "Keeper").glob("*.sqlite"))) == 1


def test_1_a_damaged_file_is_never_deleted(tmp_path: Path) -> None:
    with Lab(durable_objects={"K": Keeper}, persist=tmp_path) as lab:
        lab.run(lab.env.K.getByName("a").store(42))
    (path,) = (tmp_path / "Keeper").glob("*.sqlite")
    path.write_bytes(b"this is not a database" * 100)
    with Lab(durable_objects={"K": Keeper}, persist=tmp_path) as lab:
        stub = lab.env.K.getByName("a")
        with pytest.raises(DurableObjectError, match="cannot open the object's database file"):
            lab.run(stub.total())
        lab.advance(11)
        lab.evict_all()
    assert path.read_bytes() == b"this is not a database" * 100


def test_2_a_second_process_on_the_same_folder_is_refused(tmp_path: Path) -> None:
    with Lab(durable_objects={"K": Keeper}, persist=tmp_path):
        child = subprocess.run(
            [sys.executable, "-c", "import sys; from dolab import Lab; Lab(persist=sys.argv[1])", str(tmp_path)],
            capture_output=True, text=True, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
        )
    assert child.returncode != 0
    assert f"persist folder {tmp_path.resolve()} is in use by a Lab in another process" in child.stderr


def test_2_a_new_lab_on_the_same_folder_in_one_process_takes_over(tmp_path: Path) -> None:
    first = Lab(durable_objects={"K": Keeper}, persist=tmp_path)
    old_stub = first.env.K.getByName("a")
    first.run(old_stub.store(1))
    with pytest.warns(RuntimeWarning, match="closed the earlier Lab on"):
        second = Lab(durable_objects={"K": Keeper}, persist=tmp_path)
    with pytest.raises(LabStateError, match="this lab is closed"):
        first.run(old_stub.store(2))  # the old stub cannot write behind the new lab's back
    assert second.run(second.env.K.getByName("a").total()) == 1
    second.close()


def test_2_two_classes_with_one_name_cannot_share_a_lab() -> None:
    Other = type("Keeper", (DurableObject,), {})  # noqa: N806 - a second class of the same name
    with Lab(durable_objects={"K": Keeper}) as lab:
        with pytest.raises(ConfigError, match="another class named 'Keeper' is already bound"):
            lab.bind("OTHER", Other)
        same = lab.bind("ALIAS", Keeper)  # one class under two bindings: one namespace, as on Cloudflare
        assert same is lab.env.K
        assert lab.env.ALIAS.idFromString(lab.env.K.idFromName("x").toString()).equals(lab.env.K.idFromName("x"))


def test_8_a_path_like_class_name_is_refused(tmp_path: Path) -> None:
    Sneaky = type("../../escape", (DurableObject,), {})  # noqa: N806
    with Lab(persist=tmp_path) as lab, pytest.raises(ConfigError, match="needs a name that is a Python identifier"):
        lab.bind("SNEAKY", Sneaky)
    assert not (tmp_path.parent / "escape").exists()


class Ledger(DurableObject):
    async def slow_transfer(self) -> None:
        async def closure(txn: Any) -> None:
            await txn.put("from", -100)
            await asyncio.sleep(60)  # suspended inside the transaction...
            await txn.put("to", 100)

        self.ctx.waitUntil(self.ctx.storage.transaction(closure))

    async def both(self) -> Any:
        return dict(await self.ctx.storage.get(["from", "to"]))


@pytest.mark.parametrize("how", ["evict", "close"])
def test_3_a_suspended_transaction_is_rolled_back_not_half_committed(tmp_path: Path, how: str) -> None:
    with Lab(durable_objects={"L": Ledger}, persist=tmp_path) as lab:
        stub = lab.env.L.getByName("l")
        lab.run(stub.slow_transfer())
        lab.advance(1)  # ...when the object goes
        if how == "evict":
            host = lab.env.L.hosts[stub.id._raw]
            host.pending.clear()  # pressure: the runtime may evict it anyway (max_active)
            assert lab.evict(stub)
            assert lab.run(stub.both()) == {}
    if how == "close":
        with Lab(durable_objects={"L": Ledger}, persist=tmp_path) as lab:
            assert lab.run(lab.env.L.getByName("l").both()) == {}


class Writer(DurableObject):
    async def write(self, key: str) -> str:
        await self.ctx.storage.put(key, "v")
        return "stored"

    async def read(self, key: str) -> Any:
        return await self.ctx.storage.get(key)


@pytest.mark.parametrize("kind", ["disk-full", "read-only", "io-error"])
def test_5_a_failed_write_is_not_readable_and_the_reply_is_dropped(kind: str) -> None:
    with Lab(durable_objects={"W": Writer}) as lab:
        stub = lab.env.W.getByName("w")
        assert lab.run(stub.write("kept")) == "stored"
        lab.fail_storage(kind, target=stub)
        with pytest.raises(ResetError, match="Internal error in Durable Object storage write caused object to be"):
            lab.run(stub.write("lost"))
        fresh = lab.env.W.getByName("w")  # the old stub is broken, as on Cloudflare
        assert lab.run(fresh.read("lost")) is None  # neither on disk nor in the read cache
        assert lab.run(fresh.read("kept")) == "v"


def test_4_one_broken_object_does_not_stop_the_others_hibernating(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dolab.runtime.database import Database

    with Lab(durable_objects={"W": Writer}) as lab:
        broken, fine = lab.env.W.getByName("broken"), lab.env.W.getByName("fine")
        lab.run(broken.write("a"))
        lab.run(fine.write("b"))
        real_close = Database.close

        def close(db: Database, commit: bool = True) -> bytes | None:
            if db.raw == broken.id._raw and commit:
                raise OSError("the disk went away")  # this object cannot be put away cleanly
            return real_close(db, commit)

        monkeypatch.setattr(Database, "close", close)
        lab.advance(11)
        stats = lab.statistics()
        assert stats.active == 0 and stats.hibernated == 1  # the other one hibernated all the same
        monkeypatch.setattr(Database, "close", real_close)
        assert lab.run(lab.env.W.getByName("broken").read("a")) == "v"  # what it had committed is kept
    assert any("could not hibernate" in r.message and "the disk went away" in r.message for r in caplog.records)


def test_6_stored_values_cannot_run_code(tmp_path: Path) -> None:
    """A persist folder from someone else (a course checkpoint) cannot make get() run code."""
    import pickle
    import sqlite3

    class Evil:
        def __reduce__(self) -> Any:
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    with Lab(durable_objects={"W": Writer}, persist=tmp_path) as lab:
        lab.run(lab.env.W.getByName("w").write("k"))
    (path,) = (tmp_path / "Writer").glob("*.sqlite")
    conn = sqlite3.connect(path)
    conn.execute("UPDATE _cf_KV SET value = ? WHERE key = 'k'", (pickle.dumps(Evil()),))
    conn.commit()
    conn.close()
    with Lab(durable_objects={"W": Writer}, persist=tmp_path) as lab, \
            pytest.raises(DurableObjectError, match="refused \\(stored values never run code\\)"):
        lab.run(lab.env.W.getByName("w").read("k"))
    assert not (tmp_path / "pwned").exists()


def test_6_values_stored_by_earlier_versions_are_still_read(tmp_path: Path) -> None:
    import datetime as dt
    import pickle
    import sqlite3

    with Lab(durable_objects={"W": Writer}, persist=tmp_path) as lab:
        lab.run(lab.env.W.getByName("w").write("k"))
    (path,) = (tmp_path / "Writer").glob("*.sqlite")
    old = {"when": dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "n": 2.0, "raw": b"x"}
    conn = sqlite3.connect(path)
    conn.execute("UPDATE _cf_KV SET value = ? WHERE key = 'k'", (pickle.dumps(old, protocol=5),))
    conn.commit()
    conn.close()
    with Lab(durable_objects={"W": Writer}, persist=tmp_path) as lab:
        got = lab.run(lab.env.W.getByName("w").read("k"))
    assert got["when"] == dt.datetime(2026, 1, 1) and got["n"] == 2 and bytes(got["raw"]) == b"x"


# -- nothing hangs ------------------------------------------------------------------------------------


class Runaway(DurableObject):
    async def spin(self) -> None:
        while True:
            pass

    async def spin_politely(self) -> None:
        while True:
            try:
                await asyncio.sleep(0)
            except Exception:  # noqa: BLE001, S110 - cannot swallow the CPU limit (a BaseException)
                pass

    async def endless_cte(self) -> Any:
        return self.ctx.storage.sql.exec(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n").one()

    async def exit(self) -> None:
        sys.exit(3)

    async def interrupt(self) -> None:
        raise KeyboardInterrupt

    async def fine(self) -> str:
        return "fine"


@pytest.mark.parametrize("method", ["spin", "spin_politely", "endless_cte"])
def test_10_code_that_never_yields_is_stopped_and_the_object_reset(method: str) -> None:
    def go() -> tuple[str, bool, str]:
        with Lab(durable_objects={"R": Runaway}, cpu_limit=0.5) as lab:
            stub = lab.env.R.getByName("r")
            try:
                lab.run(getattr(stub, method)())
            except ResetError as exc:
                message, reset = exc.message, exc.durableObjectReset
            return message, reset, lab.run(lab.env.R.getByName("r").fine())

    message, reset, after = bounded(go, 20)
    assert message == "Durable Object exceeded its CPU time limit and was reset." and reset is True
    assert after == "fine"  # the lab goes on


def test_10_ctrl_c_stops_a_call_stuck_in_object_code_and_the_lab_stays_usable() -> None:
    import signal

    def go() -> str:
        with Lab(durable_objects={"R": Runaway}) as lab:  # the CPU limit is 30 s: Ctrl-C comes first
            threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
            with pytest.raises(KeyboardInterrupt):
                lab.run(lab.env.R.getByName("r").spin())
            time.sleep(0.5)
            return str(lab.run(lab.env.R.getByName("r").fine()))

    started = time.monotonic()
    assert go() == "fine"  # run in the main thread: that is where Ctrl-C lands
    assert time.monotonic() - started < 10


def test_10_an_old_ctrl_c_never_stops_a_later_call() -> None:
    """A Ctrl-C that came while the lab was not stuck lapses with its call; it stops nothing later."""

    class Busy(DurableObject):
        async def work(self) -> str:
            end = time.monotonic() + 0.6  # longer than the watchdog's grace period
            while time.monotonic() < end:
                pass
            return "done"

    def go() -> str:
        with Lab(durable_objects={"B": Busy}) as lab:
            finished = lab._engine.thread.submit(asyncio.sleep(0))
            finished.result(5)
            watchdog = lab._engine.thread.watchdog
            assert watchdog is not None
            lab._engine.on_lab(lambda: watchdog.request_interrupt(asyncio.ensure_future(asyncio.sleep(0))))
            time.sleep(0.3)
            return str(lab.run(lab.env.B.getByName("b").work()))

    assert bounded(go, 20) == "done"


@pytest.mark.parametrize("method", ["exit", "interrupt"])
def test_11_sys_exit_or_keyboard_interrupt_in_object_code_does_not_kill_the_lab(method: str) -> None:
    def go() -> tuple[str, str]:
        with Lab(durable_objects={"R": Runaway}) as lab:
            with pytest.raises(DurableObjectError) as info:
                lab.run(getattr(lab.env.R.getByName("r"), method)())
            return info.value.name, lab.run(lab.env.R.getByName("r").fine())

    assert bounded(go, 20) == ("PythonError", "fine")


def test_12_closing_a_lab_fails_a_call_another_thread_is_waiting_for() -> None:
    class Waiter(DurableObject):
        async def wait(self) -> None:
            await asyncio.Event().wait()  # waits for another thread (which closes the lab instead)

    lab = Lab(durable_objects={"W": Waiter})
    lab._engine.loop.deadlock_after = 60  # not a deadlock: another thread will close the lab
    outcome: dict[str, BaseException] = {}

    def waiting() -> None:
        try:
            lab.run(lab.env.W.getByName("w").wait())
        except BaseException as exc:  # noqa: BLE001
            outcome["error"] = exc

    caller = threading.Thread(target=waiting)
    caller.start()
    time.sleep(0.3)
    bounded(lab.close, 10)
    caller.join(10)
    assert not caller.is_alive()
    assert isinstance(outcome.get("error"), LabStateError)


class Reminder(DurableObject):
    async def start(self) -> None:
        await self.ctx.storage.setAlarm(time.time() * 1000 + 1000)

    async def alarm(self, info: Any = None) -> None:
        await self.ctx.storage.put("n", ((await self.ctx.storage.get("n")) or 0) + 1)
        await self.ctx.storage.setAlarm(1)  # re-armed in the past, every time

    async def n(self) -> Any:
        return await self.ctx.storage.get("n")


def test_13_an_alarm_re_armed_in_the_past_does_not_stop_the_clock() -> None:
    def go() -> tuple[float, int]:
        with Lab(durable_objects={"R": Reminder}) as lab:
            stub = lab.env.R.getByName("r")
            lab.run(stub.start())
            lab.advance(2)
            return lab.now, lab.run(stub.n())

    now, n = bounded(go, 30)
    assert now == pytest.approx(2)
    assert 900 < n <= 1001  # once a millisecond after the first second, not infinitely often


def test_15_a_deadlock_is_reported_with_what_waits_on_what() -> None:
    class Stuck(DurableObject):
        def __init__(self, ctx: Any, env: Any) -> None:
            super().__init__(ctx, env)
            self.never = asyncio.Event()

        async def wait(self) -> None:
            await self.never.wait()

    def go() -> str:
        with Lab(durable_objects={"S": Stuck}) as lab:
            lab._engine.loop.deadlock_after = 0.2
            with pytest.raises(LabStateError) as info:
                lab.run(lab.env.S.getByName("s").wait())
            return str(info.value)

    text = bounded(go, 10)
    assert text.startswith("deadlock at t=0 s")
    assert "S 's': 1 event(s) inside" in text
    assert "await self.never.wait()" in text


# -- misuse gets a clear error ----------------------------------------------------------------------


def test_16_a_stub_of_another_or_a_closed_lab_is_refused_by_lab_run() -> None:
    with Lab(durable_objects={"K": Keeper}) as one, Lab(durable_objects={"K": Keeper}) as two:
        call = two.env.K.getByName("a").hello()
        with pytest.raises(ConfigError, match="this call belongs to another lab"):
            one.run(call)
    closed = Lab(durable_objects={"K": Keeper})
    stub = closed.env.K.getByName("a")
    closed.close()
    with Lab() as other, pytest.raises(LabStateError, match="this call belongs to a lab that is closed"):
        other.run(stub.hello())


def test_17_a_client_socket_can_be_awaited_from_the_notebooks_own_loop() -> None:
    from dolab import Response, WebSocketPair

    class Echo(DurableObject):
        async def fetch(self, request: Any) -> Any:
            client, server = WebSocketPair.new()
            self.ctx.acceptWebSocket(server)
            return Response(None, status=101, web_socket=client)

        async def webSocketMessage(self, ws: Any, message: Any) -> None:  # noqa: N802
            ws.send(f"echo {message}")

    with Lab(durable_objects={"E": Echo}) as lab:
        client = lab.run(lab.env.E.getByName("e").fetch("https://e/ws")).webSocket

        async def cell() -> list[str]:
            client.send("one")
            client.send("two")
            return [await client.receive(), await client.receive()]

        assert asyncio.run(cell()) == ["echo one", "echo two"]


def test_18_a_lab_nobody_holds_any_more_is_closed() -> None:
    before = threading.active_count()
    for _ in range(30):
        Lab(durable_objects={"K": Keeper}).run(lab_free_call())
    gc.collect()
    time.sleep(0.2)
    assert threading.active_count() <= before + 2


async def lab_free_call() -> int:
    return 1


def test_18_the_read_cache_is_bounded_by_bytes() -> None:
    from dolab.runtime.database import CACHE_BYTES

    class Big(DurableObject):
        async def fill(self) -> int:
            for i in range(40):
                await self.ctx.storage.put(f"k{i}", "x" * 1_000_000)
            return self.ctx._host.db.cache_bytes

    with Lab(durable_objects={"B": Big}) as lab:
        assert lab.run(lab.env.B.getByName("b").fill()) <= CACHE_BYTES


def test_19_asyncio_run_and_gather_work_with_stub_calls() -> None:
    with Lab(durable_objects={"K": Keeper}) as lab:
        stub = lab.env.K.getByName("a")
        assert asyncio.run(stub.hello()) == "hi"  # a stub call is a coroutine

        async def cell() -> list[str]:
            return await asyncio.gather(stub.hello(), stub.hello())

        assert asyncio.run(cell()) == ["hi", "hi"]

        async def wrong() -> None:
            lab.run(asyncio.gather(stub.hello()))

        with pytest.raises(ConfigError, match=r"lab\.run\(\) got an asyncio future or task \(asyncio\.gather"):
            asyncio.run(wrong())


def test_19_stray_files_in_the_persist_folder_are_left_alone(tmp_path: Path) -> None:
    with Lab(durable_objects={"K": Keeper}, persist=tmp_path) as lab:
        lab.run(lab.env.K.getByName("a").store(1))
    (tmp_path / "Keeper" / "notes.sqlite").write_text("mine")
    (tmp_path / "Keeper" / ("ab" * 32 + ".sqlite~")).write_text("a backup")
    with Lab(durable_objects={"K": Keeper}, persist=tmp_path) as lab:
        assert len(lab.list_durable_object_ids("K")) == 1
    assert (tmp_path / "Keeper" / "notes.sqlite").read_text() == "mine"


class Stuck(DurableObject):
    """A transaction or critical section that waits on something that never comes."""

    async def stuck_transaction(self) -> None:
        async def body(txn: Any) -> None:
            await txn.put("half", "written")
            await asyncio.sleep(3600)

        await self.ctx.storage.transaction(body)

    async def stuck_block(self) -> None:
        self.note = "in memory"

        async def body() -> None:
            await asyncio.sleep(3600)

        await self.ctx.blockConcurrencyWhile(body)

    async def peek(self) -> Any:
        return [await self.ctx.storage.get("half"), getattr(self, "note", None)]


@pytest.mark.parametrize("method", ["stuck_transaction", "stuck_block"])
def test_19_a_critical_section_over_30_s_resets_the_object_with_workerds_words(method: str) -> None:
    """workerd runs transaction() inside blockConcurrencyWhile: both reset the object after 30 s."""
    with Lab(durable_objects={"S": Stuck}) as lab:
        stub = lab.env.S.getByName("s")
        started = lab.now
        with pytest.raises(ResetError, match=r"^Error: A call to blockConcurrencyWhile\(\) in a Durable Object "
                           r"waited for too long\. The call was canceled and the Durable Object was reset\.$"):
            lab.run(getattr(stub, method)())
        assert lab.now - started == pytest.approx(30.0, abs=0.01)
        # The reset is real: memory is gone, and the transaction's write was rolled back.
        assert lab.run(lab.env.S.getByName("s").peek()) == [None, None]
