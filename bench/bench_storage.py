#!/usr/bin/env python3
"""KV ``ctx.storage`` get/put against raw ``sqlite3`` on the same data, in one process.

dolab stores KV pairs in a ``WITHOUT ROWID`` table of the object's own in-memory SQLite
database, values encoded with ``pickle.dumps(to_wire(value), protocol=5)`` (see
``dolab/storage.py``). The raw baseline uses a ``:memory:`` database with the same table shape
and, for reads, the very same blobs, decoded with ``pickle.loads``.

Variants (interleaved repetitions dolab, raw, dolab, raw, ...; medians reported):

* get        ``await self.ctx.storage.get(k)`` over 1,000 keys x repeats, inside one DO method
             vs ``conn.execute("SELECT value FROM kv WHERE key=?", (k,)).fetchone()`` + ``pickle.loads``.
             dolab keeps a bounded per-object read cache (4,096 keys) in front of SQLite, so after
             the first pass these gets are served from it -- this is the goal row.
* get-uncached  the same, but the object's read cache is emptied before every pass (each get reaches
             SQLite); informational, shows the cost of dolab's SQLite path.
* put        ``await self.ctx.storage.put(k, v)`` x 1,000 in one implicit transaction + ``sync()``
             vs ``BEGIN`` + 1,000 ``INSERT OR REPLACE`` (``pickle.dumps``) + ``COMMIT``.
* put/commit N sequential RPC calls, each doing one put (each call commits at its output gate), timed
             by the caller vs raw ``BEGIN`` + one insert + ``COMMIT`` per row; informational.

Values are small dicts like ``{"item": "sku-123", "qty": 2}``.

Usage: python bench/bench_storage.py [--quick]
"""

from __future__ import annotations

import argparse
import gc
import pickle
import sqlite3
import statistics
import time
from collections.abc import Callable
from typing import Any

from dolab import DurableObject, Lab
from dolab.runtime.namespace import DurableObjectStub
from dolab.runtime.values import to_wire

N_KEYS = 1_000


def make_keys() -> list[str]:
    return [f"item:{i:05d}" for i in range(N_KEYS)]


def make_value(i: int) -> dict[str, Any]:
    return {"item": f"sku-{i % 997}", "qty": i % 7 + 1}


class Store(DurableObject):
    """Each method times its own loop with perf_counter and returns the elapsed seconds."""

    async def load(self, keys: list[str]) -> int:
        for i, key in enumerate(keys):
            await self.ctx.storage.put(key, make_value(i))
        return len(keys)

    async def get_loop(self, keys: list[str], passes: int, uncached: bool) -> float:
        storage = self.ctx.storage
        elapsed = 0.0
        for _ in range(passes):
            if uncached:
                read_cache(storage).clear()
            start = time.perf_counter()
            for key in keys:
                value = await storage.get(key)
            elapsed += time.perf_counter() - start
            assert value is not None
        return elapsed

    async def put_loop(self, keys: list[str], values: list[Any]) -> float:
        storage = self.ctx.storage
        start = time.perf_counter()
        for key, value in zip(keys, values, strict=True):
            await storage.put(key, value)
        await storage.sync()  # commit inside the timed region, as the raw COMMIT is
        return time.perf_counter() - start

    async def put_one(self, key: str, value: Any) -> None:
        await self.ctx.storage.put(key, value)


def read_cache(storage: Any) -> dict[str, Any]:
    """dolab's per-object KV read cache (internal; only the "uncached" variant empties it)."""
    host = storage._host
    db = host.database() if hasattr(host, "database") else None
    for owner in (db, host):  # on the open database in current dolab, on the host in older versions
        cache = getattr(owner, "cache", None) if owner is db else getattr(owner, "kv_cache", None)
        if isinstance(cache, dict):
            return cache
    raise RuntimeError("cannot find dolab's KV read cache; update bench_storage.read_cache()")


# -- raw sqlite3 --------------------------------------------------------------------------------------


def raw_db(rows: list[tuple[str, bytes]]) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("CREATE TABLE kv (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID")
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO kv (key, value) VALUES (?, ?)", rows)
    conn.execute("COMMIT")
    return conn


def raw_get(conn: sqlite3.Connection, keys: list[str], passes: int) -> float:
    elapsed = 0.0
    for _ in range(passes):
        start = time.perf_counter()
        for key in keys:
            value = pickle.loads(conn.execute("SELECT value FROM kv WHERE key=?", (key,)).fetchone()[0])
        elapsed += time.perf_counter() - start
        assert value is not None
    return elapsed


def raw_put(conn: sqlite3.Connection, keys: list[str], values: list[Any]) -> float:
    start = time.perf_counter()
    conn.execute("BEGIN")
    for key, value in zip(keys, values, strict=True):
        conn.execute("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)", (key, pickle.dumps(value, protocol=5)))
    conn.execute("COMMIT")
    return time.perf_counter() - start


def raw_put_commit_each(conn: sqlite3.Connection, keys: list[str], values: list[Any]) -> float:
    start = time.perf_counter()
    for key, value in zip(keys, values, strict=True):
        conn.execute("BEGIN")
        conn.execute("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)", (key, pickle.dumps(value, protocol=5)))
        conn.execute("COMMIT")
    return time.perf_counter() - start


# -- dolab drivers (timed inside the lab) ----------------------------------------------------------


def dolab_get(lab: Lab, stub: DurableObjectStub, keys: list[str], passes: int, uncached: bool) -> float:
    return float(lab.run(stub.get_loop(keys, passes, uncached)))


