"""The simulation layer: determinism, placement, hops, queueing, and the designs compared."""

from __future__ import annotations

import asyncio
import statistics
from typing import Any

import pytest

from dolab import DurableObject, Lab
from dolab.runtime.errors import LabError
from dolab.sim.network import Network
from dolab.sim.simulate import simulate
from dolab.sim.trace import current_region
from dolab.sim.workload import Workload
from dolab.view.report import hops_frame, quantiles, requests_frame, throughput

SMALL = Workload(users=30, rate=20, duration=10)


def rows(trace: Any) -> tuple[list[Any], list[Any]]:
    return list(trace.requests), list(trace.hops)


@pytest.mark.parametrize("design", ["external-db", "do-per-user", "global-do"])
def test_same_seed_gives_an_identical_trace(design: str) -> None:
    assert rows(simulate(design, SMALL, seed=3)) == rows(simulate(design, SMALL, seed=3))


def test_a_different_seed_gives_a_different_trace() -> None:
    assert rows(simulate("do-per-user", SMALL, seed=3)) != rows(simulate("do-per-user", SMALL, seed=4))


def test_every_design_sees_the_same_workload() -> None:
    traces = [simulate(d, SMALL, seed=9) for d in ("external-db", "do-per-user", "global-do")]
    sent = [[(r.user, r.op, r.sent) for r in t.requests] for t in traces]
    assert sent[0] == sent[1] == sent[2]


def test_times_never_go_backwards() -> None:
    trace = simulate("external-db", SMALL, seed=1)
    assert all(r.sent <= r.done for r in trace.requests)
    assert all(h.start <= h.end for h in trace.hops)
    sent = [r.sent for r in trace.requests]
    assert sent == sorted(sent)


def test_hops_add_up_to_the_request_latency() -> None:
    trace = simulate("external-db", Workload(users=5, rate=1, duration=20, regions="australiaeast"), seed=2)
    hops = hops_frame(trace)
    reqs = requests_frame(trace).set_index("id")
    per_request = hops.groupby("request")["ms"].sum()
    assert (per_request - reqs.loc[per_request.index, "latency_ms"]).abs().max() < 1e-6


def test_external_db_costs_a_round_trip_per_storage_op() -> None:
    far = Workload(users=20, rate=5, duration=30, regions="australiaeast", ops=4)
    db = requests_frame(simulate("external-db", far, seed=1, db_region="eastus"))
    do = requests_frame(simulate("do-per-user", far, seed=1))
    assert (db["round_trips"] == 4).all() and (do["round_trips"] == 1).all()
    assert (db["target_region"] == "eastus").all() and (do["target_region"] == "australiaeast").all()
    # Four Sydney <-> Virginia round trips (~200 ms each) against one trip to a Sydney object (and,
    # for a write, its followers' confirmation: ~13 ms around Sydney).
    assert db["latency_ms"].median() > 4 * 190
    assert do["latency_ms"].median() < 35


def test_do_is_placed_near_its_first_request_and_stays() -> None:
    class Cart(DurableObject):
        async def add(self) -> str:
            return "ok"

    network = Network()
    with Lab(durable_objects={"CART": Cart}, network=network) as lab:
        stub = lab.env.CART.getByName("traveller")

        async def from_region(region: str) -> None:
            current_region.set(region)
            await stub.add()

        lab.run(from_region("japaneast"))
        first = lab.now
        assert network.placement_of(lab.env.CART, stub.id._raw) == "southeastasia"
        lab.run(from_region("westeurope"))  # the user moved; the object did not
        assert network.placement_of(lab.env.CART, stub.id._raw) == "southeastasia"
        assert lab.now - first > 0.15  # Europe <-> Singapore is a long way


