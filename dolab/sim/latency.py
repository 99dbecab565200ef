"""How long a round trip takes between two places (simulation layer).

``LatencyModel.rtt_ms(a, b)`` is, in order of preference:

1. the same region: ``same_region_ms`` (the matrix has no diagonal; default 1 ms);
2. the measured P50 RTT of the Azure matrix, averaged over both directions;
3. otherwise the physics bound (great-circle distance at 200 km/ms, there and back) times
   ``inflation`` (default 1.68, the median measured/bound ratio of the matrix itself; the
   literature's rule of thumb for Internet paths is 2.1 -- see data/SOURCES.md).

``sample_ms`` adds seeded jitter on top. Jitter only ever adds time, so no sampled RTT is below
the physics bound. A user additionally pays ``last_mile_ms`` to reach the nearest edge.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from dolab.runtime.errors import ConfigError
from dolab.sim.geo import Geography, physics_rtt_ms

JITTERS = ("none", "exponential", "uniform")


@dataclass(frozen=True)
class LatencyModel:
    """Base RTTs from data, plus a named jitter distribution drawn from the lab's generator.

    Args:
        same_region_ms: RTT between two machines in one region.
        inflation: factor over the physics bound for pairs the matrix does not cover.
        last_mile_ms: RTT between a user and the nearest edge (an assumption; access
            networks vary from ~5 ms on fibre to 30+ ms on mobile).
        jitter: ``"none"``, ``"exponential"`` (mean ``jitter_fraction`` x base) or
            ``"uniform"`` (0 to 2 x ``jitter_fraction`` x base).
        jitter_fraction: size of the jitter relative to the base RTT.
    """

    same_region_ms: float = 1.0
    inflation: float = 1.68
    last_mile_ms: float = 10.0
    jitter: str = "exponential"
    jitter_fraction: float = 0.05

    def __post_init__(self) -> None:
        if self.jitter not in JITTERS:
            raise ConfigError(f"unknown jitter {self.jitter!r}; choose one of {', '.join(JITTERS)}")
        for name in ("same_region_ms", "last_mile_ms", "jitter_fraction"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        if self.inflation < 1:
            raise ConfigError(f"inflation must be >= 1 (nothing beats the physics bound), got {self.inflation!r}")

    def rtt_ms(self, geo: Geography, a: str, b: str) -> float:
        """The base (median) RTT between regions ``a`` and ``b``, in ms."""
        if a == b:
            return self.same_region_ms
        measured = geo.measured_rtt_ms(a, b)
        if measured is not None:
            return measured
        return physics_rtt_ms(geo.region(a), geo.region(b)) * self.inflation

    def bound_ms(self, geo: Geography, a: str, b: str) -> float:
        """The physics lower bound of the same round trip, for plotting beside it."""
        return physics_rtt_ms(geo.region(a), geo.region(b))

    def sample_ms(self, base_ms: float, rng: random.Random) -> float:
        """``base_ms`` plus one jitter draw (never less than ``base_ms``)."""
        if self.jitter == "none" or self.jitter_fraction == 0 or base_ms == 0:
            return base_ms
        scale = self.jitter_fraction * base_ms
        if self.jitter == "exponential":
            return base_ms + rng.expovariate(1.0 / scale)
        return base_ms + rng.uniform(0.0, 2.0 * scale)
