"""Charts for chapter 09, storage (presentation layer).

:func:`plot_lifecycle` draws a :class:`~dolab.lessons.storage.Timeline`: a band saying where the
object was (in memory, hibernated, evicted) over time, and one lane per place state lives, with
what each call saw there. :func:`plot_query_bill` draws :func:`~dolab.lessons.storage.price_queries`:
rows per operation and the month's bill, design beside design. :func:`bills_frame` is the same as
a table. The state colours are chapter 05's (in memory blue, hibernated green, evicted orange).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from dolab.lessons.storage import EVICT, QueryBill, Timeline

STATE_COLOURS = {"in memory": "#0072B2", "hibernated": "#009E73", "evicted": "#E69F00", "not created": "#FFFFFF"}
LANE_COLOURS = ("#D55E00", "#0072B2", "#009E73", "#CC79A7")


def plot_lifecycle(timeline: Timeline, lanes: Sequence[tuple[str, str]], title: str = "") -> Figure:
    """``lanes``: ``(key in each call's answer, label)``, one lane each, top to bottom."""
    fig, axes = plt.subplots(len(lanes) + 1, 1, figsize=(8, 1.0 + 1.15 * (len(lanes) + 1)), sharex=True,
                             layout="constrained", gridspec_kw={"height_ratios": [0.8] + [1.0] * len(lanes)})
    band, rows = axes[0], axes[1:]
    end = timeline.spans[-1].end if timeline.spans else 1.0
    for span in timeline.spans:
        if span.state == "not created":
            continue
        band.barh(0, span.end - span.start, left=span.start, height=0.8, color=STATE_COLOURS[span.state],
                  edgecolor="white")
        if span.end - span.start >= 0.07 * end:
            band.text((span.start + span.end) / 2, 0, span.state, ha="center", va="center", fontsize=8,
                      color="white" if span.state == "in memory" else "black")
    calls = [m for m in timeline.moments if m.action != EVICT]
    evictions = [m for m in timeline.moments if m.action == EVICT]
    band.plot([m.at for m in calls], [0.62] * len(calls), "v", color="#000000", markersize=5, label="a call")
    for m in evictions:
        for ax in axes:
            ax.axvline(m.at, color="#555555", linestyle="--", linewidth=1)
        band.annotate("evicted", (m.at, 0.62), textcoords="offset points", xytext=(3, 2), fontsize=7, color="#555555")
    band.set_yticks([])
    band.set_ylim(-0.5, 0.9)
    band.set_ylabel("object", rotation=0, ha="right", va="center", fontsize=9)
    band.set_title(title or "What each place kept, call after call")
    for i, (ax, (key, label)) in enumerate(zip(rows, lanes, strict=True)):
        xs = [m.at for m in calls]
        ys = [m.answer[key] for m in calls]
        colour = LANE_COLOURS[i % len(LANE_COLOURS)]
        ax.step(xs, ys, where="post", color=colour, alpha=0.5)
        ax.plot(xs, ys, "o", color=colour)
        for x, y in zip(xs, ys, strict=True):
            ax.annotate(str(y), (x, y), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
        ax.set_ylim(0, max(ys, default=1) * 1.45 + 0.5)
        ax.set_yticks([])
        ax.grid(axis="x", alpha=0.3)
    rows[-1].set_xlabel("lab time (s); an idle object hibernates 10 s after its last call")
    rows[-1].set_xlim(-0.015 * end, end)
    plt.close(fig)
    return fig


def bills_frame(bills: Sequence[QueryBill]) -> pd.DataFrame:
    """One row per design: rows per operation, millions of rows a month, and the month's cost in USD."""
    return pd.DataFrame([{
        "design": b.design,
        "rows read / read": b.rows_read_per_read,
        "rows written / write": b.rows_written_per_write,
        "rows read / month (millions)": round(b.rows_read / 1e6, 1),
        "rows written / month (millions)": round(b.rows_written / 1e6, 1),
        "rows read $": round(b.read_usd, 2),
        "rows written $": round(b.written_usd, 2),
        "total $": b.total_usd,
    } for b in bills]).set_index("design")


def plot_query_bill(bills: Sequence[QueryBill], traffic: str = "") -> Figure:
    """Left: rows read per read and written per write. Right: the month's bill, read and written stacked."""
    names = [b.design for b in bills]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 0.6 * len(bills) + 2.0), layout="constrained")
    y = range(len(bills))
    left.barh([i - 0.2 for i in y], [b.rows_read_per_read for b in bills], height=0.38, color="#0072B2",
              label="rows read per read")
    left.barh([i + 0.2 for i in y], [b.rows_written_per_write for b in bills], height=0.38, color="#D55E00",
              label="rows written per write")
    for i, b in enumerate(bills):
        left.annotate(f"{b.rows_read_per_read:,.0f}", (max(b.rows_read_per_read, 1), i - 0.2),
                      textcoords="offset points", xytext=(3, -3), fontsize=8)
        left.annotate(f"{b.rows_written_per_write:,.0f}", (max(b.rows_written_per_write, 1), i + 0.2),
                      textcoords="offset points", xytext=(3, -3), fontsize=8)
    left.set_xscale("log")
    top = max([b.rows_read_per_read for b in bills] + [b.rows_written_per_write for b in bills] + [10])
    left.set_xlim(0.8, top * 12)
    left.set_yticks(list(y), names)
    left.invert_yaxis()
    left.set_xlabel("rows per operation (log scale), from cursor.rowsRead / rowsWritten")
    left.set_title("What one operation costs in rows")
    left.legend(fontsize=8, loc="lower right")
    left.grid(axis="x", alpha=0.3)
    right.barh(list(y), [b.read_usd for b in bills], color="#0072B2", label="rows read")
    right.barh(list(y), [b.written_usd for b in bills], left=[b.read_usd for b in bills], color="#D55E00",
               label="rows written")
    for i, b in enumerate(bills):
        right.annotate(f"${b.total_usd:,.2f}", (b.total_usd, i), textcoords="offset points", xytext=(4, -3),
                       fontsize=9)
    right.set_xlim(0, max([b.total_usd for b in bills] + [1.0]) * 1.3)
    right.set_yticks(list(y), names)
    right.invert_yaxis()
    right.set_xlabel("USD per month beyond the included rows (Workers Paid)")
    right.set_title(f"The month's bill{': ' + traffic if traffic else ''}")
    right.legend(fontsize=8, loc="lower right")
    right.grid(axis="x", alpha=0.3)
    plt.close(fig)
    return fig

