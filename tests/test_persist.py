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

from dolab import Lab
from tests.conftest import Counter
from tests.durability_child import Ledger

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
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != ".dolab.lock"]
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


def test_acknowledged_writes_survive_sigkill(tmp_path: Path) -> None:
    """Kill a writing process at random points, many times; every acknowledged write is there."""
    rng = random.Random(2026)
    acked: list[int] = []
    next_n = 0
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for _ in range(12):
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.durability_child", str(tmp_path), str(next_n)],
            stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env,
        )
        got = _read_acks(proc, rng.randint(1, 40), time.monotonic() + 60)
        time.sleep(rng.random() * 0.02)  # sometimes in the middle of a later write
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
        assert got, "the child acknowledged nothing"
        acked.extend(got)
        next_n = got[-1] + 1_000  # fresh numbers: unacknowledged ones may or may not exist
    with Lab(durable_objects={"LEDGER": Ledger}, persist=tmp_path) as lab:
        seen_kv: set[int] = set()
        for i in range(3):
            dump = lab.run(lab.env.LEDGER.getByName(f"ledger-{i}").dump())
            assert dump["kv"] == dump["sql"]  # KV and SQL of one call committed together
            seen_kv.update(dump["kv"])
    missing = sorted(set(acked) - seen_kv)
    assert missing == []
    for path in (tmp_path / "Ledger").glob("*.sqlite"):
        conn = sqlite3.connect(path)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        conn.close()
