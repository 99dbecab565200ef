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
UNIT_WORDS = {"s": "seconds", "min": "minutes", "h": "hours", "d": "days"}
CHANGE, PENDING, REPLACED, RAN, FAILED, MAIL = "#0072B2", "#E69F00", "#999999", "#009E73", "#D55E00", "#CC79A7"


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
    """Up to four lanes on the lab's clock; a lane with nothing in it is left out.

    ``changes`` are ``(when, alarm_due)`` pairs: each change and the alarm it set (``None``: none).
    Each alarm is a bar from when it was set to when it ran; one replaced by a later change ends
    there, and a dotted line goes on to the time it would have run. ``mails`` are the times e-mails
    were sent; ``deliveries`` are rows of ``lab.alarm_log`` (✓ ran, ✕ failed and was retried, with
    the delay since the attempt before). Times are in ``unit`` since ``origin`` (default: the lab's start).
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

    pairs = [(as_datetime(when), None if due is None else as_datetime(due)) for when, due in changes]
    log = list(deliveries or [])
    sent = [x(m) for m in mails]
    names = [name for name, used in (("cart changed", pairs), ("alarm set", [d for _, d in pairs if d]),
                                     ("alarm ran", log), ("e-mail sent", sent)) if used]
    lane = {name: len(names) - 1 - i for i, name in enumerate(names)}
    fig, ax = plt.subplots(figsize=(7.5, 0.55 * len(names) + 1.7), layout="constrained")
    handles: dict[str, Any] = {}
    if pairs:
        handles["cart changed"] = ax.plot([x(w) for w, _ in pairs], [lane["cart changed"]] * len(pairs), "o",
                                          color=CHANGE)[0]
    alarms = [(when, due) for when, due in pairs if due is not None]
    for k, (when, due) in enumerate(alarms):
        # one row per alarm inside the lane, so that a replaced alarm does not hide under the next
        y = lane["alarm set"] + (0.0 if len(alarms) == 1 else 0.3 - 0.6 * k / (len(alarms) - 1))
        replaced = next((w for w, _ in pairs if when < w < due), None)
        end = replaced or due
        handles["alarm pending"] = ax.plot([x(when), x(end)], [y, y], color=PENDING, linewidth=5,
                                           solid_capstyle="butt")[0]
        if replaced is not None:
            handles["replaced: would have run here"] = ax.plot(
                [x(end), x(due)], [y, y], linestyle=":", color=REPLACED, linewidth=1.5, marker="o",
                markevery=[1], markerfacecolor="white", markersize=6)[0]
    ok = [x_lab(d["at"]) for d in log if d["outcome"] == "ok"]
    failed = [x_lab(d["at"]) for d in log if d["outcome"] != "ok" and "abandoned" not in d["outcome"]]
    if ok:
        handles["ran"] = ax.plot(ok, [lane["alarm ran"]] * len(ok), marker="$✓$", markersize=11, linestyle="",
                                 color=RAN)[0]
    if failed:
        handles["failed, will be retried"] = ax.plot(failed, [lane["alarm ran"]] * len(failed), "x", markersize=8,
                                                     markeredgewidth=2, color=FAILED)[0]
    for before, d in zip([None, *log], log, strict=False):
        if d["retryCount"] and before is not None:
            gap = x_lab(d["at"]) - x_lab(before["at"])
            ax.annotate(f"retry {d['retryCount']}\n+{gap:.1f} {unit}", (x_lab(d["at"]), lane["alarm ran"]),
                        textcoords="offset points", xytext=(0, 9), fontsize=7, ha="center", color="#555555")
    if sent:
        handles["e-mail"] = ax.plot(sent, [lane["e-mail sent"]] * len(sent), "s", markersize=7, color=MAIL)[0]
    ax.set_yticks(list(lane.values()), list(lane))
    ax.set_ylim(-0.7, len(names) - 0.2)
    ax.set_xlabel(xlabel or f"{UNIT_WORDS[unit]} since the lab started")
    ax.set_title(title or "Cart changes, alarms and e-mails")
    ax.grid(axis="x", alpha=0.3)
    ax.margins(x=0.06)
    if handles:
        fig.legend(list(handles.values()), list(handles), loc="outside lower center", ncol=min(len(handles), 4),
                   fontsize=8, frameon=False)
    plt.close(fig)
    return fig
