"""Persist mode: storage on disk survives restarts and SIGKILL; names never become paths."""

from __future__ import annotations

import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dolab import Lab
from tests.conftest import Counter
from tests.durability_child import MODES, Ledger, object_name

ROOT = Path(__file__).resolve().parent.parent


def test_storage_survives_a_new_lab_on_the_same_folder(tmp_path: Path) -> None:
    with Lab(durable_objects={"COUNTER": Counter}, persist=tmp_path) as lab:
        lab.run(lab.env.COUNTER.getByName("alice").add(4))
        uid = lab.env.COUNTER.newUniqueId()
        lab.run(lab.env.COUNTER.get(uid).add(1))
    with Lab(durable_objects={"COUNTER": Counter}, persist=tmp_path) as lab:
        assert lab.run(lab.env.COUNTER.getByName("alice").add(1)) == 5
        assert lab.run(lab.env.COUNTER.get(lab.env.COUNTER.idFromString(uid.toString())).read()) == 1
        listed = {i.toString() for i in lab.list_durable_object_ids("COUNTER")}
        assert listed == {lab.env.COUNTER.idFromName("alice").toString(), uid.toString()}


def test_hibernation_in_persist_mode_keeps_the_file(tmp_path: Path) -> None:
    with Lab(durable_objects={"COUNTER": Counter}, persist=tmp_path) as lab:
        stub = lab.env.COUNTER.getByName("h")
        lab.run(stub.add(2))
        lab.advance(11)
        assert lab.statistics().active == 0
        assert lab.run(stub.add(1)) == 3


def test_object_names_never_become_paths(tmp_path: Path) -> None:
    store = tmp_path / "store"
    names = ["../../escape", "/etc/passwd", "a/b\\c", "..", "", "con", "x" * 5000, "\x00nul"]
    with Lab(durable_objects={"COUNTER": Counter}, persist=store) as lab:
        for i, name in enumerate(names):
            assert lab.run(lab.env.COUNTER.getByName(name).add(i + 1)) == i + 1
    files = [p for p in tmp_path.rglob("*") if p.is_file() and not p.name.startswith(".dolab")]
    assert len(files) == len(names)
    for path in files:
        assert path.parent == store / "Counter"
        assert re.fullmatch(r"[0-9a-f]{64}\.sqlite", path.name)


def _read_acks(proc: subprocess.Popen[str], want: int, deadline: float) -> list[int]:
    acks = []
    assert proc.stdout is not None
    while len(acks) < want and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        acks.append(int(line))
    return acks


KILLS_PER_MODE = 24  # x 5 modes = 120 kills per run


@pytest.mark.parametrize("mode", MODES)
def test_acknowledged_writes_survive_sigkill(tmp_path: Path, mode: str) -> None:
    """Kill a writing process at random points, many times; every acknowledged write is there.

    Each mode puts the kills somewhere else in an object's life (see tests/durability_child.py):
    steady writes, creation, inside a transaction, around hibernation, around eviction.
    """
    rng = random.Random(f"2026-{mode}")
    acked: list[int] = []
    next_n = 0
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for _ in range(KILLS_PER_MODE):
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.durability_child", str(tmp_path), str(next_n), mode],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env,
        )
        got = _read_acks(proc, rng.randint(1, 12), time.monotonic() + 60)
        time.sleep(rng.random() * 0.01)  # sometimes in the middle of a later write
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        errors = proc.stderr.read()
        proc.stderr.close()
        assert got, f"the child acknowledged nothing; it said:\n{errors}"
        acked.extend(got)
        next_n = got[-1] + 1_000  # fresh numbers: unacknowledged ones may or may not exist
    # Every file opens and is whole, before dolab touches it.
    files = sorted((tmp_path / "Ledger").glob("*.sqlite"))
    assert files
    for path in files:
        conn = sqlite3.connect(path)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",), path.name
        conn.close()
    with Lab(durable_objects={"LEDGER": Ledger}, persist=tmp_path) as lab:
        seen: set[int] = set()
        names = {object_name(mode, n) for n in acked}
        if mode != "create":
            names |= {f"ledger-{i}" for i in range(3)}
        for name in sorted(names):
            dump = lab.run(lab.env.LEDGER.getByName(name).dump())
            assert dump["kv"] == dump["sql"], name  # KV and SQL of one call committed together
            if mode == "transaction":
                assert dump["pairs"] == dump["kv"], name  # a transaction is all or nothing
            seen.update(dump["kv"])
        # Objects created but never acknowledged open too (their first commit may be missing).
        for stored in lab.list_durable_object_ids("LEDGER"):
            lab.run(lab.env.LEDGER.get(stored).dump())
    missing = sorted(set(acked) - seen)
    assert missing == []
    assert len(acked) >= KILLS_PER_MODE


def test_a_lab_on_a_folder_resumes_its_clock(tmp_path: Path) -> None:
    """Time never runs backwards for stored data: the next lab starts where the last one stopped."""
    with Lab(durable_objects={"COUNTER": Counter}, persist=tmp_path) as lab:
        lab.run(lab.env.COUNTER.getByName("a").add(1))
        lab.advance(3600)
        stopped = lab.now
    with Lab(durable_objects={"COUNTER": Counter}, persist=tmp_path) as lab:
        assert lab.now == stopped
        lab.advance(5)
        assert lab.run(lab.env.COUNTER.getByName("a").add(1)) == 2
    with Lab(durable_objects={"COUNTER": Counter}, persist=tmp_path) as lab:
        assert lab.now == stopped + 5
    (tmp_path / ".dolab-clock").write_text("not json")  # damaged: start at 0, as a new folder does
    with Lab(durable_objects={"COUNTER": Counter}, persist=tmp_path) as lab:
        assert lab.now == 0
    with Lab(durable_objects={"COUNTER": Counter}) as lab:  # no folder, no clock to resume
        assert lab.now == 0
