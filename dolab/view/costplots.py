"""Chapter 03's cost chart: each design's month as a stacked bar, Cloudflare's lines and the others'.

Rows come from :func:`dolab.lessons.fixes.monthly_bills`. The database's and the cache's own bills
are drawn hatched: they are the inputs a reader typed in, not prices dolab knows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

PARTS = [
    ("workers_usd", "Workers (incl. the $5 minimum)", "#56B4E9", None),
    ("durable_objects_usd", "Durable Objects", "#0072B2", None),
    ("database_usd", "the database's own bill (your input)", "#D55E00", "//"),
    ("cache_usd", "the cache's own bill (your input)", "#E69F00", "//"),
]


def plot_monthly_bills(rows: Iterable[dict[str, Any]], title: str = "") -> Figure:
    """A stacked horizontal bar per design, its total written at the end."""
    rows = list(rows)
    fig, ax = plt.subplots(figsize=(8, 0.55 * len(rows) + 1.9), layout="constrained")
    names = [r["design"] for r in rows]
    left = [0.0] * len(rows)
    for key, label, colour, hatch in PARTS:
        values = [float(r[key]) for r in rows]
        if not any(values):
            continue
        ax.barh(names, values, left=left, color=colour if hatch is None else "white", edgecolor=colour,
                hatch=hatch, linewidth=0.8, label=label)
        left = [a + b for a, b in zip(left, values, strict=True)]
    for i, r in enumerate(rows):
        ax.annotate(f"${r['total_usd']:,.2f}", (left[i], i), textcoords="offset points", xytext=(4, -3), fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0, max(left, default=1.0) * 1.2)
    ax.set_xlabel("US dollars per month")
    ax.set_title(title or "What a month of carts costs", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    fig.legend(loc="outside lower center", ncol=2, frameon=False, fontsize=8)
    plt.close(fig)
    return fig
