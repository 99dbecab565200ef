"""Chapter 01's chart: two clicks as waterfalls on one time axis, so a slow one is seen, not read.

Each hop of a request is a bar from when it started to when it ended (ms since the click was
sent); the kinds are coloured as in :data:`dolab.view.plots.HOP_COLOURS`, plus the two costs
chapter 01 teaches: the first-use ``uniqueness`` check and the ``replication`` wait for a write.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from dolab.sim.trace import Trace
from dolab.view.plots import HOP_COLOURS

COLOURS = {**HOP_COLOURS, "uniqueness": "#D55E00", "replication": "#CC79A7", "storage": "#009E73"}
LABELS = {
    "last_mile": "last mile (user ⇄ edge)",
    "network": "edge ⇄ object",
    "uniqueness": "first use of the name: worldwide check",
    "storage": "storage",
    "replication": "reply waits for the write's followers",
    "queue": "waiting at the object",
}


def plot_clicks(trace: Trace, requests: Sequence[int], labels: Sequence[str], title: str = "") -> Figure:
    """One row per request (``labels`` name them), its hops laid end to end on a shared axis."""
    sent = {r.id: r.sent for r in trace.requests}
    done = {r.id: r.done for r in trace.requests}
    fig, ax = plt.subplots(figsize=(8, 0.9 * len(requests) + 1.9), layout="constrained")
    used: list[str] = []
    for row, request in enumerate(requests):
        for hop in (h for h in trace.hops if h.request == request):
            left = (hop.start - sent[request]) * 1000
            ax.barh(row, max(hop.ms, 0.3), left=left, height=0.55, color=COLOURS.get(hop.kind, "#000000"))
            if hop.kind not in used:
                used.append(hop.kind)
        total = (done[request] - sent[request]) * 1000
        ax.annotate(f"{total:.0f} ms", (total, row), textcoords="offset points", xytext=(5, -3), fontsize=9)
    ax.set_yticks(range(len(requests)), labels)
    ax.invert_yaxis()
    right = max((done[r] - sent[r]) * 1000 for r in requests)
    ax.set_xlim(0, right * 1.15)
    ax.set_xlabel("milliseconds since the user clicked (simulated)")
    ax.set_title(title or "Where each click's time went", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    handles = [Patch(color=COLOURS.get(k, "#000000"), label=LABELS.get(k, k)) for k in used]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, frameon=False, fontsize=8)
    plt.close(fig)
    return fig


def plot_first_and_second(trace: Trace, first: int, second: int) -> Figure:
    """A user's first and second click on their object, on one axis."""
    return plot_clicks(trace, [first, second], ["first click", "second click"],
                       title="The same add to the same cart: the first use of a name pays once")
