"""Charts for chapter 12, agents (presentation layer).

:func:`plot_turns` draws :func:`~dolab.lessons.agents.overlapping_chats` runs, one panel per approach and
one lane per message: when it was sent, how long it waited to get in, its model call (the input gate
open), and whether its turn is in the agent's history at the end.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from dolab.lessons.agents import ChatRun

WAIT, MODEL, KEPT, LOST = "#E69F00", "#999999", "#009E73", "#D55E00"


def plot_turns(runs: Sequence[ChatRun], title: str = "") -> Figure:
    """One panel per run: each message's wait (orange) and model call (grey), kept or lost at the end."""
    fig, axes = plt.subplots(len(runs), 1, figsize=(8, 0.6 + 1.2 * len(runs)), sharex=True, layout="constrained",
                             squeeze=False)
    end = max(max(run.answered_at.values()) for run in runs)
    for ax, run in zip(axes[:, 0], runs, strict=True):
        for lane, text in enumerate(run.sent):
            y = len(run.sent) - 1 - lane
            sent = run.sent_at.get(text, 0.0)
            start, stop = run.model_call.get(text, (sent, sent))
            ax.barh(y, start - sent, left=sent, height=0.5, color=WAIT)
            ax.barh(y, stop - start, left=start, height=0.5, color=MODEL)
            kept = run.was_kept(text)
            done = run.answered_at[text]
            ax.plot([done], [y], marker="|", markersize=14, color="black")
            ax.text(done + 0.04 * end, y, "kept" if kept else "lost", va="center", fontsize=9,
                    color=KEPT if kept else LOST, fontweight="bold")
        ax.set_yticks(range(len(run.sent)), [f'"{t}"' for t in reversed(run.sent)], fontsize=8)
        ax.set_ylim(-0.6, len(run.sent) - 0.4)
        ax.set_title(run.label, loc="left", fontsize=10)
        ax.spines[["top", "right"]].set_visible(False)
    axes[-1, 0].set_xlim(0, end * 1.18)
    axes[-1, 0].set_xlabel("seconds after the first message (| = the reply)")
    fig.legend(handles=[Patch(color=WAIT, label="waits to get in"), Patch(color=MODEL, label="its model call")],
               loc="outside upper right", ncols=2, fontsize=8, frameon=False)
    if title:
        fig.suptitle(title, x=0.02, ha="left", fontsize=11)
    return fig
