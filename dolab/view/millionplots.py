"""Charts and tables for chapter 10, a million objects (presentation layer).

:func:`plot_hot_key` draws :func:`~dolab.lessons.keys.hot_key` runs, one line per design: served vs
offered likes per second, p99, and the share of likes that failed. :func:`plot_staleness` draws what
a reader of a sharded counter saw while likes flowed. :func:`plot_day` draws
:func:`~dolab.lessons.million.a_day`: objects in memory and requests over 24 hours.
:func:`plot_estimates` draws the calculator's answer. The ``*_frame`` functions give the same
numbers as tables.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

from dolab.lessons.calculator import Estimate
from dolab.lessons.keys import GranularityResult, LoadResult, QueryCost
from dolab.lessons.million import DayRun, NamedCall
from dolab.sim.pricing import bill

COLOURS = ("#D55E00", "#0072B2", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")


def naming_frame(calls: Sequence[NamedCall]) -> pd.DataFrame:
    """One row per stub kind: first and second call in ms, the uniqueness check, where it landed."""
    rows: dict[str, dict[str, object]] = {}
    for c in calls:
        row = rows.setdefault(c.how, {"object in": c.region})
        row[f"call {c.call} ms"] = round(c.latency_ms)
        if c.call == 1:
            row["uniqueness check ms"] = round(c.uniqueness_ms)
    return pd.DataFrame.from_dict(rows, orient="index")[["call 1 ms", "uniqueness check ms", "call 2 ms", "object in"]]


def load_frame(runs: Sequence[LoadResult]) -> pd.DataFrame:
    """One row per run: offered and served per second, p50/p99 and the share that failed."""
    return pd.DataFrame([{"design": r.label, "offered /s": round(r.offered_per_s), "served /s": round(r.served_per_s),
                          "p50 ms": round(r.p50_ms), "p99 ms": round(r.p99_ms), "failed": f"{r.failed_share:.0%}"}
                         for r in runs])


def plot_hot_key(*designs: Sequence[LoadResult], title: str = "One post's likes") -> Figure:
    """Served per second, p99 and failures against the offered rate, one line per design."""
    fig, (served, p99, failed) = plt.subplots(1, 3, figsize=(11, 3.6), layout="constrained")
    top = max(r.offered_per_s for runs in designs for r in runs)
    served.plot([0, top], [0, top], color="#999999", linestyle=":", label="served = offered")
    for i, runs in enumerate(designs):
        colour, label = COLOURS[i % len(COLOURS)], runs[0].label
        x = [r.offered_per_s for r in runs]
        served.plot(x, [r.served_per_s for r in runs], "o-", color=colour, label=label)
        p99.plot(x, [r.p99_ms for r in runs], "o-", color=colour, label=label)
        failed.plot(x, [100 * r.failed_share for r in runs], "o-", color=colour, label=label)
    served.axhline(1000, color="#555555", linewidth=0.8, linestyle="--")
    served.annotate("one object: ~1,000 /s", (0, 1000), textcoords="offset points", xytext=(4, 4), fontsize=8)
    served.set(xlabel="likes offered per second", ylabel="likes served per second", title="throughput")
    p99.set(xlabel="likes offered per second", ylabel="p99 of successful likes (ms)", title="p99", yscale="log")
    failed.set(xlabel="likes offered per second", ylabel="% of likes that failed", title="overloaded errors",
               ylim=(-3, 100))
    served.legend(fontsize=8)
    for ax in (served, p99, failed):
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    plt.close(fig)  # returned, not also drawn by the inline backend
    return fig


def plot_staleness(run: LoadResult, title: str = "") -> Figure:
    """What a reader of the total saw (``run.probes``) beside the likes acknowledged by then."""
    fig, ax = plt.subplots(figsize=(8, 3.2), layout="constrained")
    ok = [(t, acked, seen) for t, acked, seen in run.probes if isinstance(seen, int | float)]
    ax.plot([t for t, _, _ in ok], [a for _, a, _ in ok], color=COLOURS[0], label="likes acknowledged to users")
    ax.step([t for t, _, _ in ok], [s for _, _, s in ok], where="post", color=COLOURS[1],
            label="total a reader saw (the aggregator)")
    ax.set(xlabel="seconds", ylabel="likes", title=title or f"{run.label}: the total lags behind")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    plt.close(fig)
    return fig


def granularity_frame(results: Sequence[GranularityResult], budget: float) -> pd.DataFrame:
    """One row per key function: objects, the busiest one's load, latency, errors, budgets broken, bill."""
    return pd.DataFrame([{
        "granularity": g.name, "objects": g.load.objects, "busiest object /s": round(g.busiest_per_s),
        "p50 ms": round(g.load.p50_ms), "p99 ms": round(g.load.p99_ms), "failed": f"{g.load.failed_share:.1%}",
        "companies over budget": len(g.over_budget(budget)),
        "overspent": sum(g.over_budget(budget).values()),
        "US$ / month": round(bill(g.load.usage, minimum=False).total),
    } for g in results]).set_index("granularity")


