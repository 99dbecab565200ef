"""Chapter 06's timeline: cart changes, the alarm each one set (and which replaced which), alarm runs, e-mails.

Everything is drawn on one time axis. Object code reports times as it sees them (``datetime`` or
ISO text from ``datetime.now(UTC)``, alarm times from ``getAlarm()``); ``lab.alarm_log`` reports
lab seconds. :func:`plot_alarm_timeline` puts both on the lab's clock, so the chart needs the lab.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from dolab.runtime.lab import Lab

SCALES = {"s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
LANES = ("cart changed", "alarm pending", "alarm ran", "e-mail sent")


def lab_start(lab: Lab) -> dt.datetime:
    """The moment the lab's clock read 0 (what ``datetime.now(UTC)`` said in an object then)."""
    return dt.datetime.fromtimestamp(lab.time_ms / 1000.0 - lab.now, dt.UTC)


def as_datetime(when: dt.datetime | str | float) -> dt.datetime:
    """An ISO string, a ``datetime`` (naive means UTC) or ms since the epoch, as an aware datetime."""
    if isinstance(when, str):
        when = dt.datetime.fromisoformat(when)
    elif isinstance(when, (int, float)):
        when = dt.datetime.fromtimestamp(when / 1000.0, dt.UTC)
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def plot_alarm_timeline(lab: Lab, changes: Sequence[tuple[Any, Any]] = (), mails: Iterable[Any] = (),
                        deliveries: Sequence[dict[str, Any]] | None = None, *, unit: str = "h",
                        origin: Any = None, title: str = "", xlabel: str = "") -> Figure:
    """Four lanes on the lab's clock.

    ``changes`` are ``(when, alarm_due)`` pairs (each change and the alarm it set; ``None``: none);
    an alarm replaced by a later change is drawn faded, ending where it was replaced. ``mails`` are
    the times e-mails were sent. ``deliveries`` are rows of ``lab.alarm_log`` (✓ ran, ✕ failed and
    retried). Times are shown in ``unit`` since ``origin`` (default: the lab's start).
    """
    if unit not in SCALES:
        raise ValueError(f"unit must be one of {', '.join(SCALES)}, got {unit!r}")
    scale = SCALES[unit]
    start = lab_start(lab)
    zero = start if origin is None else as_datetime(origin)

    def x(when: Any) -> float:
        return (as_datetime(when) - zero).total_seconds() / scale

    def x_lab(seconds: float) -> float:
        return x(start + dt.timedelta(seconds=seconds))

    rows = {lane: len(LANES) - 1 - i for i, lane in enumerate(LANES)}
    fig, ax = plt.subplots(figsize=(7.5, 2.9), layout="constrained")
    pairs = [(as_datetime(when), None if due is None else as_datetime(due)) for when, due in changes]
    ax.plot([x(w) for w, _ in pairs], [rows["cart changed"]] * len(pairs), "o", color="#0072B2")
    for i, (when, due) in enumerate(pairs):
        if due is None:
            continue
        replaced = next((w for w, _ in pairs[i + 1:] if w < due), None)
        end = replaced or due
        y = rows["alarm pending"]
        ax.plot([x(when), x(end)], [y, y], color="#E69F00", linewidth=5, solid_capstyle="butt",
                alpha=0.3 if replaced else 1.0)
        if replaced is None:
            ax.plot([x(due)], [y], "|", color="#E69F00", markersize=14, markeredgewidth=2)
    log = list(deliveries or [])
    ok = [x_lab(d["at"]) for d in log if d["outcome"] == "ok"]
    failed = [x_lab(d["at"]) for d in log if d["outcome"] != "ok" and "abandoned" not in d["outcome"]]
    ax.plot(ok, [rows["alarm ran"]] * len(ok), marker="$✓$", markersize=11, linestyle="", color="#009E73")
    ax.plot(failed, [rows["alarm ran"]] * len(failed), "x", markersize=8, markeredgewidth=2, color="#D55E00")
    for d in log:
        if d["retryCount"]:
            ax.annotate(f"retry {d['retryCount']}", (x_lab(d["at"]), rows["alarm ran"]), textcoords="offset points",
                        xytext=(0, 8), fontsize=7, ha="center", color="#555555")
    sent = [x(m) for m in mails]
    ax.plot(sent, [rows["e-mail sent"]] * len(sent), "s", markersize=7, color="#CC79A7")
    ax.set_yticks(list(rows.values()), list(rows))
    ax.set_ylim(-0.7, len(LANES) - 0.3)
    ax.set_xlabel(xlabel or f"{'hours' if unit == 'h' else unit} since the lab started")
    ax.set_title(title or "Cart changes, alarms and e-mails")
    ax.grid(axis="x", alpha=0.3)
    plt.close(fig)
    return fig
