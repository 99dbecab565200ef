"""Who sends what, from where, and when (simulation layer).

A :class:`Workload` describes users spread over regions, a request mix, and either an
open-loop arrival rate (requests arrive at random, whatever the system's speed, as a Poisson
process) or a closed loop (each user waits for its answer, thinks, then sends again). With
``zipf > 0`` some users are much more active than others. All draws use the lab's generator.
"""

from __future__ import annotations

import bisect
import csv
import itertools
import random
from dataclasses import dataclass, field

from dolab.runtime.errors import ConfigError
from dolab.sim.geo import DATA, Geography


def _default_mix() -> dict[str, float]:
    return {"add": 0.5, "view": 0.4, "remove": 0.1}


@dataclass(frozen=True)
class Workload:
    """The traffic of one run.

    Args:
        users: how many distinct users (each a cart, each a Durable Object in the DO design).
        regions: ``"colo-density"`` (users where Cloudflare has data centres), ``"uniform"``
            over all regions, one region code such as ``"australiaeast"``, or a dict of
            region code -> weight.
        mix: operation -> probability, over ``add``, ``view`` and ``remove``.
        rate: open loop: total requests per second (Poisson arrivals).
        think_time: closed loop instead: mean seconds a user waits between answer and next request.
        duration: simulated seconds during which requests are sent.
        zipf: skew of user popularity (0 = every user equally active; 1.0+ = a few hot users).
        ops: storage operations per request.
        skus: how many distinct products users add.
    """

    users: int = 100
    regions: str | dict[str, float] = "colo-density"
    mix: dict[str, float] = field(default_factory=_default_mix)
    rate: float | None = 10.0
    think_time: float | None = None
    duration: float = 60.0
    zipf: float = 0.0
    ops: int = 2
    skus: int = 20

    def __post_init__(self) -> None:
        if not isinstance(self.users, int) or self.users < 1:
            raise ConfigError(f"users must be an int >= 1, got {self.users!r}")
        if (self.rate is None) == (self.think_time is None):
            raise ConfigError("give exactly one of rate= (open loop) or think_time= (closed loop)")
        if self.rate is not None and self.rate <= 0:
            raise ConfigError(f"rate must be > 0 requests per second, got {self.rate!r}")
        if self.think_time is not None and self.think_time < 0:
            raise ConfigError(f"think_time must be >= 0 seconds, got {self.think_time!r}")
        if self.duration <= 0:
            raise ConfigError(f"duration must be > 0 seconds, got {self.duration!r}")
        if self.zipf < 0:
            raise ConfigError(f"zipf must be >= 0, got {self.zipf!r}")
        if not isinstance(self.ops, int) or self.ops < 1:
            raise ConfigError(f"ops must be an int >= 1, got {self.ops!r}")
        unknown = set(self.mix) - {"add", "view", "remove"}
        if unknown or not self.mix or any(p < 0 for p in self.mix.values()) or sum(self.mix.values()) <= 0:
            raise ConfigError(f"mix must weight add/view/remove with non-negative numbers, got {self.mix!r}")


def region_weights(geo: Geography, regions: str | dict[str, float]) -> dict[str, float]:
    """Turn a workload's ``regions`` setting into region code -> weight."""
    if isinstance(regions, dict):
        for code in regions:
            geo.region(code)
        return dict(regions)
    if regions == "uniform":
        return dict.fromkeys(geo.regions, 1.0)
    if regions == "colo-density":
        with (DATA / "region_weights.csv").open() as f:
            return {r["region"]: float(r["colos"]) for r in csv.DictReader(f) if float(r["colos"]) > 0}
    return {geo.region(regions).code: 1.0}


class Chooser:
    """Weighted choices from the lab's generator, with precomputed cumulative weights."""

    def __init__(self, items: list[str], weights: list[float], rng: random.Random) -> None:
        self.items = items
        self.cum = list(itertools.accumulate(weights))
        self.rng = rng

    def __call__(self) -> str:
        return self.items[bisect.bisect_right(self.cum, self.rng.random() * self.cum[-1])]


def user_chooser(workload: Workload, rng: random.Random) -> Chooser:
    """Pick which user sends the next request (Zipf-skewed if ``zipf > 0``)."""
    names = [f"user-{i}" for i in range(workload.users)]
    weights = [1.0 / (rank + 1) ** workload.zipf for rank in range(workload.users)]
    return Chooser(names, weights, rng)
