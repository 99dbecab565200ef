"""Chapter 05's experiments: the same cart at growing scale, three designs (simulation layer).

:func:`scale_sweep` runs each design at each user count and keeps one summary row per run
(latency percentiles, throughput, queue depth, objects, usage) plus the gauge samples, so the
presentation layer can chart them. Load grows with the users: each user sends ``per_user_rate``
requests a second on average. :func:`hot_keys` shows Zipf skew concentrating load on a single
object, and :func:`lifecycle` follows many objects through active, hibernated and evicted.

Results are cached in memory by their arguments: re-running a notebook cell is instant. With
``DOLAB_CACHE_DIR`` set to a folder, they are also kept there as files, shared by the processes that
run while it is set (the test suite gives each of its sessions a fresh one, so a chapter executed
as shipped, with its solutions and in the browser simulates its sweep once). The key is the
arguments, not the code: never keep such a folder across changes to dolab.
``progress`` is any callable taking (points done, points total, label) — the notebooks pass a
progress line; this module does not draw it.
"""

from __future__ import annotations

import hashlib
import math
import multiprocessing
import os
import pickle
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from dolab.runtime.errors import ConfigError
from dolab.sim.pricing import MEMORY_GB, bill, usage_of
from dolab.sim.simulate import simulate
from dolab.sim.trace import Sample, Trace
from dolab.sim.workload import Workload

SCALE_DESIGNS = ("do-per-user", "external-db", "global-do")
FULL_USERS = (10, 100, 1_000, 10_000, 30_000, 100_000)
QUICK_USERS = (10, 100, 1_000, 10_000, 30_000)
Progress = Callable[[int, int, str], None]
#: Simulated seconds each point of :func:`scale_sweep` runs by default (longer for small points,
#: to send at least ``min_requests``): long enough for a stable p99 (see its docstring).
DURATION = 20.0


def sweep_users() -> tuple[int, ...]:
    """The user counts chapter 05 sweeps: all of them, or fewer when ``DOLAB_QUICK=1`` (CI)."""
    return QUICK_USERS if os.environ.get("DOLAB_QUICK") == "1" else FULL_USERS


@dataclass(frozen=True)
class Sweep:
    """One summary row per (design, users) run, and each run's gauge samples."""

    rows: tuple[dict[str, Any], ...]
    samples: dict[tuple[str, int], tuple[Sample, ...]]


def percentile(ordered: Sequence[float], q: float) -> float:
    """The ``q`` quantile of already sorted values (nearest rank; NaN when there are none)."""
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else math.nan


def summarise(trace: Trace, design: str, users: int, duration: float) -> dict[str, Any]:
    """One run as one row: load offered and served, latency percentiles, queues, objects, cost."""
    latencies = sorted(r.latency_ms for r in trace.requests if r.ok and not math.isnan(r.done))
    served = sum(1 for r in trace.requests if r.ok and r.done <= duration)

    def pct(q: float) -> float:
        return percentile(latencies, q)

    queues = [s.value for s in trace.samples if s.name in ("db_queue", "do_queue")]
    active = [s.value for s in trace.samples if s.name == "objects_active"]
    usage = usage_of(trace)
    month = usage.per_month(duration)
    return {
        "design": design, "users": users, "requests": len(trace.requests),
        "offered_per_s": len(trace.requests) / duration, "served_per_s": served / duration,
        "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99),
        "max_queue": max(queues, default=0.0), "objects": trace.usage["objects"],
        "peak_active": max(active, default=0.0), "failed": sum(1 for r in trace.requests if not r.ok),
        "cost_per_month_usd": bill(month).total, "gb_s_per_month": month.active_seconds * MEMORY_GB,
    }


def point_duration(users: int, *, per_user_rate: float, min_requests: int, duration: float) -> float:
    """Simulated seconds one point runs: ``duration``, or longer if that sends fewer than ``min_requests``."""
    return max(duration, min_requests / (users * per_user_rate))


def run_point(design: str, users: int, *, per_user_rate: float, min_requests: int, min_duration: float,
              seed: int, zipf: float = 0.0) -> tuple[dict[str, Any], tuple[Sample, ...]]:
    """One design at one scale, for ``max(min_duration, min_requests / rate)`` simulated seconds:
    the summary row and the gauge samples. A plain module-level function, so a worker process
    (or a Dask worker) can run it."""
    rate = users * per_user_rate
    duration = point_duration(users, per_user_rate=per_user_rate, min_requests=min_requests, duration=min_duration)
    workload = Workload(users=users, rate=rate, duration=duration, zipf=zipf)
    trace = simulate(design, workload, seed=seed, record_hops=False, max_active=2_000)
    return summarise(trace, design, users, duration), tuple(trace.samples)


_CACHE: dict[tuple[Any, ...], Any] = {}


