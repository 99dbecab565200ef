"""A world map of users, Durable Objects, the database and the round trips between them (presentation).

Plain matplotlib on an equirectangular projection (longitude across, latitude up) over the
public-domain Natural Earth coastline in ``data/coastline.csv``: no map package to install.
Lines are coloured by round-trip time with ``viridis``, which stays readable in greyscale and for
colour-blind readers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import matplotlib.pyplot as plt
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


def plot_world_map(links: dict[tuple[str, str], int], *, db_region: str | None = None,
                   objects: Iterable[str] = (), title: str = "", max_rtt_ms: float = 300.0) -> Figure:
    """Users (grey dots, sized by requests), Durable Objects (blue squares), the database (star).

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
            ax.plot([a.lon, b.lon], [a.lat, b.lat], color=cmap(norm(rtt)), linewidth=1.6, alpha=0.85, zorder=2)
    top = max(users.values(), default=1)
    for code, count in users.items():
        r = geo.region(code)
        ax.scatter(r.lon, r.lat, s=20 + 180 * count / top, color="#555555", edgecolor="white", zorder=3)
    for code in set(objects):
        r = geo.region(code)
        ax.scatter(r.lon, r.lat, marker="s", s=70, color="#0072B2", edgecolor="white", zorder=4)
    if db_region:
        r = geo.region(db_region)
        ax.scatter(r.lon, r.lat, marker="*", s=320, color="#D55E00", edgecolor="black", zorder=5)
    # Legend proxies: the markers' meaning, whatever this map happens to show.
    ax.scatter([], [], color="#555555", label="users (size: requests)")
    ax.scatter([], [], marker="s", color="#0072B2", label="Durable Object")
    ax.scatter([], [], marker="*", s=120, color="#D55E00", label="database")
    ax.legend(loc="lower left", fontsize=8)
    fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.7,
                 label="round-trip time, ms (measured; capped colour)")
    ax.set_xlim(-180, 180)
    ax.set_ylim(-60, 85)
    ax.set_aspect("equal")
    ax.set_xlabel("longitude, degrees")
    ax.set_ylabel("latitude, degrees")
    ax.set_title(title or "Who talks to whom, and how far")
    plt.close(fig)
    return fig
