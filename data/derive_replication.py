#!/usr/bin/env python3
"""Derive data/replication.csv: how long the storage followers of an object in each region take
to confirm a write.

Usage: python data/derive_replication.py RAW_FOLDER

Cloudflare confirms a write of a SQLite-backed Durable Object once 3 of its 5 "durability
followers", on servers in other nearby data centres, have stored it; only then does the output
gate let the reply go (see data/SOURCES.md, "Replication"). Which data centres hold followers is
not published. dolab assumes any Cloudflare data centre near the object's may, and models the
wait as the round trip to the third-nearest other one: the great-circle distance there and back
at 200 km/ms, times 1.68 (the RTT matrix's own median ratio of measured to physics-bound RTT, as
in dolab.sim.latency), and at least 1 ms.

Inputs in RAW_FOLDER (unchanged, see data/SOURCES.md): where.durableobjects.live.json (which
colos run Durable Objects: the object's own data centre is the nearest of those) and
cloudflare-iata-full.json (all colos, with coordinates). Output: one row per
region of data/regions.csv with the nearest hosting colo, its five nearest hosting neighbours
and the modelled quorum round trip. Deterministic: reruns reproduce the file byte for byte.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
INFLATION = 1.68
SPEED_KM_PER_MS = 200.0
FOLLOWERS, QUORUM = 5, 3


def km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in km (haversine, Earth radius 6,371 km)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def main(raw: Path) -> None:
    where = json.loads((raw / "where.durableobjects.live.json").read_text())
    colos = json.loads((raw / "cloudflare-iata-full.json").read_text())
    hosts = sorted({h for colo in where["colos"].values() for h in colo["hosts"]})  # where objects run
    at = {c: (v["lat"], v["lng"]) for c, v in colos.items() if v["lat"] is not None and v["lng"] is not None}
    rows = []
    with (HERE / "regions.csv").open() as f:
        for region in csv.DictReader(f):
            here = (float(region["lat"]), float(region["lon"]))
            home = min(hosts, key=lambda h: (km(here, at[h]), h))
            near = sorted((c for c in at if c != home and km(at[home], at[c]) > 0),
                          key=lambda c: (km(at[home], at[c]), c))[:FOLLOWERS]
            quorum_km = km(at[home], at[near[QUORUM - 1]])
            rtt = max(1.0, 2 * quorum_km / SPEED_KM_PER_MS * INFLATION)
            rows.append([region["region"], home, " ".join(near), f"{rtt:.1f}"])
    with (HERE / "replication.csv").open("w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["region", "host_colo", "followers", "quorum_rtt_ms"])
        writer.writerows(rows)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
