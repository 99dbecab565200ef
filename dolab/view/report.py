"""Traces as tidy pandas DataFrames, with the summaries every notebook uses (presentation layer).

``requests_frame`` has one row per request, ``hops_frame`` one row per hop; ``quantiles`` gives
latency at {0, 0.5, 0.95, 0.99, 1} and ``throughput`` completed requests per time window;
``bill_frame``, ``cost_frame`` and ``cost_table`` show the cost meter's answers (:mod:`dolab.sim.pricing`);
``progress_bar`` reports a long run's progress in one line.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict
from typing import Any

import pandas as pd

from dolab.sim.pricing import MONTH_SECONDS, Bill, bill, usage_of
from dolab.sim.trace import Trace

QUANTILES = (0.0, 0.5, 0.95, 0.99, 1.0)


def requests_frame(trace: Trace | Iterable[Trace]) -> pd.DataFrame:
    """One row per request: who, what, from where, to where, when, how long (``latency_ms``)."""
    traces = [trace] if isinstance(trace, Trace) else list(trace)
    rows = [asdict(r) for t in traces for r in t.requests]
    frame = pd.DataFrame(rows, columns=[
        "id", "design", "user", "op", "client_region", "edge_region", "target_region",
        "sent", "done", "ok", "error", "storage_ops", "round_trips",
    ])
    frame["latency_ms"] = (frame["done"] - frame["sent"]) * 1000.0
    return frame


def hops_frame(trace: Trace) -> pd.DataFrame:
    """One row per hop, with ``offset_ms`` from the start of its request (for waterfalls)."""
    columns = ["request", "kind", "start", "end", "src", "dst", "detail"]
    frame = pd.DataFrame([asdict(h) for h in trace.hops], columns=columns)
    sent = {r.id: r.sent for r in trace.requests}
    frame["ms"] = (frame["end"] - frame["start"]) * 1000.0
    frame["offset_ms"] = (frame["start"] - frame["request"].map(sent)) * 1000.0
    return frame


def median_request(trace: Trace) -> int:
    """The id of the request whose latency is closest to the run's median (for a waterfall)."""
    frame = requests_frame(trace)
    return int(frame.loc[(frame["latency_ms"] - frame["latency_ms"].median()).abs().idxmin(), "id"])


def samples_frame(trace: Trace) -> pd.DataFrame:
    """Gauge readings over time (e.g. ``db_queue``)."""
    return pd.DataFrame([asdict(s) for s in trace.samples], columns=["t", "name", "value"])


def quantiles(frame: pd.DataFrame, by: str | Sequence[str] | None = "design", column: str = "latency_ms",
              qs: Sequence[float] = QUANTILES) -> pd.DataFrame:
    """Latency quantiles, one row per group, columns ``p0 p50 p95 p99 p100`` plus ``count``."""
    def summary(values: pd.Series) -> pd.Series:
        out = values.quantile(list(qs))
        out.index = [f"p{round(q * 100):d}" for q in qs]
        out["count"] = len(values)
        return out

    ok = frame[frame["ok"]] if "ok" in frame else frame
    if by is None:
        return summary(ok[column]).to_frame().T
    return ok.groupby(by)[column].apply(summary).unstack()


def throughput(frame: pd.DataFrame, window: float = 1.0, by: str | None = "design") -> pd.DataFrame:
    """Requests completed per second, in windows of ``window`` seconds of lab time."""
    done = frame.dropna(subset=["done"]).copy()
    done["window"] = (done["done"] // window) * window
    keys = ["window"] if by is None else [by, "window"]
    counts = done.groupby(keys).size().rename("completed").reset_index()
    counts["per_second"] = counts["completed"] / window
    return counts


def clicks_frame(clicks: Iterable[object]) -> pd.DataFrame:
    """The cart demo's clicks (``CartDemo.log``) as a table, one row per click."""
    return pd.DataFrame([asdict(c) for c in clicks])  # type: ignore[call-overload]


def bill_frame(bill: Bill) -> pd.DataFrame:
    """A bill (``dolab.sim.pricing.bill``) as a table, one row per item, with a total row."""
    frame = pd.DataFrame([asdict(line) for line in bill.lines])
    total = pd.DataFrame([{"item": "total", "cost_usd": bill.total}])
    return pd.concat([frame, total], ignore_index=True)


def cost_frame(traces: Mapping[str, Trace], rounding: str = "exact") -> pd.DataFrame:
    """Each design's run scaled to a 30-day month and priced: one row per design, one column per item.

    The external database's own bill is not included (it is not Cloudflare's); its queries are
    shown in ``db_queries_per_month`` so the comparison stays honest.
    """
    rows = []
    for design, trace in traces.items():
        seconds = float(trace.usage["seconds"])
        priced = bill(usage_of(trace).per_month(seconds), rounding=rounding)
        row: dict[str, object] = {"design": design}
        row.update({line.item: line.cost_usd for line in priced.lines})
        row["total_usd"] = priced.total
        row["db_queries_per_month"] = trace.usage["db_queries"] * MONTH_SECONDS / seconds
        rows.append(row)
    return pd.DataFrame(rows).set_index("design")


ITEM_NAMES = {"minimum": "Workers Paid minimum", "do_requests": "Durable Object requests",
              "do_duration": "Durable Object duration", "do_rows_read": "SQLite rows read",
              "do_rows_written": "SQLite rows written", "do_storage": "stored data",
              "worker_requests": "Worker requests", "total_usd": "total"}


def cost_table(traces: Mapping[str, Trace]) -> pd.DataFrame:
    """:func:`cost_frame` for reading: one column per design (narrow enough for a notebook), one row
    per line item that costs something in some design, the total, and the database's queries a month
    (billed by its own provider, not by Cloudflare). Amounts are text: ``$5.00``, ``36,936,000``."""
    costs = cost_frame(traces)
    queries = costs.pop("db_queries_per_month")
    billed = costs.loc[:, (costs.round(2) != 0).any()]
    table = billed.T.map(lambda usd: f"${usd:,.2f}")
    table.index = [ITEM_NAMES.get(item, item) for item in table.index]
    table.loc["database queries a month (not Cloudflare's bill)"] = [f"{q:,.0f}" for q in queries]
    table.index.name = "US$ a month"
    return table


def progress_bar(desc: str = "simulating") -> Callable[[int, int, str], None]:
    """A progress line for :mod:`dolab.lessons.sweep`'s ``progress``, updated in place while it runs.

    It ends saying what ran and how long it took, and that last line is what a saved notebook keeps:
    a tqdm widget would show its first state (0 %) in every static render. Updates are sent at most
    four times a second. Outside a notebook each update is printed as a line.
    """
    from IPython import get_ipython
    from IPython.display import Pretty, display

    handle: Any = None
    started = last = 0.0

    def show(text: str) -> None:
        nonlocal handle
        if get_ipython() is None:  # type: ignore[no-untyped-call]  # a script: one line per update
            print(text)
        elif handle is None:
            handle = display(Pretty(text), display_id=True)  # type: ignore[no-untyped-call]
        else:
            handle.update(Pretty(text))  # type: ignore[no-untyped-call]

    def update(done: int, total: int, label: str) -> None:
        nonlocal started, last
        now = time.monotonic()
        if not started:
            started = last = now
            show(f"{desc}: starting…")
        if done >= total:
            show(f"{desc}: done, {now - started:.1f} s")
        elif now - last >= 0.25:
            last = now
            show(f"{desc}: {100 * done / max(total, 1):.0f} % ({label})")

    return update
