"""A world map of users, Durable Objects, the database and the round trips between them (presentation).

Plain matplotlib on an equirectangular projection (longitude across, latitude up) over the
public-domain Natural Earth coastline in ``data/coastline.csv``: no map package to install.
Lines follow great circles, the shortest way over the globe (Virginia to Japan goes over Canada
and Alaska, not Africa); a line that crosses the date line is cut there and goes on at the other
edge. They are coloured by round-trip time with ``viridis``, which stays readable in greyscale and
for colour-blind readers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from dolab.sim.geo import Geography, coastline
from dolab.sim.latency import LatencyModel


def links_of(requests: Iterable[Any], db_region: str | None = None) -> dict[tuple[str, str], int]:
    """(client region, region served from) -> request count, from a trace's request records.

    Requests with no Durable Object target went to ``db_region`` (the external database).
    """
    links: dict[tuple[str, str], int] = {}
    for r in requests:
        target = r.target_region or db_region
        if target:
            key = (r.client_region, target)
            links[key] = links.get(key, 0) + 1
    return links


def great_circle(lon1: float, lat1: float, lon2: float, lat2: float,
                 points: int = 64) -> list[tuple[list[float], list[float]]]:
    """The great-circle arc between two places as (longitudes, latitudes) pieces, cut at the date line."""
    a, b = (np.radians([lon1, lat1]), np.radians([lon2, lat2]))

    def vector(lon: float, lat: float) -> Any:
        return np.array([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])

    u, v = vector(*a), vector(*b)
    angle = float(np.arccos(np.clip(np.dot(u, v), -1.0, 1.0)))
    if angle < 1e-9:
        return [([lon1], [lat1])]
    t = np.linspace(0.0, 1.0, points)[:, None]
    path = (np.sin((1 - t) * angle) * u + np.sin(t * angle) * v) / np.sin(angle)  # spherical interpolation
    lons = np.degrees(np.arctan2(path[:, 1], path[:, 0]))
    lats = np.degrees(np.arcsin(np.clip(path[:, 2], -1.0, 1.0)))
    pieces, start = [], 0
    for i in range(1, points):
        if abs(lons[i] - lons[i - 1]) > 180:  # crossed the date line: start a new piece
            pieces.append((list(lons[start:i]), list(lats[start:i])))
            start = i
    pieces.append((list(lons[start:]), list(lats[start:])))
    return pieces


def plot_world_map(links: dict[tuple[str, str], int], *, db_region: str | None = None,
                   objects: Iterable[str] = (), title: str = "", max_rtt_ms: float = 300.0) -> Figure:
    """Users (grey dots, sized by requests), Durable Objects (blue squares), the database (star).

    The legend lists only what is drawn.

    ``links`` maps (user region, serving region) to a request count; each is drawn as a line
    coloured by the measured round-trip time between the two regions.
    """
    geo, latency = Geography.load(), LatencyModel()
    fig, ax = plt.subplots(figsize=(10, 5.2), layout="constrained")
    for line in coastline():
        ax.plot([p[0] for p in line], [p[1] for p in line], color="#BBBBBB", linewidth=0.6, zorder=1)
    cmap, norm = plt.get_cmap("viridis"), Normalize(0, max_rtt_ms)
    users: dict[str, int] = {}
    for (src, dst), count in sorted(links.items()):
        users[src] = users.get(src, 0) + count
        a, b = geo.region(src), geo.region(dst)
        if src != dst:
            rtt = latency.rtt_ms(geo, src, dst)
            for lons, lats in great_circle(a.lon, a.lat, b.lon, b.lat):
                ax.plot(lons, lats, color=cmap(norm(rtt)), linewidth=1.6, alpha=0.85, zorder=2)
    top = max(users.values(), default=1)
    for code, count in users.items():
        r = geo.region(code)
        ax.scatter(r.lon, r.lat, s=20 + 180 * count / top, color="#555555", edgecolor="white", zorder=3)
    placed = set(objects)
    for code in placed:
        r = geo.region(code)
        ax.scatter(r.lon, r.lat, marker="s", s=70, color="#0072B2", edgecolor="white", zorder=4)
    if db_region:
        r = geo.region(db_region)
        ax.scatter(r.lon, r.lat, marker="*", s=320, color="#D55E00", edgecolor="black", zorder=5)
    # Legend proxies: only for what this map draws.
    if users:
        ax.scatter([], [], color="#555555", label="users (size: requests)")
    if placed:
        ax.scatter([], [], marker="s", color="#0072B2", label="Durable Objects (one square per region)")
    if db_region:
        ax.scatter([], [], marker="*", s=120, color="#D55E00", label="database")
    ax.legend(loc="lower left", fontsize=8)
    fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.7,
                 label="round-trip time, ms (measured; capped colour)")
    ax.set_xlim(-180, 180)
    ax.set_ylim(-60, 90)
    ax.set_aspect("equal")
    ax.set_xlabel("longitude, degrees")
    ax.set_ylabel("latitude, degrees")
    ax.set_title(title or "Who talks to whom, and how far")
    plt.close(fig)
    return fig
