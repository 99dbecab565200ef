"""Trace records: plain, append-only rows of what happened and when (simulation layer).

A run produces three kinds of rows: one :class:`RequestRecord` per request, one :class:`Hop` per
step inside a request (network transit, queueing, CPU, storage, database query), and
:class:`Sample` rows of gauges over time (queue depth). Turning them into DataFrames is the
presentation layer's job (:mod:`dolab.view.report`); nothing here imports pandas.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dolab.runtime.context import current_region, current_request

__all__ = ["Hop", "RequestRecord", "Sample", "Trace", "current_region", "current_request"]


@dataclass(slots=True)
class RequestRecord:
    """One request from a user, start to end. Times are seconds on the lab clock."""

    id: int
    design: str
    user: str
    op: str
    client_region: str
    edge_region: str
    target_region: str = ""
    sent: float = 0.0
    done: float = float("nan")
    ok: bool = True
    error: str = ""
    storage_ops: int = 0
    round_trips: int = 0

    @property
    def latency_ms(self) -> float:
        return (self.done - self.sent) * 1000.0


@dataclass(slots=True)
class Hop:
    """One step of a request: ``kind`` is last_mile, network, queue, cpu, storage or db."""

    request: int
    kind: str
    start: float
    end: float
    src: str
    dst: str
    detail: str = ""

    @property
    def ms(self) -> float:
        return (self.end - self.start) * 1000.0


@dataclass(slots=True)
class Sample:
    """A gauge reading: e.g. ``name="db_queue"``, ``value=12`` at time ``t``."""

    t: float
    name: str
    value: float


@dataclass
class Trace:
    """Everything one run recorded, plus the settings that produced it."""

    requests: list[RequestRecord] = field(default_factory=list)
    hops: list[Hop] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    settings: dict[str, object] = field(default_factory=dict)
    usage: dict[str, float] = field(default_factory=dict)
    record_hops: bool = True

    def hop(self, kind: str, start: float, end: float, src: str, dst: str, detail: str = "") -> None:
        """Append a hop of the current request (no-op outside a request or with hops off)."""
        if self.record_hops:
            request = current_request.get()
            if request is not None:
                self.hops.append(Hop(request.id, kind, start, end, src, dst, detail))

    def sample(self, t: float, name: str, value: float) -> None:
        self.samples.append(Sample(t, name, value))
