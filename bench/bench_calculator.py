#!/usr/bin/env python3
"""Chapter 10's design calculator: how long one redraw takes (the estimate, the chart, its PNG).

The widget recomputes and redraws on every change of a control; the goal is one second per redraw.
Each round builds a new :class:`~dolab.lessons.calculator.Inputs` (so the estimate's cache never
answers), runs :func:`~dolab.lessons.calculator.estimate`, draws the chart and encodes it as the
widget does. Reported: the median and the slowest of the rounds, split into estimate and drawing.

Usage: python bench/bench_calculator.py [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import time

from dolab.lessons.calculator import GEOGRAPHIES, Inputs, estimate
from dolab.view.design_calculator import _title
from dolab.view.figures import png
from dolab.view.millionplots import plot_estimates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    estimates, draws = [], []
    users = (1_000, 100_000, 10_000_000)
    for i in range(args.rounds):
        inputs = Inputs(users=users[i % 3], geography=GEOGRAPHIES[i % 3], db_usd_month=300.0 + i)  # never cached
        t0 = time.perf_counter()
        result = estimate(inputs)
        t1 = time.perf_counter()
        png(plot_estimates(result, title=_title(inputs)))
        t2 = time.perf_counter()
        estimates.append((t1 - t0) * 1000)
        draws.append((t2 - t1) * 1000)
    total = [a + b for a, b in zip(estimates, draws, strict=True)]
    print(f"bench_calculator: {args.rounds} redraws; estimate median {statistics.median(estimates):.0f} ms, "
          f"chart + PNG median {statistics.median(draws):.0f} ms, slowest redraw {max(total):.0f} ms")
    median = statistics.median(total)
    print(f"GOAL calculator_redraw_ms {median:.0f} <=1000 {'PASS' if median <= 1000 else 'MISS'}")


if __name__ == "__main__":
    main()
