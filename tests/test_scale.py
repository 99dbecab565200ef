"""Chapter 05's pieces: the sweep, hot keys, the object lifecycle, gauges, charts and the slider."""

from __future__ import annotations

import pytest
from matplotlib.figure import Figure

from dolab import LabError
from dolab.lessons.sweep import FULL_USERS, QUICK_USERS, hot_keys, lifecycle, scale_sweep, sweep_users
from dolab.sim.simulate import simulate
from dolab.sim.workload import Workload
from dolab.view.scaleplots import plot_costs, plot_hot_keys, plot_lifecycle, plot_queue_depth, plot_scaling
from dolab.view.widgets import hot_key_panel


@pytest.fixture(scope="module")
def sweep() -> object:
    return scale_sweep((20, 12_000), min_requests=300, min_duration=3.0)


def row(sweep: object, design: str, users: int) -> dict[str, float]:
    return next(r for r in sweep.rows if r["design"] == design and r["users"] == users)  # type: ignore[attr-defined]


def test_central_designs_saturate_and_per_user_objects_do_not(sweep: object) -> None:
    small, big = {d: row(sweep, d, 20) for d in ("do-per-user", "global-do")}, {
        d: row(sweep, d, 12_000) for d in ("do-per-user", "external-db", "global-do")}
    assert big["global-do"]["served_per_s"] < 0.95 * big["global-do"]["offered_per_s"]
    assert big["global-do"]["p99_ms"] > 3 * small["global-do"]["p99_ms"]
    assert big["global-do"]["max_queue"] > 100
    assert big["do-per-user"]["served_per_s"] > 0.95 * big["do-per-user"]["offered_per_s"]
    assert big["do-per-user"]["p99_ms"] < 1.5 * small["do-per-user"]["p99_ms"] + 20
    assert big["do-per-user"]["max_queue"] <= 3
    assert big["do-per-user"]["objects"] > 1_000 and big["global-do"]["objects"] == 1


def test_sweeps_are_cached_and_deterministic(sweep: object) -> None:
    assert scale_sweep((20, 12_000), min_requests=300, min_duration=3.0) is sweep
    again = scale_sweep((20,), min_requests=300, min_duration=3.0)
    assert again.rows == tuple(r for r in sweep.rows if r["users"] == 20)  # type: ignore[attr-defined]


def test_bad_sweeps_are_refused() -> None:
    with pytest.raises(LabError, match=r"users must be ints >= 1, got \(10, 0\)"):
        scale_sweep((10, 0))
    with pytest.raises(LabError, match="per_user_rate must be > 0"):
        scale_sweep((10,), per_user_rate=0)
    with pytest.raises(LabError, match="zipf must be >= 0, got -1"):
        hot_keys(-1)


def test_quick_mode_is_a_smaller_sweep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOLAB_QUICK", "1")
    assert sweep_users() == QUICK_USERS
    monkeypatch.delenv("DOLAB_QUICK")
    assert sweep_users() == FULL_USERS and max(FULL_USERS) >= 100_000


def test_a_hot_key_makes_one_object_hot() -> None:
    flat, skewed = hot_keys(0.0, users=200, rate=1_500, duration=2), hot_keys(2.5, users=200, rate=1_500, duration=2)
    assert flat["busiest_share"] < 0.05 < 0.6 < skewed["busiest_share"]
    assert skewed["busiest_per_s"] > 900 and skewed["busiest_p99_ms"] > 5 * flat["busiest_p99_ms"]
    assert skewed["top"] == sorted(skewed["top"], reverse=True)


def test_objects_hibernate_when_idle_and_are_evicted_under_pressure() -> None:
    roomy = lifecycle(600, duration=30, linger=20).samples
    tight = lifecycle(600, duration=30, linger=20, max_active=50).samples

    def last(samples: tuple, name: str) -> float:
        return [s.value for s in samples if s.name == name][-1]

    assert last(roomy, "objects_active") == 0 and last(roomy, "objects_evicted") == 0
    assert last(roomy, "objects_hibernated") > 200
    assert max(s.value for s in tight if s.name == "objects_active") <= 50
    assert last(tight, "objects_evicted") > 150


def test_objects_that_cannot_hibernate_are_billed_until_evicted() -> None:
    free, pinned = lifecycle(600, duration=30, linger=20), lifecycle(600, duration=30, linger=20, hibernatable=False)
    assert free.billed_seconds < 10  # 1 ms of CPU per request, idle time not billed
    # Each pinned object stays in memory, billed, from its first request to the end of the run
    # (no eviction before 70 s idle): roughly objects x (run length - mean first arrival).
    in_memory = sum(s.value for s in pinned.samples if s.name == "objects_active")  # object-seconds
    assert pinned.billed_seconds == pytest.approx(in_memory, rel=0.05)
    assert pinned.gb_s() == pytest.approx(pinned.billed_seconds * 0.128)
    assert not [s for s in pinned.samples if s.name == "objects_hibernated" and s.value > 0]


def test_simulate_samples_gauges_and_reports_usage() -> None:
    trace = simulate("do-per-user", Workload(users=40, rate=20, duration=10), seed=5, sample_every=1.0, linger=15)
    names = {s.name for s in trace.samples}
    assert {"objects_active", "objects_hibernated", "objects_evicted", "do_queue"} <= names
    assert [s.value for s in trace.samples if s.name == "objects_active"][-1] == 0  # all hibernated after 15 s
    assert trace.usage["objects"] <= 40 and trace.usage["constructed"] >= trace.usage["objects"]


def test_charts_draw(sweep: object) -> None:
    for fig in (plot_scaling(sweep.rows), plot_costs(sweep.rows),  # type: ignore[attr-defined]
                plot_queue_depth({d: sweep.samples[(d, 12_000)] for d in ("external-db", "global-do")}),  # type: ignore[attr-defined]
                plot_lifecycle(lifecycle(600, duration=30, linger=20), traffic_ends=30),
                plot_hot_keys([hot_keys(0.0, users=200, rate=1_500, duration=2)])):
        assert isinstance(fig, Figure) and fig.axes[0].get_xlabel()


def test_the_zipf_slider_redraws() -> None:
    panel = hot_key_panel(0.0)
    first = panel.chart.value
    panel.slider.value = 0.5
    assert panel.result["zipf"] == 0.5 and panel.chart.value != first and "busiest user" in panel.summary.value