def test_location_hint_on_first_get_only() -> None:
    class Cart(DurableObject):
        async def add(self) -> str:
            return "ok"

    network = Network()
    with Lab(durable_objects={"CART": Cart}, network=network) as lab:
        ns = lab.env.CART
        stub = ns.get(ns.idFromName("hinted"), {"locationHint": "weur"})
        ns.get(ns.idFromName("hinted"), {"locationHint": "apac"})  # later hints are ignored

        async def call() -> None:
            current_region.set("australiaeast")
            await stub.add()

        lab.run(call())
        assert network.placement_of(ns, stub.id._raw) == "westeurope"
        with pytest.raises(LabError, match="unknown locationHint 'moon'"):
            ns.get(ns.idFromName("x"), {"locationHint": "moon"})


def p50(design: str, rate: float, **kwargs: Any) -> float:
    load = Workload(users=500, rate=rate, duration=4, regions="eastus")
    frame = requests_frame(simulate(design, load, seed=1, record_hops=False, **kwargs))
    return float(frame["latency_ms"].median())


def test_a_saturated_database_queues_while_per_user_objects_do_not() -> None:
    # 2 connections x 2 ms per query = 1,000 queries/s; 2 queries per request = 500 requests/s.
    slow_db = {"db_connections": 2, "db_service_ms": 2.0}
    db_light, db_heavy = p50("external-db", 50, **slow_db), p50("external-db", 600, **slow_db)
    do_light, do_heavy = p50("do-per-user", 50), p50("do-per-user", 600)
    assert db_heavy > 5 * db_light  # the queue grows without bound past saturation
    assert do_heavy < 1.2 * do_light  # 500 objects share the load: flat


def test_one_global_object_saturates() -> None:
    # 1 ms of CPU per event: one object serves at most 1,000 requests per second.
    assert p50("global-do", 1500) > 10 * p50("global-do", 100)
    assert p50("do-per-user", 1500) < 1.2 * p50("do-per-user", 100)


def test_database_queue_depth_is_sampled() -> None:
    load = Workload(users=100, rate=800, duration=5, regions="eastus")
    trace = simulate("external-db", load, seed=1, db_connections=1, record_hops=False)
    depths = [s.value for s in trace.samples if s.name == "db_queue"]
    assert depths and max(depths) > 10


def test_closed_loop_and_zipf_workloads() -> None:
    closed = requests_frame(simulate("do-per-user", Workload(users=10, rate=None, think_time=1.0, duration=30), seed=1))
    per_user = closed.groupby("user").size()
    assert len(per_user) == 10 and per_user.min() > 5
    skewed = requests_frame(simulate("do-per-user", Workload(users=200, rate=50, duration=30, zipf=1.2), seed=1))
    counts = skewed.groupby("user").size().sort_values(ascending=False)
    assert counts.iloc[0] > 10 * statistics.median(counts)