def dolab_put(lab: Lab, stub: DurableObjectStub, keys: list[str], values: list[Any]) -> float:
    return float(lab.run(stub.put_loop(keys, values)))


def dolab_put_commit_each(lab: Lab, stub: DurableObjectStub, keys: list[str], values: list[Any]) -> float:
    async def main() -> float:
        start = time.perf_counter()
        for key, value in zip(keys, values, strict=True):
            await stub.put_one(key, value)
        return time.perf_counter() - start

    return lab.run(main())


# -- reporting --------------------------------------------------------------------------------------


def goal_line(name: str, measured: float, goal: float) -> str:
    """``GOAL <what> <measured> <target> PASS|MISS``."""
    verdict = "PASS" if measured >= goal else "MISS"
    return f"GOAL {name} {measured:.2f}x >={goal:g}x {verdict}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer passes and repetitions (smoke test)")
    args = parser.parse_args()
    reps = 3 if args.quick else 9
    passes = 2 if args.quick else 50  # get: passes over the 1,000 keys per repetition
    put_rounds = 2 if args.quick else 10  # put: 1,000-key transactions per repetition
    n_commit = 500 if args.quick else 2_000  # put/commit: calls (one commit each) per repetition

    keys = make_keys()
    values = [make_value(i) for i in range(N_KEYS)]
    commit_keys = [f"row:{i:05d}" for i in range(n_commit)]
    commit_values = [make_value(i) for i in range(n_commit)]
    # Same bytes dolab stores: pickle of the wire copy (dicts become dolab's JsDict).
    blobs = [(k, pickle.dumps(to_wire(v, "RPC"), protocol=5)) for k, v in zip(keys, values, strict=True)]

    lab = Lab(durable_objects={"STORE": Store})
    get_stub = lab.env.STORE.getByName("get")  # holds the 1,000 pairs
    put_stub = lab.env.STORE.getByName("put")  # overwritten by the put loops
    commit_stub = lab.env.STORE.getByName("commit")
    lab.run(get_stub.load(keys))
    get_conn = raw_db(blobs)
    put_conn = raw_db(blobs)
    commit_conn = raw_db(blobs)

    def puts(fn: Callable[[], float]) -> float:
        return sum(fn() for _ in range(put_rounds))

    ops = {
        "get": N_KEYS * passes,
        "get-uncached": N_KEYS * passes,
        "put": N_KEYS * put_rounds,
        "put/commit": n_commit,
    }
    variants: dict[str, tuple[Callable[[], float], Callable[[], float]]] = {
        "get": (lambda: dolab_get(lab, get_stub, keys, passes, False),
                lambda: raw_get(get_conn, keys, passes)),
        "get-uncached": (lambda: dolab_get(lab, get_stub, keys, passes, True),
                         lambda: raw_get(get_conn, keys, passes)),
        "put": (lambda: puts(lambda: dolab_put(lab, put_stub, keys, values)),
                lambda: puts(lambda: raw_put(put_conn, keys, values))),
        "put/commit": (lambda: dolab_put_commit_each(lab, commit_stub, commit_keys, commit_values),
                       lambda: raw_put_commit_each(commit_conn, commit_keys, commit_values)),
    }
    for dolab_fn, raw_fn in variants.values():  # warm-up
        dolab_fn()
        raw_fn()

    seconds: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in variants}
    t0 = time.perf_counter()
    for rep in range(reps):
        for name, (dolab_fn, raw_fn) in variants.items():
            pair = [(0, dolab_fn), (1, raw_fn)]
            if rep % 2:  # alternate which side goes first
                pair.reverse()
            for side, fn in pair:
                gc.collect()
                seconds[name][side].append(fn())
    elapsed = time.perf_counter() - t0
    stats = lab.statistics()
    lab.close()

    print(f"bench_storage: {N_KEYS:,} keys, {reps} interleaved repetitions, {elapsed:.1f} s measured"
          f"{' (--quick)' if args.quick else ''}")
    print()
    print(f"{'operation':<13} {'ops/rep':>8} {'dolab ops/s':>13} {'raw ops/s':>13} "
          f"{'dolab us/op':>12} {'raw us/op':>10} {'dolab/raw':>10}")
    ratio: dict[str, float] = {}
    for name, (dolab_s, raw_s) in seconds.items():
        n = ops[name]
        dolab_rate = n / statistics.median(dolab_s)
        raw_rate = n / statistics.median(raw_s)
        # Throughput ratio, median over the repetitions (each pair measured side by side).
        ratio[name] = statistics.median(r / d for d, r in zip(dolab_s, raw_s, strict=True))
        print(f"{name:<13} {n:>8,} {dolab_rate:>13,.0f} {raw_rate:>13,.0f} {1e6 / dolab_rate:>12.2f} "
              f"{1e6 / raw_rate:>10.2f} {ratio[name]:>10.3f}")
    print()
    print("dolab/raw is a throughput ratio (> 1 means dolab is faster). get is served by dolab's")
    print("per-object read cache after the first pass; get-uncached empties it before each pass.")
    print("put/commit: each dolab call is a whole RPC (gates, dispatch, commit) around one put.")
    print(f"lab.statistics(): requests={stats.requests:,} rows_read={stats.rows_read:,} "
          f"rows_written={stats.rows_written:,}")
    print(goal_line("kv_get_vs_raw_sqlite", ratio["get"], 1.0))
    print(goal_line("kv_put_vs_raw_sqlite", ratio["put"], 0.5))


if __name__ == "__main__":
    main()
