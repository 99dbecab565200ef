"""Tables and charts for chapter 11: edits reaching other editors, and a popular document.

:func:`arrivals_frame` turns :attr:`dolab.lessons.collab.CollabSession.arrivals` into a table (who typed
what, who saw it, after how many ms). :func:`crowd_frame` does the same for
:func:`dolab.lessons.crowd.crowd` runs, and :func:`plot_crowd` draws a sweep of editors on one object:
edits handled per second against edits typed, and how long an edit waited for its acknowledgement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from dolab.lessons.collab import Arrival
from dolab.lessons.crowd import CrowdRun

DESIGN_COLOURS = {"one": "#D55E00", "sections": "#0072B2", "followers": "#009E73"}


def arrivals_frame(arrivals: Sequence[Arrival]) -> pd.DataFrame:
    """One row per (phrase, reader): who typed it, who saw it, after how many ms."""
    return pd.DataFrame([{"typed by": a.author, "phrase": a.phrase, "seen by": a.reader, "ms": round(a.ms)}
                         for a in arrivals])


def crowd_frame(runs: Sequence[CrowdRun]) -> pd.DataFrame:
    """One row per run, rounded for reading."""
    frame = pd.DataFrame([asdict(r) for r in runs])
    frame = frame.rename(columns={"offered": "typed/s", "handled": "handled/s (busiest)",
                                  "sent": "sent/s (busiest)", "p50_ms": "p50 ms", "p95_ms": "p95 ms"})
    return frame.round({"typed/s": 0, "handled/s (busiest)": 0, "sent/s (busiest)": 0, "p50 ms": 0, "p95 ms": 0})


def plot_crowd(runs: Sequence[CrowdRun], capacity: float, title: str = "") -> Figure:
    """Left: edits handled per second by the busiest object against edits typed per second, with the
    object's ``capacity``. Right: p95 wait for an acknowledgement (log scale). One line per design."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
    for design in dict.fromkeys(r.design for r in runs):
        mine = sorted((r for r in runs if r.design == design), key=lambda r: r.editors)
        colour = DESIGN_COLOURS.get(design, "#555555")
        label = {"one": "one object", "sections": "split in sections"}.get(design, design)
        left.plot([r.offered for r in mine], [r.handled for r in mine], "o-", color=colour, label=label)
        right.plot([r.editors for r in mine], [r.p95_ms for r in mine], "o-", color=colour, label=label)
    top = max(r.offered for r in runs)
    left.plot([0, top], [0, top], ":", color="#888888", label="every edit handled")
    left.axhline(capacity, color="#CC79A7", linestyle="--", label=f"one object's limit ({capacity:g}/s)")
    left.set_xlabel("edits typed per second (all editors)")
    left.set_ylabel("edits handled per second\nby the busiest object")
    left.legend(fontsize=8, loc="upper left")
    left.grid(alpha=0.3)
    right.set_yscale("log")
    right.set_xlabel("editors")
    right.set_ylabel("p95 wait for the object's ack (ms)")
    right.legend(fontsize=8, loc="upper left")
    right.grid(alpha=0.3, which="both")
    fig.suptitle(title or "A popular document: one object has a limit", fontsize=11)
    plt.close(fig)  # returned, shown once by the notebook (not a second time by the inline backend)
    return fig
