#!/usr/bin/env python3
"""Chapter 05's scale sweep at 10k, 100k and 1M users: wall time and peak RSS per run.

Each point is ``dolab.lessons.sweep.run_point(design, N, per_user_rate=0.1, min_requests=N,
min_duration=5.0, seed=0)``: N users sending 0.1 requests/s each (open loop) for
max(5, N / (0.1 N)) = 10 simulated seconds, so about N requests, about one per user. Users are
drawn uniformly at random, so about (1 - 1/e) N distinct users send at least one request, and
only those whose requests include a write (add/remove) leave an object with storage: the row's
``objects`` is therefore below N (about 0.45 N). The lab keeps at most 2,000 objects active.

Each (design, N) runs in a fresh subprocess, so peak RSS is per run. Reported per run: wall
seconds of the ``run_point`` call, requests and requests per wall-second, the row's ``objects``
(distinct objects with storage), p50/p99 latency (simulated ms), failed requests, RSS after
imports (psutil), peak RSS (``resource.getrusage().ru_maxrss``, and psutil sampled every 0.5 s
by a thread), RSS when ``run_point`` returned, and peak RSS per object (peak / objects, and
(peak - RSS after imports) / objects).

Designs: "do-per-user" at every size; "external-db" and "global-do" also at N <= 100,000, run
right after do-per-user at the same N, so the ratios (do-per-user requests/s over the other
design's, same N, same run) are side by side and less exposed to machine noise than absolute
numbers.

Goal: peak RSS <= 1 GB, measured on the 1M-user do-per-user run (which creates
about 450k objects with storage; a projection to 1M objects from the marginal bytes per object is
printed beside it). Measured only when 1M is among the sizes (the default run; not ``--quick``).

Usage: python bench/bench_scale.py [--quick] [--sizes 10000,100000,1000000] [--timeout SECONDS]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import threading
import time
from typing import Any

MB = 1024 * 1024
GB = 1024 * MB
MILLION = 1_000_000
SIZES = (10_000, 100_000, MILLION)
QUICK_SIZES = (10_000, 100_000)
MAIN_DESIGN = "do-per-user"
OTHER_DESIGNS = ("external-db", "global-do")
SIDE_BY_SIDE_MAX = 100_000  # the other designs run only up to this N
PER_USER_RATE = 0.1
MIN_DURATION = 5.0
SEED = 0
MIN_OBJECTS = 1_000  # below this, bytes per object is meaningless (global-do has 1 object)


def child(design: str, n: int) -> dict[str, Any]:
    """Run one point in this (fresh) process and return the measurements."""
    import psutil

    from dolab.lessons.sweep import run_point

    proc = psutil.Process()
    rss_imports = proc.memory_info().rss
    peak_sampled = [rss_imports]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.5):
            rss = proc.memory_info().rss
            if rss > peak_sampled[0]:
                peak_sampled[0] = rss

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    row, samples = run_point(design, n, per_user_rate=PER_USER_RATE, min_requests=n, min_duration=MIN_DURATION,
                             seed=SEED)
    wall = time.perf_counter() - started
    rss_end = proc.memory_info().rss
    stop.set()
    sampler.join()
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "design": design,
        "n": n,
        "wall": wall,
        "rss_imports": rss_imports,
        "rss_end": rss_end,
        "peak_psutil": max(peak_sampled[0], rss_end),
        "peak_maxrss": maxrss if sys.platform == "darwin" else maxrss * 1024,
        "samples": len(samples),
        "row": row,
    }


def run_point_in_child(design: str, n: int, timeout: float) -> dict[str, Any] | str:
    """The measurements of one point, or a string saying why there are none."""
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, __file__, "--child", design, str(n)],
            capture_output=True, text=True, timeout=timeout, check=False,
        )
    except subprocess.TimeoutExpired:
        return f"stopped after {time.perf_counter() - started:,.0f} s (timeout {timeout:,.0f} s)"
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        return f"child failed with exit code {proc.returncode}"
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def peak(r: dict[str, Any]) -> int:
    return max(r["peak_psutil"], r["peak_maxrss"])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10,000 and 100,000 users only (a few minutes)")
    parser.add_argument("--sizes", type=str, default=None, metavar="N,N,...",
                        help="user counts to run (default 10000,100000,1000000)")
    parser.add_argument("--timeout", type=float, default=2400.0, metavar="SECONDS",
                        help="stop a run that takes longer than this (default 2400 s = 40 min)")
    parser.add_argument("--child", nargs=2, metavar=("DESIGN", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child[0], int(args.child[1]))))
        return

    if args.sizes:
        sizes = tuple(int(s.replace("_", "")) for s in args.sizes.split(","))
    else:
        sizes = QUICK_SIZES if args.quick else SIZES
    points = [(d, n) for n in sizes
              for d in (MAIN_DESIGN, *(OTHER_DESIGNS if n <= SIDE_BY_SIDE_MAX else ()))]

    print(f"bench_scale: run_point(design, N, per_user_rate={PER_USER_RATE}, min_requests=N, "
          f"min_duration={MIN_DURATION}, seed={SEED}), max_active=2,000")
    print(f"sizes {', '.join(f'{n:,}' for n in sizes)}; one fresh subprocess per (design, N)"
          f"{' (--quick)' if args.quick else ''}")
    print()
    results: dict[tuple[str, int], dict[str, Any] | str] = {}
    for design, n in points:
        print(f"  running {design} N={n:,} ...", flush=True)
        results[(design, n)] = run_point_in_child(design, n, args.timeout)
    print()

    print(f"{'design':12s} {'N':>9} {'wall s':>8} {'requests':>9} {'req/wall-s':>10} {'objects':>8} "
          f"{'p50 ms':>7} {'p99 ms':>8} {'failed':>6} {'RSS imp':>8} {'RSS end':>8} {'peak':>7} "
          f"{'B/obj':>7} {'dB/obj':>7}")
    for (design, n), r in results.items():
        if isinstance(r, str):
            print(f"{design:12s} {n:>9,} {r}")
            continue
        row = r["row"]
        objects = row["objects"]
        per = f"{peak(r) / objects:,.0f}" if objects >= MIN_OBJECTS else "-"
        dper = f"{(peak(r) - r['rss_imports']) / objects:,.0f}" if objects >= MIN_OBJECTS else "-"
        print(f"{design:12s} {n:>9,} {r['wall']:>8.1f} {row['requests']:>9,} {row['requests'] / r['wall']:>10,.0f} "
              f"{objects:>8,} {row['p50_ms']:>7.0f} {row['p99_ms']:>8,.0f} {row['failed']:>6,} "
              f"{r['rss_imports'] / MB:>6.0f}MB {r['rss_end'] / MB:>6.0f}MB {peak(r) / MB:>5.0f}MB "
              f"{per:>7} {dper:>7}")
    print()
    print("wall s   = wall seconds of the run_point call (imports excluded); req/wall-s = requests / wall s")
    print("objects  = the row's objects: distinct objects with storage (global-do: 1; external-db: 0)")
    print("p50/p99  = simulated latency of successful requests, ms")
    print("RSS imp  = RSS after imports, before the run (psutil); RSS end = RSS when run_point returned")
    print("peak     = max(ru_maxrss, psutil RSS sampled every 0.5 s); B/obj = peak / objects;")
    print(f"           dB/obj = (peak - RSS imp) / objects (shown when objects >= {MIN_OBJECTS:,})")
    print("MB = 2**20 bytes, GB = 2**30 bytes")
    print()

    for n in sizes:
        main_r = results.get((MAIN_DESIGN, n))
        for other in OTHER_DESIGNS:
            other_r = results.get((other, n))
            if not isinstance(main_r, dict) or not isinstance(other_r, dict):
                continue
            rate = (main_r["row"]["requests"] / main_r["wall"]) / (other_r["row"]["requests"] / other_r["wall"])
            mem = peak(main_r) / peak(other_r)
            print(f"N={n:,}: {MAIN_DESIGN} / {other}: requests per wall-second x{rate:.2f}, peak RSS x{mem:.2f} "
                  f"(side by side, same run)")
    # Scaling of the main design between successive sizes, same run.
    measured = [(n, r) for n in sizes if isinstance(r := results.get((MAIN_DESIGN, n)), dict)]
    for (n0, r0), (n1, r1) in zip(measured, measured[1:], strict=False):
        print(f"{MAIN_DESIGN} N={n0:,} -> {n1:,} (x{n1 / n0:g} users): wall x{r1['wall'] / r0['wall']:.1f}, "
              f"requests/wall-s x{(r1['row']['requests'] / r1['wall']) / (r0['row']['requests'] / r0['wall']):.2f}, "
              f"peak RSS x{peak(r1) / peak(r0):.2f}")
        extra = r1["row"]["objects"] - r0["row"]["objects"]
        if extra > 0:
            print(f"  marginal peak RSS per extra object: (peak {n1:,} - peak {n0:,}) / (objects {n1:,} - "
                  f"objects {n0:,}) = {(peak(r1) - peak(r0)) / extra:,.0f} B")
    print()

    million = results.get((MAIN_DESIGN, MILLION))
    if million is None:
        print("INFO peak_rss_1M_users_GB not measured (1M not among the sizes; run without --quick)")
    elif isinstance(million, str):
        print(f"INFO peak_rss_1M_users_GB not measured: {million}")
        print("GOAL peak_rss_1M_users_GB - <=1 MISS")
    else:
        gb = peak(million) / GB
        objects = million["row"]["objects"]
        print(f"1M users -> {objects:,} objects with storage, {million['row']['requests']:,} requests")
        below = [r for n in sizes if n < MILLION and isinstance(r := results.get((MAIN_DESIGN, n)), dict)]
        if below and objects < MILLION:
            base = max(below, key=lambda r: r["n"])
            marginal = (peak(million) - peak(base)) / (objects - base["row"]["objects"])
            projected = (peak(million) + marginal * (MILLION - objects)) / GB
            print(f"INFO peak_rss_1M_objects_GB_projected: {projected:.2f} (a PROJECTION: measured peak + "
                  f"(1M - {objects:,}) x {marginal:,.0f} B marginal per object)")
        print(f"INFO the 1M-user run made {objects:,} objects with storage")
        print(f"GOAL peak_rss_1M_users_GB {gb:.2f} <=1 {'PASS' if gb <= 1 else 'MISS'}")


if __name__ == "__main__":
    main()
