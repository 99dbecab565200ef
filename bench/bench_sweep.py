#!/usr/bin/env python3
"""Chapter 05's scale sweep: are its points long enough, and how fast does it run?

1. Stability. The sweep runs every design at every user count for ``duration`` (its default,
   ``dolab.lessons.sweep.DURATION``, with its default ``min_requests``) and again for twice that
   (twice the duration and twice ``min_requests``), same seed. For each point the p99
   latency of the two runs is compared. Goal: no point that is not saturated moves by 10 % or more.
   A point is *saturated* when it serves less than 95 % of what is offered or fails requests: its
   queue grows for as long as it runs (or until the overload limits cap it), so no duration gives
   it a stable p99; those points are listed, not judged.
2. Speed. The sweep at ``duration`` on the default pool (worker processes, one per CPU) against
   the same sweep run serially in this process, side by side: wall seconds and their ratio.

Usage: python bench/bench_sweep.py [--quick] [--full]
    --quick  users 10, 100, 1,000 and 10,000 (about a minute)
    default  the chapter's quick sweep: 10 ... 30,000 users
    --full   the chapter's full sweep: 10 ... 100,000 users (several minutes)
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from dolab.lessons import sweep as sweep_module
from dolab.lessons.sweep import DURATION, FULL_USERS, QUICK_USERS, scale_sweep


def run(users: tuple[int, ...], duration: float, executor: Any = None, min_requests: int = 500) -> tuple[Any, float]:
    sweep_module._CACHE.clear()  # measure, never reuse
    started = time.perf_counter()
    result = scale_sweep(users, duration=duration, executor=executor, min_requests=min_requests)
    return result, time.perf_counter() - started


def saturated(row: dict[str, Any]) -> bool:
    return bool(row["failed"] > 0 or row["served_per_s"] < 0.95 * row["offered_per_s"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--full", action="store_true")
    args = parser.parse_args()
    users = (10, 100, 1_000, 10_000) if args.quick else FULL_USERS if args.full else QUICK_USERS
    print(f"bench_sweep: users {', '.join(f'{u:,}' for u in users)}; duration {DURATION:g} s and "
          f"{2 * DURATION:g} s; {os.cpu_count()} CPUs")

    once, wall_pool = run(users, DURATION)
    # Twice as long everywhere: the small points, which run long enough to send min_requests, too.
    twice, wall_twice = run(users, 2 * DURATION, min_requests=2 * 500)
    print(f"sweep at {DURATION:g} s: {wall_pool:.1f} s wall (default pool); at {2 * DURATION:g} s: {wall_twice:.1f} s")
    print()
    print(f"{'design':12s} {'users':>8} {'requests':>9} {'p99 ms':>9} {'p99 2x':>9} {'change':>8}  state")
    worst = 0.0
    worst_point = ""
    for a, b in zip(once.rows, twice.rows, strict=True):
        change = b["p99_ms"] / a["p99_ms"] - 1
        state = "saturated" if saturated(a) or saturated(b) else "steady"
        if state == "steady" and abs(change) > abs(worst):
            worst, worst_point = change, f"{a['design']} at {a['users']:,} users"
        print(f"{a['design']:12s} {a['users']:>8,} {a['requests']:>9,} {a['p99_ms']:>9,.0f} {b['p99_ms']:>9,.0f} "
              f"{change:>+8.1%}  {state}")
    print()

    # Speed: the same sweep serially, side by side with the pool run above.
    _, wall_serial = run(users, DURATION, executor="serial")
    _, wall_pool_again = run(users, DURATION)
    pool = min(wall_pool, wall_pool_again)
    print(f"sweep at {DURATION:g} s: serial {wall_serial:.1f} s, default pool {pool:.1f} s (best of 2): "
          f"x{wall_serial / pool:.2f}")
    print("(absolute seconds are noisy on a shared machine; the ratio is measured side by side)")
    print()
    print(f"INFO worst steady point: {worst_point}")
    print(f"INFO sweep_pool_speedup_vs_serial x{wall_serial / pool:.2f} ({os.cpu_count()} CPUs)")
    print(f"GOAL sweep_p99_change_when_duration_doubles {abs(worst):.1%} <10% "
          f"{'PASS' if abs(worst) < 0.10 else 'MISS'}")


if __name__ == "__main__":
    main()
