"""Charts for the notebooks (presentation layer): matplotlib, labelled, colour-blind safe.

Colours are the Okabe-Ito palette; every axis says its unit. Each function returns the
``Figure`` so a notebook cell can end with it (and tests can save it as a PNG).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
# One colour per design name (dolab.sim.designs.DESIGN_NAMES), the same in every chapter; chapter
# 01's two sides borrow the colours of the designs they stand for.
DESIGN_COLOURS = {"external-db": "#D55E00", "cached-db": "#E69F00", "cookie": "#009E73",
                  "do-per-user": "#0072B2", "global-do": "#CC79A7", "stateless": "#D55E00", "stateful": "#0072B2"}


def _colour(name: str, i: int) -> str:
    return DESIGN_COLOURS.get(name, OKABE_ITO[i % len(OKABE_ITO)])


def plot_interleaving(history: Sequence[Any], title: str = "") -> Figure:
    """A timeline of requests: each row one add, ● where it read, ✕ where it wrote (value beside)."""
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(history) + 1.4), layout="constrained")
    t0 = min((op.start for op in history), default=0.0)
    for row, op in enumerate(sorted(history, key=lambda o: o.start)):
        ms = [(t - t0) * 1000 for t in (op.start, op.read_at, op.wrote_at, op.end)]
        ax.plot([ms[0], ms[3]], [row, row], color="#bbb", linewidth=6, solid_capstyle="butt")
        ax.plot(ms[1], row, "o", color="#0072B2")
        ax.plot(ms[2], row, "x", color="#D55E00", markersize=9, markeredgewidth=2)
        ax.annotate(f"read {op.read}", (ms[1], row), textcoords="offset points", xytext=(0, 7), fontsize=8,
                    ha="center", color="#0072B2")
        ax.annotate(f"wrote {op.wrote}", (ms[2], row), textcoords="offset points", xytext=(0, -13), fontsize=8,
                    ha="center", color="#D55E00")
    ax.set_yticks(range(len(history)), [f"add #{op.request}" for op in sorted(history, key=lambda o: o.start)])
    ax.invert_yaxis()
    ax.set_xlabel("time since the first request started (ms, simulated)")
    ax.set_title(title or "Who read what, and when")
    ax.grid(axis="x", alpha=0.3)
    ax.margins(y=0.25)
    plt.close(fig)
    return fig


def plot_latency_by_design(rows: Iterable[dict[str, Any]], value: str = "latency_ms",
                           title: str = "Latency of one “add to cart” click",
                           xlabel: str = "milliseconds (simulated)") -> Figure:
    """A horizontal bar per design (rows: ``{"design": ..., value: ..., "round_trips": ...}``)."""
    rows = list(rows)
    fig, ax = plt.subplots(figsize=(7, 0.55 * len(rows) + 1.2), layout="constrained")
    names = [r["design"] for r in rows]
    values = [r[value] for r in rows]
    ax.barh(names, values, color=[_colour(n, i) for i, n in enumerate(names)])
    for i, r in enumerate(rows):
        note = f"{r[value]:.0f} ms"
        if "round_trips" in r:
            note += f", {r['round_trips']} round trip{'s' if r['round_trips'] != 1 else ''}"
        ax.annotate(note, (r[value], i), textcoords="offset points", xytext=(4, -3), fontsize=9)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.set_xlim(0, max(values, default=1) * 1.45)
    ax.grid(axis="x", alpha=0.3)
    plt.close(fig)
    return fig


HOP_COLOURS = {"last_mile": "#999999", "network": "#0072B2", "queue": "#E69F00", "cpu": "#CC79A7",
               "storage": "#009E73", "db": "#D55E00", "cache": "#56B4E9",
               # Paul Tol's colour-blind-safe "muted" wine and indigo: Okabe-Ito has no colours left
               "replication": "#882255", "uniqueness": "#332288"}


def _hop_label(hop: Any) -> str:
    return f"{hop.kind}: {hop.src}→{hop.dst}" if hop.src != hop.dst else f"{hop.kind} ({hop.src})"


def _draw_hops(ax: Any, mine: Any) -> None:
    """One bar per hop of one request on ``ax`` (rows top to bottom in time order)."""
    labels = []
    for row, hop in enumerate(mine.itertuples()):
        ax.barh(row, max(hop.ms, 0.2), left=hop.offset_ms, color=HOP_COLOURS.get(hop.kind, "#000000"))
        labels.append(_hop_label(hop))
        shown = f"{hop.ms:.1f}" if hop.ms >= 1 else f"{hop.ms:.2f}"
        ax.annotate(f"{shown} ms", (hop.offset_ms + max(hop.ms, 0.2), row), textcoords="offset points",
                    xytext=(3, -3), fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_ylim(len(labels) - 0.5, -0.5)  # first hop on top
    ax.grid(axis="x", alpha=0.3)


def plot_waterfall(hops: Any, request: int, title: str = "") -> Figure:
    """One request as a waterfall: a bar per hop on a time axis (ms since the request was sent).

    ``hops`` is ``dolab.view.report.hops_frame(trace)``; colours say the hop's kind.
    """
    mine = hops[hops["request"] == request].sort_values("offset_ms")
    fig, ax = plt.subplots(figsize=(7, 0.38 * len(mine) + 1.3), layout="constrained")
    _draw_hops(ax, mine)
    ax.set_xlabel("milliseconds since the user sent the request (simulated)")
    ax.set_title(title or f"Request {request}: where the time goes")
    if len(mine):
        ax.set_xlim(0, float((mine["offset_ms"] + mine["ms"]).max()) * 1.2)
    plt.close(fig)
    return fig


def plot_waterfalls(panels: Sequence[tuple[str, Any, int]], title: str = "") -> Figure:
    """Several requests as waterfalls stacked on ONE time axis, so their lengths compare at a glance.

    ``panels`` holds ``(title, hops, request)`` for each: ``hops`` from ``hops_frame(trace)``.
    Each panel's title ends with the request's total time.
    """
    parts = [hops[hops["request"] == request].sort_values("offset_ms") for _, hops, request in panels]
    rows = [max(len(p), 1) for p in parts]
    fig, axes = plt.subplots(len(parts), 1, sharex=True, figsize=(8, 0.26 * sum(rows) + 0.75 * len(parts) + 1.0),
                             layout="constrained", height_ratios=rows, squeeze=False)
    end = 1.0
    for ax, (name, _, _), mine in zip(axes[:, 0], panels, parts, strict=True):
        _draw_hops(ax, mine)
        total = float((mine["offset_ms"] + mine["ms"]).max()) if len(mine) else 0.0
        end = max(end, total)
        ax.set_title(f"{name}: {total:,.0f} ms", fontsize=10, loc="left")
    axes[-1, 0].set_xlim(0, end * 1.12)
    axes[-1, 0].set_xlabel("milliseconds since the user sent the request (simulated; one axis for all)")
    if title:
        fig.suptitle(title)
    plt.close(fig)
    return fig


PERCENTILE_COLOURS = {"p50": "#56B4E9", "p95": "#E69F00", "p99": "#D55E00"}


def plot_percentiles(table: Any, bounds: dict[str, float] | None = None, title: str = "") -> Figure:
    """p50 / p95 / p99 per design as grouped horizontal bars, with physics bounds as dashed lines.

    ``table`` is ``dolab.view.report.quantiles(frame)`` (one row per design); ``bounds`` maps a label
    to the smallest latency physics allows for it, in ms. A bound under 1 ms (the same region) is
    not drawn: a line at 0 would be invisible; the legend says so instead. The legend sits below
    the chart, so no line crosses it.
    """
    designs = list(table.index)
    columns = [c for c in ("p50", "p95", "p99") if c in table.columns]
    fig, ax = plt.subplots(figsize=(8, 0.9 * len(designs) + 2.0), layout="constrained")
    height = 0.8 / len(columns)
    for j, col in enumerate(columns):
        for i, design in enumerate(designs):
            value = float(table.loc[design, col])
            y = i + (j - (len(columns) - 1) / 2) * height
            ax.barh(y, value, height=height * 0.9, color=PERCENTILE_COLOURS[col], label=col if i == 0 else None)
            ax.annotate(f"{col} {value:,.0f} ms", (value, y), textcoords="offset points", xytext=(3, -3),
                        fontsize=8)
    top = float(table[columns].to_numpy().max()) if designs else 1.0
    styles = iter(("--", ":", "-."))
    for label, bound in (bounds or {}).items():
        if bound < 1.0:
            ax.plot([], [], " ", label=f"physics bound, {label}: ~0 ms (same region, not drawn)")
            continue
        ax.axvline(bound, color="#000000", linestyle=next(styles, "--"), linewidth=1.2,
                   label=f"physics bound, {label}: {bound:,.0f} ms")
        top = max(top, bound)
    ax.set_yticks(range(len(designs)), designs)
    ax.invert_yaxis()
    ax.set_xlim(0, top * 1.25)
    ax.set_xlabel("latency of one request, milliseconds (simulated)")
    ax.set_title(title or "Latency percentiles by design")
    ax.grid(axis="x", alpha=0.3)
    # Outside the axes, so no bar or bound line runs through a legend: percentiles to the right,
    # bounds underneath.
    handles, labels = ax.get_legend_handles_labels()
    mine = [(h, lab) for h, lab in zip(handles, labels, strict=True) if lab in columns]
    rest = [(h, lab) for h, lab in zip(handles, labels, strict=True) if lab not in columns]
    fig.legend(*zip(*mine, strict=True), fontsize=8, loc="outside right upper", title="percentile",
               title_fontsize=8)
    if rest:
        fig.legend(*zip(*rest, strict=True), fontsize=8, loc="outside lower center")
    plt.close(fig)
    return fig
