"""Chapter 02's charts: adds to one cart as swim lanes, and what atomicity costs each design.

:func:`plot_lanes` draws one lane per add of a :class:`~dolab.lessons.concurrency.AddsRun`: the
wait at the object's input gate, its storage operations (solid while they hold the gate, hatched
under ``allowConcurrency``), calls it made elsewhere, the reply held by the output gate, and the
answer; a top lane shows when the input gate was held. :func:`plot_atomicity` compares designs
by the latency of their adds, with round trips and lost items written beside each bar.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from dolab.lessons.concurrency import AddsRun, Lane, Segment, lanes

# kind -> (colour, legend label); the Okabe-Ito palette, as in dolab.view.plots.
KINDS: dict[str, tuple[str, str]] = {
    "queue": ("#E69F00", "waiting at the input gate"),
    "storage": ("#009E73", "storage operation (holds the input gate)"),
    "storage-concurrent": ("#009E73", "storage read with allowConcurrency (gate open)"),
    "outside": ("#56B4E9", "call to another object (gate open)"),
    "replication": ("#CC79A7", "reply held by the output gate"),
    "lock": ("#E69F00", "waiting for the database's write lock"),
    "db": ("#D55E00", "database executes a statement"),
    "network": ("#BBBBBB", "network"),
}
HATCHED = {"storage-concurrent"}


def _kind(segment: Segment, home: str) -> str:
    """Network hops to and from another object are the object's outside call."""
    if segment.kind == "network" and segment.detail and not segment.detail.startswith(home):
        return "outside" if not segment.detail.startswith("db") else "network"
    return segment.kind


def _arrived(lane: Lane) -> float:
    """When the add reached the object (or database): its first step past the network."""
    return min((s.start for s in lane.segments if s.kind not in ("last_mile", "network")), default=lane.sent)


def _gate_held(rows: Sequence[Lane]) -> list[tuple[float, float]]:
    """The intervals during which some storage operation held the input gate (merged)."""
    spans = sorted((s.start, s.end) for lane in rows for s in lane.segments if s.holds_gate)
    merged: list[tuple[float, float]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1] + 1e-9:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def plot_lanes(run: AddsRun, title: str = "", home: str = "CART", show_network: bool = False,
               limit: int = 32) -> Figure:
    """One lane per add (at most ``limit``, in the order they reached the object), on one time axis."""
    rows = sorted(lanes(run), key=lambda lane: (_arrived(lane), lane.request))[:limit]
    t0 = min((lane.sent for lane in rows), default=0.0)
    right = max((max((s.end for s in lane.segments if s.kind != "last_mile"), default=lane.done) - t0
                 for lane in rows), default=0.001) * 1000
    thinnest = right / 400  # a 2 ms statement on a 3 s axis must still show
    height = 0.26 * len(rows) + 2.1
    fig, ax = plt.subplots(figsize=(8.2, height), layout="constrained")
    used: set[str] = set()
    for y, lane in enumerate(rows, start=1):
        for segment in lane.segments:
            kind = _kind(segment, home)
            if kind == "last_mile" or (kind == "network" and not show_network) or kind not in KINDS:
                continue
            colour = KINDS[kind][0]
            width = max((segment.end - segment.start) * 1000, thinnest)
            hatched = kind in HATCHED
            ax.barh(y, width, left=(segment.start - t0) * 1000, height=0.62,
                    color="white" if hatched else colour, edgecolor=colour,
                    hatch="////" if hatched else None, linewidth=0.8 if hatched else 0,
                    zorder=1 if kind == "network" else 2)  # short steps stay visible over the trips
            used.add(kind)
        end = max((s.end for s in lane.segments if s.kind != "last_mile"), default=lane.done)
        text = f"→ {lane.answer}" if lane.ok else "✕ " + _short_error(lane.error)
        ax.annotate(text, ((end - t0) * 1000, y), textcoords="offset points", xytext=(4, -3), fontsize=7,
                    color="#000000" if lane.ok else "#D55E00")
    held = _gate_held(rows)
    for start, end in held:
        ax.barh(0, (end - start) * 1000, left=(start - t0) * 1000, height=0.62, color="#444444")
    labels = ["input gate held" if held else ""] + [f"add #{lane.request}" for lane in rows]
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    if not held:
        ax.set_ylim(len(rows) + 0.6, 0.4)
    if held:
        ax.invert_yaxis()
    ax.set_xlabel("milliseconds since Alice's devices sent the adds (simulated)")
    kept = f"{run.final} of {run.n} items kept"
    lost = f", {run.lost} lost" if run.lost else ""
    failed = f", {run.n - run.acknowledged} answered with an error" if run.acknowledged < run.n else ""
    ax.set_title(title or f"{run.label}: {kept}{lost}{failed}", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    ax.set_xlim(0, right * 1.12 + 0.5)
    handles = [Patch(facecolor="white" if k in HATCHED else KINDS[k][0], edgecolor=KINDS[k][0],
                     hatch="////" if k in HATCHED else None, label=KINDS[k][1]) for k in KINDS if k in used]
    if held:
        handles.insert(0, Patch(facecolor="#444444", label="input gate held (by some add's storage operation)"))
    fig.legend(handles=handles, loc="outside lower center", ncol=2, frameon=False, fontsize=7.5)
    plt.close(fig)
    return fig


def _short_error(error: str) -> str:
    if "storage write" in error:
        return "write failed: reply dropped"
    if "reset" in error:
        return "object reset"
    return error.split(":", 1)[0][:30]


def plot_atomicity(rows: Iterable[dict[str, Any]], value: str = "slowest_ms",
                   title: str = "32 adds at once: how long until the last one is answered") -> Figure:
    """A bar per approach (rows from :func:`dolab.lessons.concurrency.summaries`), on a log axis,
    annotated with round trips per add and items lost."""
    rows = list(rows)
    fig, ax = plt.subplots(figsize=(8.2, 0.5 * len(rows) + 1.4), layout="constrained")
    names = [r["approach"] for r in rows]
    values = [max(r[value], 0.1) for r in rows]
    colours = ["#0072B2" if "object" in n.lower() else "#D55E00" for n in names]
    ax.barh(names, values, color=colours)
    for i, r in enumerate(rows):
        note = f"{r[value]:,.0f} ms · {r['round_trips_per_add']:.1f} round trips per add"
        note += f" · {r['lost']} lost" if r["lost"] else " · none lost"
        ax.annotate(note, (values[i], i), textcoords="offset points", xytext=(4, -3), fontsize=8)
    ax.set_xscale("log")
    ax.set_xlim(min(values) / 2, max(values) * 120)
    ax.invert_yaxis()
    ax.set_xlabel("milliseconds (simulated, log scale)")
    ax.set_title(title, fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    plt.close(fig)
    return fig
