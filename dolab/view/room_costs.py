"""Chapter 07's bill: what chat rooms cost in a month, one row (and one bar) per room class.

Built on :func:`dolab.lessons.chat.run_traffic` and :func:`dolab.lessons.chat.monthly_usage`, priced
by :func:`dolab.sim.pricing.bill` with the Workers Paid price table (``data/prices.csv``).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from dolab.lessons.chat import RoomRun, monthly_usage
from dolab.sim.pricing import MEMORY_GB, WS_MESSAGES_PER_REQUEST, bill

# The three items a chat room's bill is made of; the $5 minimum is the same for every row.
ITEMS = {"do_requests": ("requests (incl. WebSocket messages at 20:1)", "#0072B2"),
         "do_duration": ("duration (GB-s)", "#D55E00"),
         "do_rows_written": ("rows written", "#009E73")}


def room_costs_frame(runs: Sequence[RoomRun], rooms: int = 100) -> pd.DataFrame:
    """One row per room class: a month of ``rooms`` such rooms, what they use and what it costs (USD).

    Column names avoid the dollar sign: JupyterLab reads a pair of them as mathematics.
    """
    rows = []
    for run in runs:
        usage = monthly_usage(run, rooms)
        priced = bill(usage)
        rows.append({
            "room": run.room,
            "billed s per room-hour": round(run.billed_seconds * 3600 / run.seconds, 1),
            "WebSocket messages": round(usage.ws_messages),
            "billed requests": round(usage.requests + usage.ws_messages / WS_MESSAGES_PER_REQUEST),
            "GB-s": round(usage.active_seconds * MEMORY_GB),
            "requests USD": round(priced.cost("do_requests"), 2),
            "duration USD": round(priced.cost("do_duration"), 2),
            "rows written USD": round(priced.cost("do_rows_written"), 2),
            "total USD (with the 5 USD minimum)": round(priced.total, 2),
        })
    return pd.DataFrame(rows).set_index("room")


def plot_room_costs(frame: pd.DataFrame, title: str = "") -> Figure:
    """A horizontal stacked bar per room: requests, duration and rows written, dollars a month."""
    fig, ax = plt.subplots(figsize=(7.5, 0.6 * len(frame) + 1.9), layout="constrained")
    left = pd.Series(0.0, index=frame.index)
    columns = {"do_requests": "requests USD", "do_duration": "duration USD", "do_rows_written": "rows written USD"}
    for item, column in columns.items():
        label, colour = ITEMS[item]
        ax.barh(frame.index, frame[column], left=left, color=colour, label=label, height=0.6)
        left = left + frame[column]
    top = float(left.max()) if len(left) else 1.0
    for i, total in enumerate(left):
        ax.annotate(f"${total:,.2f}", (total, i), textcoords="offset points", xytext=(4, -4), fontsize=9)
    ax.set_xlim(0, max(top, 1.0) * 1.2)
    ax.invert_yaxis()
    ax.set_xlabel("US dollars a month, above the $5 minimum (Workers Paid)")
    ax.set_title(title or "What the rooms cost in a month")
    ax.grid(axis="x", alpha=0.3)
    fig.legend(loc="outside lower center", ncol=3, fontsize=8, frameon=False)  # below: never over a bar
    plt.close(fig)
    return fig
