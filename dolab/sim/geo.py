"""Regions of the world and the measured round-trip times between them (simulation layer).

Regions are the 54 Azure regions of a published P50 RTT matrix (data/rtt_ms.csv), with the
coordinates of a nearby Cloudflare colo (data/regions.csv). Location hints map to the regions
where Cloudflare's hinted Durable Objects actually sit (data/location_hints.csv). Sources,
licences and dates are in data/SOURCES.md.
"""

from __future__ import annotations

import csv
import functools
import math
from dataclasses import dataclass
from pathlib import Path

from dolab.runtime.errors import ConfigError

DATA = Path(__file__).resolve().parents[2] / "data"
EARTH_RADIUS_KM = 6371.0
FIBRE_KM_PER_MS = 200.0  # light in silica fibre: about 2/3 c, rounded (data/SOURCES.md)


@dataclass(frozen=True)
class Region:
    """One place where users, workers, objects or databases can be."""

    code: str
    name: str
    lat: float
    lon: float
    continent: str


def great_circle_km(a: Region, b: Region) -> float:
    """Haversine distance between two regions, in km."""
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def physics_rtt_ms(a: Region, b: Region) -> float:
    """The physical lower bound of a round trip: there and back at 200 km/ms."""
    return 2 * great_circle_km(a, b) / FIBRE_KM_PER_MS


class Geography:
    """Regions, the measured RTT matrix, and the location-hint table."""

    def __init__(self, regions: dict[str, Region], rtt: dict[tuple[str, str], float], hints: dict[str, str],
                 quorum_ms: dict[str, float] | None = None) -> None:
        self.regions = regions
        self.rtt = rtt
        self.hints = hints
        self.quorum_ms = quorum_ms or {}  # write confirmation by the storage followers, per region

    @classmethod
    @functools.cache
    def load(cls, folder: Path = DATA) -> Geography:
        """The bundled data (cached: loading it once per process is enough)."""
        with (folder / "regions.csv").open() as f:
            regions = {
                r["region"]: Region(r["region"], r["name"], float(r["lat"]), float(r["lon"]), r["continent"])
                for r in csv.DictReader(f)
            }
        with (folder / "rtt_ms.csv").open() as f:
            rtt = {(r["from"], r["to"]): float(r["rtt_ms"]) for r in csv.DictReader(f)}
        with (folder / "location_hints.csv").open() as f:
            hints = {r["hint"]: r["region"] for r in csv.DictReader(f)}
        with (folder / "replication.csv").open() as f:
            quorum = {r["region"]: float(r["quorum_rtt_ms"]) for r in csv.DictReader(f)}
        return cls(regions, rtt, hints, quorum)

    def region(self, code: str) -> Region:
        """The region called ``code`` (e.g. ``"eastus"``); a clear error for unknown codes."""
        try:
            return self.regions[code]
        except KeyError:
            close = sorted(self.regions, key=lambda c: _distance(code, c))[:3]
            raise ConfigError(f"unknown region {code!r}; did you mean {', '.join(close)}? (see geo.regions)") from None

    def hint_region(self, hint: str) -> Region:
        """Where Durable Objects created with ``locationHint=hint`` live."""
        if hint not in self.hints:
            raise ConfigError(f"unknown locationHint {hint!r}; valid hints: {', '.join(self.hints)}")
        return self.regions[self.hints[hint]]

    @property
    def do_regions(self) -> list[Region]:
        """Regions that host Durable Objects (those the location hints land in)."""
        return [self.regions[code] for code in dict.fromkeys(self.hints.values())]

    def measured_rtt_ms(self, a: str, b: str) -> float | None:
        """The measured P50 RTT, averaged over both directions; ``None`` if not measured."""
        there, back = self.rtt.get((a, b)), self.rtt.get((b, a))
        if there is None or back is None:
            return there if back is None else back
        return (there + back) / 2


def _distance(a: str, b: str) -> int:
    """A tiny edit distance, for "did you mean" suggestions."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


@functools.cache
def coastline(folder: Path = DATA) -> tuple[tuple[tuple[float, float], ...], ...]:
    """The world's coastline as polylines of (lon, lat): Natural Earth 1:110m, public domain."""
    lines: dict[int, list[tuple[float, float]]] = {}
    with (folder / "coastline.csv").open() as f:
        for r in csv.DictReader(f):
            lines.setdefault(int(r["line"]), []).append((float(r["lon"]), float(r["lat"])))
    return tuple(tuple(points) for _, points in sorted(lines.items()))
