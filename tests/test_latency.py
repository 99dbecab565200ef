"""Geography and the latency model: measured where measured, never below physics."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from dolab.runtime.errors import LabError
from dolab.sim.geo import Geography, Region, great_circle_km, physics_rtt_ms
from dolab.sim.latency import LatencyModel


@pytest.fixture(scope="module")
def geo() -> Geography:
    return Geography.load()


def test_data_has_54_regions_and_a_full_matrix(geo: Geography) -> None:
    assert len(geo.regions) == 54
    assert len(geo.rtt) == 54 * 53
    assert geo.region("eastus").name == "East US"


def test_great_circle_matches_known_distances(geo: Geography) -> None:
    # Amsterdam <-> Washington Dulles is about 6,200 km (data/SOURCES.md table)
    assert great_circle_km(geo.region("westeurope"), geo.region("eastus")) == pytest.approx(6207, abs=15)
    assert physics_rtt_ms(geo.region("westeurope"), geo.region("eastus")) == pytest.approx(62.1, abs=0.2)


def test_measured_rtt_is_used_and_averaged_over_directions(geo: Geography) -> None:
    model = LatencyModel()
    there, back = geo.rtt[("westeurope", "eastus")], geo.rtt[("eastus", "westeurope")]
    assert model.rtt_ms(geo, "westeurope", "eastus") == (there + back) / 2
    assert model.rtt_ms(geo, "eastus", "eastus") == model.same_region_ms


def test_no_measured_pair_is_below_the_physics_bound(geo: Geography) -> None:
    model = LatencyModel()
    for a, b in geo.rtt:
        assert model.rtt_ms(geo, a, b) >= model.bound_ms(geo, a, b), (a, b)


def test_sampled_rtts_never_go_below_the_bound(geo: Geography) -> None:
    rng = random.Random(0)
    for jitter in ("none", "exponential", "uniform"):
        model = LatencyModel(jitter=jitter, jitter_fraction=0.2)
        for a, b in list(geo.rtt)[::97]:
            base = model.rtt_ms(geo, a, b)
            samples = [model.sample_ms(base, rng) for _ in range(50)]
            assert min(samples) >= base >= model.bound_ms(geo, a, b)
            if jitter != "none":
                assert max(samples) > base


def test_unmeasured_pairs_use_the_bound_times_inflation(geo: Geography) -> None:
    regions = dict(geo.regions)
    regions["moon"] = Region("moon", "Moon base", -33.0, 151.0, "Oceania")
    bigger = Geography(regions, geo.rtt, geo.hints)
    model = LatencyModel(inflation=2.1)
    expected = physics_rtt_ms(regions["moon"], regions["eastus"]) * 2.1
    assert model.rtt_ms(bigger, "moon", "eastus") == pytest.approx(expected)


def test_jitter_follows_the_seed() -> None:
    model = LatencyModel(jitter="exponential")
    a = [model.sample_ms(100, random.Random(5)) for _ in range(3)]
    b = [model.sample_ms(100, random.Random(5)) for _ in range(3)]
    assert a == b


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"jitter": "gaussian"}, "unknown jitter 'gaussian'; choose one of none, exponential, uniform"),
        ({"inflation": 0.5}, r"inflation must be >= 1 \(nothing beats the physics bound\), got 0.5"),
        ({"last_mile_ms": -1}, "last_mile_ms must be >= 0, got -1"),
    ],
)
def test_bad_latency_settings(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(LabError, match=message):
        LatencyModel(**kwargs)  # type: ignore[arg-type]


def test_unknown_region_and_hint_errors(geo: Geography) -> None:
    with pytest.raises(LabError, match=r"unknown region 'eastsu'; did you mean eastus"):
        geo.region("eastsu")
    with pytest.raises(LabError, match="unknown locationHint 'mars'"):
        geo.hint_region("mars")
    assert geo.hint_region("sam").code == "eastus"  # DOs do not spawn in South America
    assert geo.hint_region("oc").code == "australiaeast"


def test_every_data_file_has_its_provenance_in_sources_md() -> None:
    """Each shipped data file, and the script that derives it, is named in data/SOURCES.md."""
    data = Path(__file__).resolve().parent.parent / "data"
    sources = (data / "SOURCES.md").read_text(encoding="utf-8")
    missing = [p.name for p in sorted(data.iterdir()) if p.name != "SOURCES.md" and f"`{p.name}" not in sources
               and f"data/{p.name}" not in sources]
    assert not missing, f"data files without a source, licence and date in data/SOURCES.md: {missing}"
