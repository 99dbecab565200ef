#!/usr/bin/env python3
"""Derive data/coastline.csv from Natural Earth's 1:110m coastline GeoJSON.

Usage: python3 data/derive_coastline.py PATH/TO/ne_110m_coastline.geojson
Writes data/coastline.csv (``line,lon,lat``): one row per vertex, ``line`` numbering the polylines
0..n-1 in file order (LineString and MultiLineString parts alike), lon/lat rounded to 0.01 degrees,
consecutive duplicate points dropped. Deterministic (same GeoJSON, same bytes). See data/SOURCES.md.
"""

# Why: a tiny, dependency-free world outline, so matplotlib maps need no cartopy/geopandas and no
# download at run time; 0.01 degrees (about 1 km) is far finer than a 1:110m line can show.

import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path

OUT = Path(__file__).resolve().parent / "coastline.csv"


def polylines(geojson: dict) -> Iterator[list[list[float]]]:
    """Every polyline of the collection, in file order."""
    for feature in geojson["features"]:
        geometry = feature["geometry"]
        if geometry["type"] == "LineString":
            yield geometry["coordinates"]
        elif geometry["type"] == "MultiLineString":
            yield from geometry["coordinates"]
        else:
            raise ValueError(f"unexpected geometry type {geometry['type']!r}")


def fmt(value: float) -> str:
    return f"{round(value, 2) + 0.0:.2f}"  # "+ 0.0" turns -0.0 into 0.0


def main(source: Path) -> None:
    geojson = json.loads(source.read_text(encoding="utf-8"))
    with OUT.open("w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["line", "lon", "lat"])
        index = 0
        for coordinates in polylines(geojson):
            points: list[tuple[str, str]] = []
            for lon, lat, *_ in coordinates:
                point = (fmt(lon), fmt(lat))
                if not points or point != points[-1]:
                    points.append(point)
            if len(points) < 2:  # nothing left to draw at this precision
                continue
            out.writerows([index, lon, lat] for lon, lat in points)
            index += 1


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