def _fraction(progress: Progress | None, label: str) -> Callable[[float], None] | None:
    """Adapt a (done, total, label) progress callable to simulate()'s fraction-done one."""
    if progress is None:
        return None
    return lambda f: progress(round(f * 100), 100, label)


def cached(key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
    """``compute()`` once per ``key`` in this process (the notebooks' re-run-is-instant cache), and
    once per ``key`` in all processes sharing ``DOLAB_CACHE_DIR`` when it is set."""
    if key not in _CACHE:
        _CACHE[key] = _from_folder(key, compute)
    return _CACHE[key]


def _from_folder(key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
    folder = os.environ.get("DOLAB_CACHE_DIR")
    if not folder:
        return compute()
    # the key holds only str, int, float and tuples of them: its repr is stable across processes
    path = Path(folder) / f"{hashlib.sha256(repr(key).encode()).hexdigest()[:32]}.pickle"
    try:
        return pickle.loads(path.read_bytes())  # a file this suite's own processes wrote
    except (OSError, pickle.UnpicklingError, EOFError):
        pass  # not there yet (or half-written by a process that died): compute it
    value = compute()
    partial = path.with_name(f"{path.stem}.{os.getpid()}.partial")
    partial.write_bytes(pickle.dumps(value))
    os.replace(partial, path)  # whole or absent, for a process reading at the same moment
    return value


def scale_sweep(users: Sequence[int] | None = None, designs: Sequence[str] = SCALE_DESIGNS, *,
                per_user_rate: float = 0.1, min_requests: int = 500, min_duration: float | None = None,
                seed: int = 0, progress: Progress | None = None, duration: float = DURATION,
                executor: Executor | Literal["serial"] | None = None) -> Sweep:
    """Run every design at every user count (default :func:`sweep_users`).

    Each user sends ``per_user_rate`` requests per second (open loop) for ``duration`` simulated
    seconds (default :data:`DURATION`, 20 s), or longer where that would send fewer than
    ``min_requests`` (the small points: 10 users send 1 request a second, so they run 500 s).
    20 s is long enough for every point that is not saturated to have a stable p99: doubling it
    moves no such p99 by 10 % (``bench/bench_sweep.py`` checks). A saturated point (more offered
    than served) has no stable p99: its queue, and its p99, grow for as long as it runs.
    ``min_duration`` is the older name of ``duration``, still accepted.

    The points run in parallel: by default in a pool of worker processes, one per CPU; or on any
    :class:`concurrent.futures.Executor` given as ``executor`` (a ``ThreadPoolExecutor``, the
    ``get_executor()`` of a Dask ``distributed.Client``), or anything with ``submit`` that returns
    futures (a Dask ``Client`` itself); ``executor="serial"`` runs them one after another in this
    process. Every point is a fresh lab with the same seed, so each way gives the same rows.
    """
    chosen = tuple(sweep_users() if users is None else users)
    if not chosen or any(not isinstance(u, int) or isinstance(u, bool) or u < 1 for u in chosen):
        raise ConfigError(f"users must be ints >= 1, got {chosen!r}")
    if not per_user_rate > 0:
        raise ConfigError(f"per_user_rate must be > 0 requests per second, got {per_user_rate!r}")
    if min_duration is not None:
        if duration != DURATION and duration != min_duration:
            raise ConfigError(f"give duration= or its older name min_duration=, not both ({duration!r}, "
                              f"{min_duration!r})")
        duration = min_duration
    if not duration > 0:
        raise ConfigError(f"duration must be > 0 simulated seconds, got {duration!r}")
    points = [(d, u) for u in chosen for d in designs]
    options = {"per_user_rate": per_user_rate, "min_requests": min_requests, "min_duration": duration, "seed": seed}

    ran = False

    def run() -> Sweep:
        nonlocal ran
        ran = True
        results = run_points(points, options, executor, progress)
        rows = tuple(row for row, _ in results)
        samples = {point: gauges for point, (_, gauges) in zip(points, results, strict=True)}
        return Sweep(rows, samples)

    # Neither the progress callable nor the executor is part of the key: both give the same rows.
    key = ("sweep", chosen, tuple(designs), per_user_rate, min_requests, duration, seed)
    result: Sweep = cached(key, run)
    if not ran and progress is not None:
        progress(len(points), len(points), "done (kept from an earlier run)")  # the line still ends "done"
    return result


def run_points(points: Sequence[tuple[str, int]], options: dict[str, Any], executor: Any,
               progress: Progress | None) -> list[tuple[dict[str, Any], tuple[Sample, ...]]]:
    """``run_point`` for each (design, users) in ``points``, in that order, on ``executor``."""
    total = len(points)

    def tell(done: int, label: str) -> None:
        if progress is not None:
            progress(done, total, label)

    if executor == "serial" or total == 1 and executor is None:
        out = []
        for n, (design, count) in enumerate(points):
            tell(n, f"{design}, {count:,} users")
            out.append(run_point(design, count, **options))
        tell(total, "done")
        return out
    own = None
    if executor is None:
        # spawn, not fork: the caller may be a Jupyter kernel with a lab's thread running, and a
        # forked child of a threaded process can inherit a lock held by another thread.
        workers = min(total, os.cpu_count() or 1)
        executor = own = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        # The biggest points first: the pool then ends with small ones that fill its gaps.
        order = sorted(range(total), key=lambda i: -points[i][1])
        futures = {i: executor.submit(run_point, *points[i], **options) for i in order}
        tell(0, f"{total} points on {type(executor).__name__}")
        index = {id(f): i for i, f in futures.items()}
        # As they finish, for the progress bar (a Dask client's futures: in submission order).
        finishing = (as_completed(futures.values()) if all(isinstance(f, Future) for f in futures.values())
                     else futures.values())
        results: dict[int, Any] = {}
        for done, future in enumerate(finishing, start=1):
            i = index[id(future)]
            results[i] = future.result()
            design, count = points[i]
            tell(done, f"{design}, {count:,} users")
        return [results[i] for i in range(total)]  # rows in the order of the points, however they ran
    finally:
        if own is not None:
            own.shutdown(cancel_futures=True)


def hot_keys(zipf: float, *, users: int = 1_000, rate: float = 2_000.0, duration: float = 5.0,
             seed: int = 0, progress: Progress | None = None) -> dict[str, Any]:
    """One Durable Object per user, with user popularity skewed by ``zipf``.

    Returns the busiest user's share of requests, the p99 of that user's requests and of
    everybody's, and the request count of the 20 busiest users (for a bar chart).
    """
    def run() -> dict[str, Any]:
        workload = Workload(users=users, rate=rate, duration=duration, zipf=zipf)
        trace = simulate("do-per-user", workload, seed=seed, record_hops=False, max_active=2_000,
                         progress=_fraction(progress, f"zipf {zipf:g}"))
        counts: dict[str, int] = {}
        for r in trace.requests:
            counts[r.user] = counts.get(r.user, 0) + 1
        busiest = max(counts, key=lambda u: (counts[u], u))
        mine = sorted(r.latency_ms for r in trace.requests if r.user == busiest and r.ok)
        every = sorted(r.latency_ms for r in trace.requests if r.ok)
        return {
            "zipf": zipf, "users": users, "requests": len(trace.requests), "busiest_user": busiest,
            "busiest_share": counts[busiest] / len(trace.requests),
            "busiest_per_s": counts[busiest] / duration,
            "busiest_p99_ms": percentile(mine, 0.99),
            "all_p99_ms": percentile(every, 0.99),
            "max_queue": max((s.value for s in trace.samples if s.name == "do_queue"), default=0.0),
            "top": sorted(counts.values(), reverse=True)[:20],
        }

    if zipf < 0:
        raise ConfigError(f"zipf must be >= 0, got {zipf!r}")
    result: dict[str, Any] = cached(("hot", zipf, users, rate, duration, seed), run)
    return result


@dataclass(frozen=True)
class LifecycleRun:
    """Objects per state over time, and the duration Cloudflare would bill for the run."""

    samples: tuple[Sample, ...]
    billed_seconds: float
    seconds: float  # simulated seconds from the first request to the end of the run

    def gb_s(self) -> float:
        """Billed duration in GB-s (every object is billed for 128 MB)."""
        return self.billed_seconds * MEMORY_GB


def lifecycle(users: int = 3_000, *, per_user_rate: float = 1 / 30, duration: float = 90.0,
              linger: float = 60.0, max_active: int = 2_000, hibernatable: bool = True, seed: int = 0,
              progress: Progress | None = None) -> LifecycleRun:
    """Objects over time: how many are active, hibernated and evicted, sampled every second.

    Users click every ``1 / per_user_rate`` seconds on average for ``duration`` seconds; then
    the traffic stops and the lab runs ``linger`` more seconds. At most ``max_active``
    objects stay in memory; beyond that the least recently used is evicted. With
    ``hibernatable=False`` each object keeps a connection open, so it cannot hibernate.
    """
    def run() -> LifecycleRun:
        workload = Workload(users=users, rate=users * per_user_rate, duration=duration)
        trace = simulate("do-per-user", workload, seed=seed, record_hops=False, max_active=max_active,
                         sample_every=1.0, linger=linger, hibernatable=hibernatable,
                         progress=_fraction(progress, f"{users:,} users"))
        gauges = tuple(s for s in trace.samples if s.name.startswith("objects_"))
        return LifecycleRun(gauges, float(trace.usage["active_seconds"]), max(s.t for s in gauges))

    key = ("life", users, per_user_rate, duration, linger, max_active, hibernatable, seed)
    result: LifecycleRun = cached(key, run)
    return result
