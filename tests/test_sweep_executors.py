"""Chapter 05's sweep gives the same rows however its points run: its own process pool, one after
another in this process, a thread pool, or a Dask cluster (``distributed.Client(LocalCluster())``)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import distributed
import pytest

from dolab import LabError
from dolab.lessons import sweep as sweep_module
from dolab.lessons.sweep import DURATION, point_duration, scale_sweep

SMALL = {"users": (10, 300), "min_requests": 200, "duration": 2.0, "seed": 4}


def fresh(monkeypatch: pytest.MonkeyPatch, **kw: Any) -> Any:
    """A sweep computed now (not taken from the cache of an earlier one, in memory or in a folder)."""
    monkeypatch.setattr(sweep_module, "_CACHE", {})
    monkeypatch.delenv("DOLAB_CACHE_DIR", raising=False)
    return scale_sweep(**{**SMALL, **kw})


@pytest.fixture(scope="module")
def serial() -> Any:
    with pytest.MonkeyPatch.context() as mp:
        return fresh(mp, executor="serial")


def test_the_default_pool_gives_the_serial_rows(serial: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[int, int, str]] = []
    pooled = fresh(monkeypatch, progress=lambda *a: seen.append(a))
    assert pooled.rows == serial.rows and pooled.samples == serial.samples
    assert [r["users"] for r in pooled.rows] == [10, 10, 10, 300, 300, 300]  # the points' order, not the finish order
    assert seen[-1][:2] == (6, 6) and sorted(d for d, _, _ in seen) == [0, 1, 2, 3, 4, 5, 6]
    # A different seed is a different run: the comparison above could fail.
    assert fresh(monkeypatch, seed=5, executor="serial").rows != serial.rows


def test_any_executor_gives_the_same_rows(serial: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with ThreadPoolExecutor(2) as pool:
        assert fresh(monkeypatch, executor=pool).rows == serial.rows


def test_a_dask_cluster_gives_the_same_rows(serial: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    with cluster, distributed.Client(cluster) as client:
        on_client = fresh(monkeypatch, executor=client)
        on_executor = fresh(monkeypatch, executor=client.get_executor())
    assert on_client.rows == serial.rows and on_client.samples == serial.samples
    assert on_executor.rows == serial.rows


def test_the_duration_is_said_and_small_points_run_longer() -> None:
    assert DURATION == 20.0
    assert point_duration(100_000, per_user_rate=0.1, min_requests=500, duration=DURATION) == 20.0
    assert point_duration(10, per_user_rate=0.1, min_requests=500, duration=DURATION) == 500.0
    assert scale_sweep((10,), duration=2.0, executor="serial").rows[0]["requests"] > 400  # 500 s at 1 request/s


def test_duration_and_its_older_name() -> None:
    old = scale_sweep((40,), min_requests=10, min_duration=30.0, executor="serial")
    new = scale_sweep((40,), min_requests=10, duration=30.0, executor="serial")
    assert old is new  # the same point, so the same cached answer
    with pytest.raises(LabError, match="not both"):
        scale_sweep((40,), min_duration=3.0, duration=4.0)
    with pytest.raises(LabError, match="duration must be > 0"):
        scale_sweep((40,), duration=0)


def test_a_results_folder_is_shared_by_processes_and_still_ends_the_progress_line(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, serial: Any
) -> None:
    monkeypatch.setenv("DOLAB_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(sweep_module, "_CACHE", {})
    first = scale_sweep(**SMALL, executor="serial")
    assert first.rows == serial.rows and len(list(tmp_path.glob("*.pickle"))) == 1
    # Another process (here: an empty in-memory cache) reads the file instead of simulating again.
    monkeypatch.setattr(sweep_module, "_CACHE", {})

    def no_simulation(*args: Any, **kw: Any) -> Any:
        raise AssertionError("simulated again although the folder holds the answer")

    monkeypatch.setattr(sweep_module, "run_point", no_simulation)
    seen: list[tuple[int, int, str]] = []
    again = scale_sweep(**SMALL, progress=lambda *a: seen.append(a))
    assert again.rows == serial.rows and again.samples == serial.samples
    assert seen == [(6, 6, "done (kept from an earlier run)")], "a progress line still ends saying done"
    # A different argument is a different key: it must simulate (and here it cannot).
    with pytest.raises(AssertionError, match="simulated again"):
        scale_sweep(**{**SMALL, "seed": 9}, executor="serial")
