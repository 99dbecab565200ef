#!/usr/bin/env python3
"""Chapter 05's Zipf slider: how soon it says it is busy, and how long a redraw takes.

Builds the panel (``dolab.view.hotkey_panel.hot_key_panel(1.5)``) in this fresh process, then moves the
slider to every other position once (none of them cached yet), as a learner would. For each move it
measures, on the wall clock, the time until the panel's status line says "running" (the busy state the
learner sees at once) and the time until the new chart is drawn (the whole ``update``: the simulation,
the baseline from the cache, the PNG). The kernel's messages to the browser are not included; the
browser test (tests/browser/test_hotkey_panel_in_browser.py) watches the same panel in Chromium.

Goals: busy shown within 0.1 s; a redraw in at most 1 s, or, with the busy
state, at most 3 s. Reported: the median and the slowest redraw.

Usage: python bench/bench_hotkey.py
"""

from __future__ import annotations

import statistics
import time


def main() -> None:
    from dolab.view.hotkey_panel import hot_key_panel

    started = time.perf_counter()
    panel = hot_key_panel(1.5)
    print(f"panel built (zipf 1.5 and the baseline 0): {time.perf_counter() - started:.2f} s")
    marks: list[float] = []
    panel.status.observe(lambda change: marks.append(time.perf_counter()) if "running" in change["new"] else None,
                         names="value")
    busy, redraw = [], []
    positions = [z / 4 for z in range(11) if z / 4 not in (0.0, 1.5)]
    for zipf in positions:
        marks.clear()
        moved = time.perf_counter()
        panel.slider.value = zipf
        done = time.perf_counter()
        busy.append(marks[0] - moved)
        redraw.append(done - moved)
        print(f"zipf {zipf:<5g} busy after {busy[-1] * 1000:6.2f} ms, redrawn after {redraw[-1]:.2f} s")
    median, slowest = statistics.median(redraw), max(redraw)
    print()
    print(f"GOAL hot_key_busy_shown_s {max(busy):.3f} <=0.1 {'PASS' if max(busy) <= 0.1 else 'MISS'}")
    print(f"GOAL hot_key_redraw_median_s {median:.2f} <=1 {'PASS' if median <= 1 else 'MISS'}")
    print(f"GOAL hot_key_redraw_slowest_s {slowest:.2f} <=3 {'PASS' if slowest <= 3 else 'MISS'}")


if __name__ == "__main__":
    main()
