#!/usr/bin/env python3
"""Derive data/regions.csv and data/rtt_ms.csv from the raw latency sources.

Usage: python data/derive_latency.py RAW_FOLDER
Also writes data/region_weights.csv: how many Cloudflare colos have each region as their nearest
(a proxy for where users are, used by "colo-density" workloads).
RAW_FOLDER holds the three files described in data/SOURCES.md, unchanged:
azure-network-latency.md, cloudflare-iata-full.json (and where.durableobjects.live.json, not used
here). The output is deterministic; rerunning it reproduces the committed files byte for byte.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Azure region -> (short code, IATA proxy for its coordinates, continent group). Proxies follow
# data/SOURCES.md section "Regions", itself from Azure's regions list (CC-BY-4.0).
REGIONS = {
    "Australia Central": ("australiacentral", "CBR", "Oceania"),
    "Australia Central 2": ("australiacentral2", "CBR", "Oceania"),
    "Australia East": ("australiaeast", "SYD", "Oceania"),
    "Australia Southeast": ("australiasoutheast", "MEL", "Oceania"),
    "Austria East": ("austriaeast", "VIE", "Europe"),
    "Belgium Central": ("belgiumcentral", "BRU", "Europe"),
    "Brazil South": ("brazilsouth", "GRU", "South America"),
    "Canada Central": ("canadacentral", "YYZ", "North America"),
    "Canada East": ("canadaeast", "YUL", "North America"),
    "Central India": ("centralindia", "BOM", "Asia"),
    "Central US": ("centralus", "OMA", "North America"),
    "Denmark East": ("denmarkeast", "CPH", "Europe"),
    "East Asia": ("eastasia", "HKG", "Asia"),
    "East US": ("eastus", "IAD", "North America"),
    "East US 2": ("eastus2", "IAD", "North America"),
    "France Central": ("francecentral", "CDG", "Europe"),
    "France South": ("francesouth", "MRS", "Europe"),
    "Germany North": ("germanynorth", "TXL", "Europe"),
    "Germany West Central": ("germanywestcentral", "FRA", "Europe"),
    "Indonesia Central": ("indonesiacentral", "CGK", "Asia"),
    "Israel Central": ("israelcentral", "TLV", "Middle East"),
    "Italy North": ("italynorth", "MXP", "Europe"),
    "Japan East": ("japaneast", "NRT", "Asia"),
    "Japan West": ("japanwest", "KIX", "Asia"),
    "Jio India West": ("jioindiawest", "AMD", "Asia"),
    "Korea Central": ("koreacentral", "ICN", "Asia"),
    "Korea South": ("koreasouth", "ICN", "Asia"),
    "Malaysia West": ("malaysiawest", "KUL", "Asia"),
    "Mexico Central": ("mexicocentral", "QRO", "North America"),
    "New Zealand North": ("newzealandnorth", "AKL", "Oceania"),
    "North Central US": ("northcentralus", "ORD", "North America"),
    "North Europe": ("northeurope", "DUB", "Europe"),
    "Norway East": ("norwayeast", "OSL", "Europe"),
    "Norway West": ("norwaywest", "OSL", "Europe"),
    "Poland Central": ("polandcentral", "WAW", "Europe"),
    "Qatar Central": ("qatarcentral", "DOH", "Middle East"),
    "South Africa North": ("southafricanorth", "JNB", "Africa"),
    "South Africa West": ("southafricawest", "CPT", "Africa"),
    "South Central US": ("southcentralus", "SAT", "North America"),
    "South India": ("southindia", "MAA", "Asia"),
    "Southeast Asia": ("southeastasia", "SIN", "Asia"),
    "Spain Central": ("spaincentral", "MAD", "Europe"),
    "Sweden Central": ("swedencentral", "ARN", "Europe"),
    "Switzerland North": ("switzerlandnorth", "ZRH", "Europe"),
    "Switzerland West": ("switzerlandwest", "GVA", "Europe"),
    "UAE Central": ("uaecentral", "DXB", "Middle East"),
    "UAE North": ("uaenorth", "DXB", "Middle East"),
    "UK South": ("uksouth", "LHR", "Europe"),
    "UK West": ("ukwest", "LHR", "Europe"),
    "West Central US": ("westcentralus", "DEN", "North America"),
    "West Europe": ("westeurope", "AMS", "Europe"),
    "West US": ("westus", "SJC", "North America"),
    "West US 2": ("westus2", "SEA", "North America"),
    "West US 3": ("westus3", "PHX", "North America"),
}


def main(raw: Path) -> None:
    text = (raw / "azure-network-latency.md").read_text()
    start = text.index("```csv") + len("```csv")
    rows = list(csv.reader(text[start : text.index("```", start)].strip().splitlines()))
    header, body = rows[0][1:], rows[1:]
    if header != [r[0] for r in body] or set(header) != set(REGIONS):
        sys.exit("unexpected region list in the matrix; update REGIONS")
    colos = json.loads((raw / "cloudflare-iata-full.json").read_text())

    with (HERE / "regions.csv").open("w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["region", "name", "lat", "lon", "proxy_iata", "proxy_place", "continent"])
        for name in header:
            code, iata, continent = REGIONS[name]
            colo = colos[iata]
            out.writerow([code, name, f"{colo['lat']:.4f}", f"{colo['lng']:.4f}", iata, colo["place"], continent])

    with (HERE / "rtt_ms.csv").open("w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["from", "to", "rtt_ms"])
        for name, row in zip(header, body, strict=True):
            for other, cell in zip(header, row[1:], strict=True):
                if cell.strip():
                    out.writerow([REGIONS[name][0], REGIONS[other][0], int(cell)])


    coords = {}
    for name in header:
        code, iata, _ = REGIONS[name]
        coords[code] = (colos[iata]["lat"], colos[iata]["lng"])
    counts = dict.fromkeys(coords, 0)
    for iata in sorted(colos):
        colo = colos[iata]
        if colo.get("lat") is None or colo.get("lng") is None:
            continue  # the LOCAL pseudo-entry
        nearest = min(coords, key=lambda c: (_km(coords[c], (colo["lat"], colo["lng"])), c))
        counts[nearest] += 1
    with (HERE / "region_weights.csv").open("w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["region", "colos"])
        for code, n in counts.items():
            out.writerow([code, n])


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(b[1] - a[1]) / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
