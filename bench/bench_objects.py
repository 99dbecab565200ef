#!/usr/bin/env python3
"""Many objects: create and touch N Durable Objects (one put each), memory bounded by eviction.

Inside one ``lab.run`` coroutine: ``for i in range(N): await ns.getByName(f"user-{i}").touch()``
where ``touch()`` does ``await self.ctx.storage.put("cart", {"items": 1})``. The lab keeps at most
``max_active`` (default 2,000) objects in memory and evicts the least recently used idle ones;
an evicted object is a zlib-compressed image of its SQLite database.

Each size runs in a fresh subprocess, so peak RSS is per size. Reported per size: wall seconds,
objects/s, RSS before/after and peak (psutil, sampled every 1,000 objects, and
``resource.getrusage().ru_maxrss``), RSS growth per object ((after - before) / N), the
steady-state RSS slope per evicted object (between 2 x max_active objects and N, same process),
``lab.statistics()``, and the compressed cold image size per object.

Side-by-side baseline (informational): between chunks of the dolab loop, the same process runs a
raw ``sqlite3`` loop doing the minimum per-object work by hand (connect, deserialize an empty
image, insert one pickled row, commit, serialize + zlib, close); the ratio dolab/raw is the median
over chunks.

Goals: 1M objects with peak RSS <= 1 GB, in <= 5 minutes. The default run (10k, 100k) *projects*
both from the 100k run; ``--million`` also runs 1M objects and *measures* them.

Usage: python bench/bench_objects.py [--quick] [--million]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import pickle
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
import zlib
from typing import Any

MB = 1024 * 1024
GB = 1024 * MB
MILLION = 1_000_000
CHUNK = 10_000  # dolab objects between two raw baseline chunks
RAW_FRACTION = 10  # raw chunk = CHUNK / RAW_FRACTION objects


def child(n: int, yield_every: int) -> dict[str, Any]:
    """Run one size in this (fresh) process and return the measurements."""
    import psutil

    from dolab import DurableObject, Lab

    class User(DurableObject):
        async def touch(self) -> None:
            await self.ctx.storage.put("cart", {"items": 1})

    proc = psutil.Process()
    lab = Lab(durable_objects={"USER": User})
    ns = lab.env.USER
    max_active = lab.max_active

    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE _cf_KV (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID")
    empty_image = conn.serialize()
    conn.close()
    blob = pickle.dumps({"items": 1}, protocol=5)

    def raw_objects(start: int, count: int) -> tuple[float, int]:
        """The raw baseline: per object its own in-memory SQLite database, one row, compressed."""
        size = 0
        t0 = time.perf_counter()
        for i in range(start, start + count):
            db = sqlite3.connect(":memory:", isolation_level=None)
            db.deserialize(empty_image)
            db.execute("BEGIN")
            db.execute("INSERT OR REPLACE INTO _cf_KV (key, value) VALUES (?, ?)", (f"cart-{i}", blob))
            db.execute("COMMIT")
            size += len(zlib.compress(db.serialize(), 1))
            db.close()
        return time.perf_counter() - t0, size

    async def main() -> dict[str, Any]:
        gc.collect()
        rss_before = proc.memory_info().rss
        peak = rss_before
        checkpoints: list[tuple[int, int]] = [(0, rss_before)]
        dolab_seconds = 0.0
        raw_seconds = 0.0
        raw_count = 0
        raw_bytes = 0
        chunk_ratios: list[float] = []
        done = 0
        while done < n:
            todo = min(CHUNK, n - done)
            start = time.perf_counter()
            for i in range(done, done + todo):
                await ns.getByName(f"user-{i}").touch()
                if yield_every and i % yield_every == yield_every - 1:
                    await asyncio.sleep(0)  # let the lab's loop run its ready callbacks
                if i % 1000 == 999:
                    rss = proc.memory_info().rss
                    if rss > peak:
                        peak = rss
            chunk_s = time.perf_counter() - start
            dolab_seconds += chunk_s
            done += todo
            checkpoints.append((done, proc.memory_info().rss))
            raw_n = max(1, todo // RAW_FRACTION)
            raw_s, size = raw_objects(raw_count, raw_n)
            raw_seconds += raw_s
            raw_count += raw_n
            raw_bytes += size
            chunk_ratios.append((todo / chunk_s) / (raw_n / raw_s))
        gc.collect()
        rss_after = proc.memory_info().rss
        peak = max(peak, rss_after)
        cold = ns.cold
        cold_bytes = sum(len(v) for v in cold.values())
        return {
            "n": n,
            "max_active": max_active,
            "seconds": dolab_seconds,
            "rss_before": rss_before,
            "rss_after": rss_after,
            "peak_psutil": peak,
            "checkpoints": checkpoints,
            "cold_count": len(cold),
            "cold_bytes": cold_bytes,
            "raw_rate": raw_count / raw_seconds,
            "raw_bytes_per_object": raw_bytes / raw_count,
            "ratio_vs_raw": statistics.median(chunk_ratios),
        }

    result = lab.run(main())
    stats = lab.statistics()
    result["statistics"] = {k: getattr(stats, k) for k in stats.__dataclass_fields__}
    lab.close()
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result["peak_maxrss"] = maxrss if sys.platform == "darwin" else maxrss * 1024
    return result


def run_size(n: int, yield_every: int, timeout: float) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", str(n), "--yield-every", str(yield_every)],
        capture_output=True, text=True, timeout=timeout, check=False,
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"child for N={n:,} failed with exit code {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def slope(result: dict[str, Any]) -> float | None:
    """RSS bytes per additional evicted object, once the active set is full (same process)."""
    start = 2 * result["max_active"]
    points = [(i, rss) for i, rss in result["checkpoints"] if i >= start]
    if len(points) < 2 or points[-1][0] - points[0][0] < result["max_active"]:
        return None
    (i0, r0), (i1, r1) = points[0], points[-1]
    return float((r1 - r0) / (i1 - i0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    parser.add_argument("--million", action="store_true", help="also run 1,000,000 objects (minutes)")
    parser.add_argument("--yield-every", type=int, default=0, metavar="K",
                        help="investigation: also `await asyncio.sleep(0)` after every K objects (default: never)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child, args.yield_every)))
        return

    sizes = [2_000, 30_000] if args.quick else [10_000, 100_000]
    if args.million:
        sizes.append(MILLION)
    results = [run_size(n, args.yield_every, timeout=3600) for n in sizes]

    print(f"bench_objects: sizes {', '.join(f'{n:,}' for n in sizes)}, one fresh subprocess each"
          f"{' (--quick)' if args.quick else ''}")
    if args.yield_every:
        print(f"NOTE: --yield-every {args.yield_every}: the loop also awaits asyncio.sleep(0) every "
              f"{args.yield_every:,} objects (not the plain loop of the goal)")
    print()
    print(f"{'objects':>10} {'wall s':>8} {'objects/s':>10} {'RSS before':>11} {'RSS after':>10} "
          f"{'peak psutil':>12} {'peak maxrss':>12} {'B/object':>9} {'B/evicted':>10} {'cold B/obj':>11} "
          f"{'vs raw':>7}")
    for r in results:
        growth = (r["rss_after"] - r["rss_before"]) / r["n"]
        s = slope(r)
        cold = r["cold_bytes"] / r["cold_count"] if r["cold_count"] else float("nan")
        print(f"{r['n']:>10,} {r['seconds']:>8.1f} {r['n'] / r['seconds']:>10,.0f} "
              f"{r['rss_before'] / MB:>9.0f}MB {r['rss_after'] / MB:>8.0f}MB {r['peak_psutil'] / MB:>10.0f}MB "
              f"{r['peak_maxrss'] / MB:>10.0f}MB {growth:>9,.0f} "
              f"{'-' if s is None else f'{s:,.0f}':>10} {cold:>11,.0f} {r['ratio_vs_raw']:>7.3f}")
    print()
    print("B/object  = (RSS after - RSS before) / N, all objects (the active set included)")
    print("B/evicted = RSS slope per extra object once 2 x max_active objects exist (steady state)")
    print("cold B/obj = sum(len(v) for v in ns.cold.values()) / len(ns.cold), incl. 1 state byte")
    print("vs raw    = dolab objects/s / raw sqlite3 objects/s (median over interleaved chunks)")
    print("MB = 2**20 bytes, GB = 2**30 bytes")
    for r in results:
        raw = f"raw sqlite3 {r['raw_rate']:,.0f} objects/s, raw image {r['raw_bytes_per_object']:,.0f} B"
        print(f"N={r['n']:,}: {raw}")
    print()
    for r in results:
        st = r["statistics"]
        print(f"N={r['n']:,} lab.statistics(): " + " ".join(f"{k}={v:,}" if isinstance(v, int) else f"{k}={v:g}"
                                                           for k, v in st.items()))
    print()

    measured = next((r for r in results if r["n"] == MILLION), None)
    base = max((r for r in results if r["n"] < MILLION), key=lambda r: r["n"])
    growth = (base["rss_after"] - base["rss_before"]) / base["n"]
    linear = (base["rss_before"] + growth * MILLION) / GB
    s = slope(base)
    steady = None if s is None else (max(base["peak_psutil"], base["peak_maxrss"]) + s * (MILLION - base["n"])) / GB
    print(f"projection from N={base['n']:,}: peak at N + (1M - N) x B/evicted = "
          f"{'n/a' if steady is None else f'{steady:.2f} GB'} (used for the goal); naive RSS before + 1M x B/object "
          f"= {linear:.2f} GB (an upper bound: counts the fixed active set once per 100k objects)")
    if measured is not None:
        peak = max(measured["peak_psutil"], measured["peak_maxrss"]) / GB
        minutes = measured["seconds"] / 60
        print(f"measured at 1M objects: peak RSS {peak:.2f} GB, {minutes:.1f} min")
        print(f"GOAL peak_rss_1M_objects_GB {peak:.2f} <=1 {'PASS' if peak <= 1 else 'MISS'}")
        print(f"GOAL minutes_1M_objects {minutes:.1f} <=5 {'PASS' if minutes <= 5 else 'MISS'}")
    else:
        projected = steady if steady is not None else linear
        minutes = MILLION / (base["n"] / base["seconds"]) / 60
        print("the 1M figures below are PROJECTIONS from the largest size, not measurements; run --million")
        print(f"GOAL peak_rss_1M_objects_GB_projected {projected:.2f} <=1 {'PASS' if projected <= 1 else 'MISS'}")
        print(f"GOAL minutes_1M_objects_projected {minutes:.1f} <=5 {'PASS' if minutes <= 5 else 'MISS'}")

if __name__ == "__main__":
    main()
