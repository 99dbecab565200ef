"""Traces as tidy pandas DataFrames, with the summaries every notebook uses (presentation layer).

``requests_frame`` has one row per request, ``hops_frame`` one row per hop; ``quantiles`` gives
latency at {0, 0.5, 0.95, 0.99, 1} and ``throughput`` completed requests per time window.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict

import pandas as pd

from dolab.trace import Trace

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