def queries_frame(costs: Sequence[QueryCost]) -> pd.DataFrame:
    """One row per (question, design): latency, Durable Object requests, rows read, database queries."""
    return pd.DataFrame([{"question": c.question, "design": c.design, "ms": round(c.ms), "DO requests": c.do_requests,
                          "rows read": c.rows_read, "db queries": c.db_queries} for c in costs]
                        ).set_index(["question", "design"])


def plot_day(day: DayRun, title: str = "") -> Figure:
    """Objects in memory, hour by hour (the mean and the most of the samples), and requests per hour."""
    fig, (mem, hourly) = plt.subplots(2, 1, figsize=(9, 5), sharex=True, layout="constrained",
                                      gridspec_kw={"height_ratios": [1.2, 1]})
    by_hour: list[list[int]] = [[] for _ in range(24)]
    for t, in_memory, *_ in day.samples:
        by_hour[min(23, int(t // 3600))].append(in_memory)
    x = [h + 0.5 for h in range(24)]
    mem.bar(x, [sum(v) / len(v) if v else 0 for v in by_hour], width=0.9, color=COLOURS[1], label="mean")
    mem.plot(x, [max(v, default=0) for v in by_hour], "_", color=COLOURS[0], markersize=12, markeredgewidth=2,
             label="most at once")
    mem.set(ylabel="objects in memory", title=title or (
        f"{day.users:,} carts, {day.objects:,} used that day: at most {day.peak_in_memory} in memory at once"))
    mem.legend(fontsize=8, loc="upper left")
    hourly.bar(x, day.hourly, width=0.9, color=COLOURS[2])
    hourly.set(xlabel="hour of the day (UTC)", ylabel="requests per hour", xlim=(0, 24), xticks=range(0, 25, 3))
    for ax in (mem, hourly):
        ax.grid(alpha=0.3)
    plt.close(fig)
    return fig


def estimates_frame(estimates: Sequence[Estimate]) -> pd.DataFrame:
    """The calculator's answer as a table."""
    def ms(v: float) -> str:
        return "overloaded" if math.isinf(v) else f"{v:,.0f}"

    return pd.DataFrame([{"design": e.design, "p50 ms": ms(e.p50_ms), "p99 ms": ms(e.p99_ms),
                          "busiest load": f"{e.busiest_load:.0%}", "US$ / month": f"{e.bill_usd:,.0f}",
                          "risks": "; ".join(e.risks) or "-"} for e in estimates]).set_index("design")


def plot_estimates(estimates: Sequence[Estimate], title: str = "") -> Figure:
    """p50/p99 (log scale; overloaded designs marked) and the monthly bill, design by design."""
    # fixed margins, not a constrained layout: the calculator redraws this on every change
    fig, (lat, cost) = plt.subplots(1, 2, figsize=(10, 3.4))
    fig.subplots_adjust(left=0.15, right=0.98, top=0.84 if title else 0.9, bottom=0.16, wspace=0.05)
    names = [e.design for e in estimates]
    y = range(len(names))
    finite = [v for e in estimates for v in (e.p50_ms, e.p99_ms) if not math.isinf(v)] or [1.0]
    cap = max(finite) * 3
    lat.barh(y, [cap if math.isinf(e.p99_ms) else e.p99_ms for e in estimates], color="#BBBBBB", label="p99")
    lat.barh(y, [cap if math.isinf(e.p50_ms) else e.p50_ms for e in estimates], height=0.5, color=COLOURS[1],
             label="p50")
    for i, e in enumerate(estimates):
        if e.overloaded:
            lat.annotate("overloaded", (cap, i), xytext=(-4, 0), textcoords="offset points", ha="right", va="center",
                         fontsize=8, color="white", fontweight="bold")
    wide = cap / min(finite) > 20  # a log scale only when the designs differ by orders of magnitude
    lat.set(yticks=list(y), yticklabels=names, xscale="log" if wide else "linear",
            xlabel="ms (log scale)" if wide else "ms")
    lat.set_title("latency", loc="left")
    lat.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    lat.xaxis.set_minor_formatter(NullFormatter())
    lat.invert_yaxis()
    lat.legend(fontsize=8, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=2, frameon=False)
    cost.barh(y, [e.cloudflare_usd for e in estimates], color=COLOURS[0], label="Cloudflare")
    cost.barh(y, [e.bill_usd - e.cloudflare_usd for e in estimates], left=[e.cloudflare_usd for e in estimates],
              color=COLOURS[4], label="database + cache")
    cost.set(yticks=list(y), yticklabels=[], xlabel="US$ per month")
    cost.set_title("bill", loc="left")
    cost.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    cost.invert_yaxis()
    cost.legend(fontsize=8, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=2, frameon=False)
    for ax in (lat, cost):
        ax.grid(axis="x", alpha=0.3)
    if title:
        fig.suptitle(title)
    plt.close(fig)
    return fig
