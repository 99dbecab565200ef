"""What a run would cost on Cloudflare's Workers Paid plan: the cost meter (simulation layer).

A :class:`Usage` is what a design consumed in one month: Durable Object requests (HTTP, RPC and
alarm invocations), WebSocket messages (billed 20:1), billed duration in seconds (x 0.128 GB),
SQLite rows read and written, stored GB, and Worker requests at the front door.
:func:`bill` prices it with the table in ``data/prices.csv`` (source and date in
``data/SOURCES.md``):

>>> bill(Usage(requests=1_500_000, active_seconds=1_000_000)).total
5.075
>>> bill(Usage(requests=1_500_000, active_seconds=1_000_000), rounding="docs").total
5.15

``rounding="exact"`` prorates every unit, as an invoice does. ``rounding="docs"`` rounds each
billable quantity up to a whole price unit (a million requests, a million GB-s), which is the
arithmetic of the worked examples on Cloudflare's pricing page.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from dolab.runtime.errors import ConfigError
from dolab.sim.trace import Trace

DATA = Path(__file__).resolve().parents[2] / "data"
MEMORY_GB = 0.128  # every object is billed for 128 MB, whatever it uses; the docs count 0.128 GB
WS_MESSAGES_PER_REQUEST = 20  # incoming WebSocket messages are billed 20:1 (changelog 2024-04-01)
MONTH_SECONDS = 30 * 24 * 3600  # the docs' examples use 30-day months


@dataclass(frozen=True)
class Price:
    """One line of the price table: ``included`` free units a month, then ``price_usd`` per ``per``."""

    item: str
    included: float
    price_usd: float
    per: float
    unit: str


def load_prices(path: Path = DATA / "prices.csv") -> dict[str, Price]:
    """The Workers Paid price table, item -> :class:`Price`."""
    with path.open() as f:
        return {
            row["item"]: Price(row["item"], float(row["included"]), float(row["price_usd"]),
                               float(row["per"]), row["unit"])
            for row in csv.DictReader(f)
        }


@dataclass(frozen=True)
class Usage:
    """What one design used in a month (or in any period: see :meth:`per_month`)."""

    requests: float = 0.0
    ws_messages: float = 0.0
    active_seconds: float = 0.0
    rows_read: float = 0.0
    rows_written: float = 0.0
    stored_gb: float = 0.0
    worker_requests: float = 0.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int | float) or isinstance(value, bool) or not value >= 0:
                raise ConfigError(f"usage {f.name} must be a number >= 0, got {value!r}")

    def per_month(self, seconds: float) -> Usage:
        """Scale usage measured over ``seconds`` of traffic to a 30-day month.

        Stored data is a level, not a flow, so it is kept as it is.
        """
        if not seconds > 0:
            raise ConfigError(f"seconds must be > 0 to scale usage to a month, got {seconds!r}")
        k = MONTH_SECONDS / seconds
        return Usage(self.requests * k, self.ws_messages * k, self.active_seconds * k, self.rows_read * k,
                     self.rows_written * k, self.stored_gb, self.worker_requests * k)


@dataclass(frozen=True)
class BillLine:
    """One item of a bill: how much was used, how much of it is billable, and what it costs."""

    item: str
    used: float
    unit: str
    included: float
    billable: float
    cost_usd: float


@dataclass(frozen=True)
class Bill:
    lines: tuple[BillLine, ...]

    @property
    def total(self) -> float:
        return round(sum(line.cost_usd for line in self.lines), 6)

    def cost(self, item: str) -> float:
        """The cost of one item, e.g. ``bill.cost("do_duration")``."""
        for line in self.lines:
            if line.item == item:
                return line.cost_usd
        raise ConfigError(f"no item {item!r} on this bill; items: {', '.join(line.item for line in self.lines)}")


def billed_requests(usage: Usage) -> float:
    """Durable Object requests as billed: each WebSocket message counts 1/20 of a request."""
    return usage.requests + usage.ws_messages / WS_MESSAGES_PER_REQUEST


def bill(usage: Usage, prices: dict[str, Price] | None = None, rounding: str = "exact",
         minimum: bool = True) -> Bill:
    """Price ``usage`` for one month on Workers Paid (``minimum``: add the $5 subscription)."""
    if rounding not in ("exact", "docs"):
        raise ConfigError(f"rounding must be 'exact' or 'docs', got {rounding!r}")
    prices = prices or load_prices()
    used = {
        "do_requests": billed_requests(usage),
        "do_duration": usage.active_seconds * MEMORY_GB,
        "do_rows_read": usage.rows_read,
        "do_rows_written": usage.rows_written,
        "do_storage": usage.stored_gb,
        "worker_requests": usage.worker_requests,
    }
    lines = []
    if minimum:
        p = prices["minimum"]
        lines.append(BillLine("minimum", 1, p.unit, 0, 1, p.price_usd))
    for item, amount in used.items():
        p = prices[item]
        billable = max(0.0, amount - p.included)
        units = billable / p.per
        if rounding == "docs":
            units = math.ceil(round(units, 9))  # round() so 3.0000000001 units stay 3
        lines.append(BillLine(item, amount, p.unit, p.included, billable, round(units * p.price_usd, 6)))
    return Bill(tuple(lines))


def usage_of(source: Any) -> Usage:
    """The usage of a :class:`~dolab.runtime.lab.Lab` so far, or of a finished simulation's trace."""
    if isinstance(source, Trace):
        u = source.usage
        if not u:
            raise ConfigError("this trace has no usage; it did not come from simulate()")
        return Usage(requests=u["requests"], ws_messages=u["ws_messages"], active_seconds=u["active_seconds"],
                     rows_read=u["rows_read"], rows_written=u["rows_written"], stored_gb=u["stored_bytes"] / 1e9,
                     worker_requests=u["worker_requests"])
    stats = source.statistics()
    return Usage(requests=stats.requests, ws_messages=stats.ws_messages, active_seconds=stats.active_seconds,
                 rows_read=stats.rows_read, rows_written=stats.rows_written, stored_gb=source.stored_bytes() / 1e9)
