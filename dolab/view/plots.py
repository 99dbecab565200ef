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
               "storage": "#009E73", "db": "#D55E00", "cache": "#56B4E9"}


def plot_waterfall(hops: Any, request: int, title: str = "") -> Figure:
    """One request as a waterfall: a bar per hop on a time axis (ms since the request was sent).

    ``hops`` is ``dolab.view.report.hops_frame(trace)``; colours say the hop's kind.
    """
    mine = hops[hops["request"] == request].sort_values("offset_ms")
    fig, ax = plt.subplots(figsize=(7, 0.38 * len(mine) + 1.3), layout="constrained")
    labels = []
    for row, hop in enumerate(mine.itertuples()):
        ax.barh(row, max(hop.ms, 0.2), left=hop.offset_ms, color=HOP_COLOURS.get(hop.kind, "#000000"))
        labels.append(f"{hop.kind}: {hop.src}→{hop.dst}" if hop.src != hop.dst else f"{hop.kind} ({hop.src})")
        shown = f"{hop.ms:.1f}" if hop.ms >= 1 else f"{hop.ms:.2f}"
        ax.annotate(f"{shown} ms", (hop.offset_ms + max(hop.ms, 0.2), row), textcoords="offset points",
                    xytext=(3, -3), fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("milliseconds since the user sent the request (simulated)")
    ax.set_title(title or f"Request {request}: where the time goes")
    ax.grid(axis="x", alpha=0.3)
    if len(mine):
        ax.set_xlim(0, float((mine["offset_ms"] + mine["ms"]).max()) * 1.2)
    plt.close(fig)
    return fig


def plot_percentiles(table: Any, bounds: dict[str, float] | None = None, title: str = "") -> Figure:
    """p50 / p95 / p99 per design as grouped horizontal bars, with physics bounds as dashed lines.

    ``table`` is ``dolab.view.report.quantiles(frame)`` (one row per design); ``bounds`` maps a label
    to the smallest latency physics allows for it, in ms.
    """
    designs = list(table.index)
    columns = [c for c in ("p50", "p95", "p99") if c in table.columns]
    fig, ax = plt.subplots(figsize=(7.5, 0.9 * len(designs) + 1.6), layout="constrained")
    height = 0.8 / len(columns)
    shades = {"p50": 1.0, "p95": 0.65, "p99": 0.4}
    for j, col in enumerate(columns):
        for i, design in enumerate(designs):
            value = float(table.loc[design, col])
            y = i + (j - (len(columns) - 1) / 2) * height
            ax.barh(y, value, height=height * 0.9, color=_colour(design, i), alpha=shades[col])
            ax.annotate(f"{col} {value:.0f} ms", (value, y), textcoords="offset points", xytext=(3, -3), fontsize=8)
    for col in columns:  # legend entries in grey: the shade, not the colour, says which percentile
        ax.barh([], [], color="#555555", alpha=shades[col], label=col)
    top = float(table[columns].to_numpy().max()) if designs else 1.0
    for k, (label, bound) in enumerate((bounds or {}).items()):
        ax.axvline(bound, color="#000000", linestyle=("--", ":", "-.")[k % 3], linewidth=1,
                   label=f"physics bound, {label}: {bound:.0f} ms")
        top = max(top, bound)
    ax.set_yticks(range(len(designs)), designs)
    ax.invert_yaxis()
    ax.set_xlim(0, top * 1.3)
    ax.set_xlabel("latency of one request, milliseconds (simulated)")
    ax.set_title(title or "Latency percentiles by design")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    plt.close(fig)
    return fig
