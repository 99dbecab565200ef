"""Charts for chapter 05, scaling across thousands of objects (presentation layer).

Each takes plain rows or samples from :mod:`dolab.lessons.sweep` (or a DataFrame of them) and returns a
``Figure``. Colours follow :data:`dolab.view.plots.DESIGN_COLOURS`; axes say their units; user counts
are on log scales because they span five orders of magnitude, with ticks written as plain numbers
(1,000, not 10³). The hot-key chart is linear: its bars compare amounts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from dolab.view.plots import _colour

STATE_COLOURS = {"objects_active": "#0072B2", "objects_hibernated": "#009E73", "objects_evicted": "#E69F00"}
STATE_LABELS = {"objects_active": "in memory", "objects_hibernated": "hibernated", "objects_evicted": "evicted"}


PLAIN = FuncFormatter(lambda value, _: f"{value:,.0f}" if value >= 1 else f"{value:g}")


def _plain_log(ax: Any, axes: str = "xy") -> None:
    """Log scale on ``axes``, ticks as plain numbers (1, 10, 100, 1,000)."""
    for name in axes:
        getattr(ax, f"set_{name}scale")("log")
        getattr(ax, f"{name}axis").set_major_formatter(PLAIN)


def _frame(rows: Any) -> pd.DataFrame:
    return rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))


def plot_scaling(rows: Any) -> Figure:
    """Left: p50 and p99 latency vs users. Right: requests served vs offered per second."""
    frame = _frame(rows)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    for i, (design, part) in enumerate(frame.groupby("design", sort=False)):
        part = part.sort_values("users")
        colour = _colour(str(design), i)
        left.plot(part["users"], part["p50_ms"], "o-", color=colour, label=f"{design} p50")
        left.plot(part["users"], part["p99_ms"], "s--", color=colour, alpha=0.7, label=f"{design} p99")
        right.plot(part["offered_per_s"], part["served_per_s"], "o-", color=colour, label=str(design))
    for ax in (left, right):
        _plain_log(ax)
        ax.grid(alpha=0.3, which="both")
    left.set_xlabel("users (each sends 0.1 requests/s on average)")
    left.set_ylabel("latency, ms (simulated)")
    left.set_title("Latency as load grows")
    left.legend(fontsize=7, ncols=2)
    top = float(frame["offered_per_s"].max())
    right.plot([1, top], [1, top], color="#999999", linewidth=1, linestyle=":", label="served = offered")
    right.set_xlabel("requests offered per second")
    right.set_ylabel("requests served per second")
    right.set_title("Throughput: who keeps up?")
    right.legend(fontsize=8)
    plt.close(fig)
    return fig


def plot_queue_depth(series: dict[str, Sequence[Any]], title: str = "") -> Figure:
    """Queue depth over time, one line per design: ``{design: samples}`` from the same load."""
    fig, ax = plt.subplots(figsize=(8, 3.4), layout="constrained")
    for i, (design, samples) in enumerate(series.items()):
        points = pd.DataFrame([(s.t, s.value) for s in samples if s.name in ("db_queue", "do_queue")],
                              columns=["t", "value"])
        if points.empty:
            continue
        # The database samples at every arrival: show the deepest queue in each of 200 time bins.
        bins = (points["t"] // (points["t"].max() / 200 or 1)).astype(int)
        binned = points.groupby(bins).agg(t=("t", "first"), value=("value", "max"))
        ax.plot(binned["t"], binned["value"], color=_colour(design, i), linewidth=1.8,
                label=f"{design} (deepest {points['value'].max():,.0f})")
    ax.set_xlabel("seconds of simulated time")
    ax.set_ylabel("requests waiting (busiest queue)")
    ax.set_title(title or "Queue depth: the database's connection queue, the busiest object's input gate")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    plt.close(fig)
    return fig


def plot_lifecycle(run: Any, traffic_ends: float | None = None, title: str = "") -> Figure:
    """How many objects are active, hibernated and evicted at each moment (stacked areas).

    ``run`` is a :class:`dolab.lessons.sweep.LifecycleRun` (or just its samples).
    """
    samples: Iterable[Any] = getattr(run, "samples", run)
    frame = pd.DataFrame([{"t": s.t, "name": s.name, "value": s.value} for s in samples])
    wide = frame.pivot_table(index="t", columns="name", values="value", aggfunc="last").fillna(0)
    names = [n for n in STATE_COLOURS if n in wide.columns and wide[n].max() > 0]  # the legend: only what is drawn
    fig, ax = plt.subplots(figsize=(8, 3.6), layout="constrained")
    ax.stackplot(wide.index, [wide[n] for n in names], colors=[STATE_COLOURS[n] for n in names],
                 labels=[STATE_LABELS[n] for n in names], alpha=0.85)
    if traffic_ends is not None:
        ax.axvline(traffic_ends, color="#000000", linestyle="--", linewidth=1)
        ax.annotate("traffic stops", (traffic_ends, ax.get_ylim()[1] * 0.95), xytext=(4, 0),
                    textcoords="offset points", fontsize=8, va="top")
    ax.set_xlabel("seconds of simulated time")
    ax.set_ylabel("objects")
    if hasattr(run, "gb_s"):
        ax.annotate(f"billed: {run.gb_s():,.0f} GB-s", (0.99, 0.03), xycoords="axes fraction", ha="right",
                    fontsize=9, bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.8})
    ax.set_title(title or "Where the objects are: in memory, hibernated, evicted")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    plt.close(fig)
    return fig


def plot_hot_keys(results: Sequence[dict[str, Any]]) -> Figure:
    """Left: the 20 busiest users' shares of all requests, per skew. Right: p99 of the busiest user's
    requests, per skew, with the load on that user's object written above each bar. Linear axes."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
    palette = ["#56B4E9", "#0072B2", "#E69F00", "#D55E00", "#CC79A7", "#000000"]
    for i, r in enumerate(results):
        shares = [100 * count / r["requests"] for count in r["top"]]
        left.plot(range(1, len(shares) + 1), shares, "o-", markersize=3, color=palette[i % len(palette)],
                  label=f"zipf {r['zipf']:g}")
    left.set_xticks([1, 5, 10, 15, 20])
    left.set_xlabel("user rank (1 = busiest)")
    left.set_ylabel("share of all requests, %")
    left.set_title("Skew: a few users send most requests")
    left.legend(fontsize=8)
    left.grid(alpha=0.3)
    zipfs = [f"zipf {r['zipf']:g}" for r in results]
    right.bar(zipfs, [r["busiest_p99_ms"] for r in results], color=[palette[i % len(palette)]
                                                                     for i in range(len(results))])
    for x, r in enumerate(results):
        right.annotate(f"{r['busiest_p99_ms']:,.0f} ms\n({r['busiest_per_s']:,.0f} requests/s to its object)",
                       (x, r["busiest_p99_ms"]), ha="center", xytext=(0, 3), textcoords="offset points", fontsize=8)
    right.set_ylim(0, max((r["busiest_p99_ms"] for r in results), default=1) * 1.3)
    right.set_ylabel("p99 of the busiest user's requests, ms")
    right.set_title("The busiest user's p99")
    right.grid(axis="y", alpha=0.3)
    plt.close(fig)
    return fig


def plot_costs(rows: Any) -> Figure:
    """Estimated monthly bill vs users, one line per design (Workers Paid prices)."""
    frame = _frame(rows)
    fig, ax = plt.subplots(figsize=(7, 3.6), layout="constrained")
    for i, (design, part) in enumerate(frame.groupby("design", sort=False)):
        part = part.sort_values("users")
        # Two designs can cost the same (same requests, same rows): distinct dashes keep both visible.
        ax.plot(part["users"], part["cost_per_month_usd"], ("o-", "s--", "^:")[i % 3], color=_colour(str(design), i),
                label=str(design), linewidth=2 if i == 0 else 1.5, markersize=7 - 2 * (i % 3))
    _plain_log(ax)
    ax.set_xlabel("users (each sends 0.1 requests/s on average)")
    ax.set_ylabel("US$ per 30-day month")
    ax.set_title("What Cloudflare would bill (external database's own bill not included)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    plt.close(fig)
    return fig