def test_report_helpers() -> None:
    frame = requests_frame([simulate(d, SMALL, seed=1) for d in ("external-db", "do-per-user")])
    table = quantiles(frame)
    assert list(table.columns) == ["p0", "p50", "p95", "p99", "p100", "count"]
    assert set(table.index) == {"external-db", "do-per-user"}
    assert (table["p0"] <= table["p50"]).all() and (table["p99"] <= table["p100"]).all()
    rates = throughput(frame, window=5.0)
    assert rates.groupby("design")["completed"].sum().to_dict() == frame.groupby("design").size().to_dict()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"users": 0}, "users must be an int >= 1, got 0"),
        ({"rate": None}, "give exactly one of rate="),
        ({"rate": 5, "think_time": 1}, "give exactly one of rate="),
        ({"rate": -1}, "rate must be > 0 requests per second, got -1"),
        ({"mix": {"buy": 1.0}}, "mix must weight add/view/remove"),
        ({"zipf": -1}, "zipf must be >= 0, got -1"),
        ({"ops": 0}, "ops must be an int >= 1, got 0"),
    ],
)
def test_bad_workloads(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(LabError, match=message):
        Workload(**kwargs)


def test_bad_design_and_region() -> None:
    with pytest.raises(LabError, match="unknown design 'serverless'"):
        simulate("serverless", SMALL)
    with pytest.raises(LabError, match="unknown region 'atlantis'"):
        simulate("do-per-user", Workload(users=1, regions="atlantis"))


def test_network_needs_a_region_to_charge_time() -> None:
    class Echo(DurableObject):
        async def hi(self) -> str:
            await asyncio.sleep(0)
            return "hi"

    with Lab(durable_objects={"E": Echo}, network=Network()) as lab:
        assert lab.run(lab.env.E.getByName("x").hi()) == "hi"
        assert lab.now == 0.0  # a call from nowhere in particular pays no transit


def test_waterfall_shows_every_hop_of_a_request(tmp_path: Any) -> None:
    from pathlib import Path

    from dolab.view.plots import plot_waterfall

    trace = simulate("external-db", Workload(users=3, rate=1, duration=5, regions="australiaeast", ops=3), seed=1)
    hops = hops_frame(trace)
    first = trace.requests[0].id
    fig = plot_waterfall(hops, first)
    assert len(fig.axes[0].patches) == len(hops[hops["request"] == first]) == 11  # 2 last mile + 3 x (2 net + db)
    fig.savefig(Path(str(tmp_path)) / "waterfall.png")


def test_a_write_waits_for_its_followers_and_a_read_does_not() -> None:
    """The output gate holds a reply that follows writes until 3 of 5 followers confirmed them."""
    sydney = Workload(users=20, rate=5, duration=30, regions="australiaeast", mix={"add": 1, "view": 1})
    trace = simulate("do-per-user", sydney, seed=1)
    frame, hops = requests_frame(trace), hops_frame(trace)
    confirmed = set(hops[hops["kind"] == "replication"]["request"])
    writes = set(frame[frame["op"] == "add"]["id"])
    assert confirmed == writes, "every add (a write) and only the adds wait for the followers"
    waited = hops[hops["kind"] == "replication"]["ms"]
    assert (waited > 10).all() and (waited < 16).all()  # data/replication.csv: 12.6 ms around Sydney


def test_new_users_pay_the_first_use_check_once() -> None:
    """The first request to a named object waits for Cloudflare's global uniqueness check."""
    users = Workload(users=10, rate=20, duration=5, regions="westeurope")
    old = requests_frame(simulate("do-per-user", users, seed=2))
    new_trace = simulate("do-per-user", users, seed=2, new_users=True)
    new = requests_frame(new_trace)
    hops = hops_frame(new_trace)
    checks = hops[(hops["kind"] == "uniqueness") & (hops["detail"] == "first use of a named object")]
    assert len(checks) == new["user"].nunique() == 10  # once per object, on its first request
    first = new.sort_values("sent").groupby("user").head(1)
    assert first["latency_ms"].min() > 100 > old["latency_ms"].max()


def test_requests_that_arrive_during_the_first_use_check_wait_for_it_too() -> None:
    """Only one check runs per new name, but nobody reaches the object before it is done."""
    import asyncio

    from dolab import DurableObject, Lab, Network
    from dolab.sim.trace import RequestRecord

    class Tally(DurableObject):
        async def add(self) -> int:
            n = (await self.ctx.storage.get("n") or 0) + 1
            await self.ctx.storage.put("n", n)
            return int(n)

    network = Network()
    with Lab(durable_objects={"T": Tally}, network=network) as lab:
        stub = lab.env.T.getByName("new-name")

        async def burst() -> list[float]:
            async def one(i: int) -> float:
                record = RequestRecord(i, "do", "u", "add", "westeurope", "westeurope")
                await network.user_request(record, stub.add)
                return record.latency_ms

            return list(await asyncio.gather(*(one(i) for i in range(5))))

        latencies = lab.run(burst())
        check = 2 * network.uniqueness_ms(network.placement_of(lab.env.T, stub.id._raw) or "westeurope") / 2
        assert min(latencies) > check * 0.5, latencies  # every one of the five waited for the check
        hops = [h for h in network.trace.hops if h.kind == "uniqueness"]
        assert len(hops) == 5 and sum("first use" in h.detail for h in hops) == 1
