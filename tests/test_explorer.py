"""Chapter 04's pieces: the explorer, the cached design, travel and hints, the map, the widget."""

from __future__ import annotations

import pytest
from matplotlib.figure import Figure

from dolab import LabError
from dolab.lessons.explorer import EXPLORER_DESIGNS, Scenario, explore, first_clicks, travel
from dolab.sim.geo import Geography
from dolab.sim.pricing import Usage, bill
from dolab.view.maps import great_circle, links_of, plot_world_map
from dolab.view.plots import PERCENTILE_COLOURS, plot_percentiles, plot_waterfalls
from dolab.view.report import bill_frame, cost_frame, cost_table, hops_frame, median_request, quantiles, requests_frame
from dolab.view.widgets import latency_explorer


@pytest.fixture(scope="module")
def sydney() -> object:
    return explore(Scenario(user_region="australiaeast", db_region="eastus", ops=3, seed=1))


def p(result: object, design: str, q: str = "p50") -> float:
    table = quantiles(requests_frame(result.traces[design]))  # type: ignore[attr-defined]
    return float(table.loc[design, q])


def test_far_database_pays_every_query_and_never_beats_physics(sydney: object) -> None:
    bound = sydney.bounds_ms["database"]  # type: ignore[attr-defined]
    assert 3 * bound < p(sydney, "external-db", "p0")  # three round trips can never beat three bounds
    assert p(sydney, "external-db") > 3 * sydney.rtt_ms["database"]  # type: ignore[attr-defined]
    # The object lives in Sydney with its storage; a write also waits for its followers to confirm
    # (~13 ms around Sydney, data/replication.csv).
    assert p(sydney, "do-per-user", "p99") < 35
    assert sydney.do_region == "australiaeast"  # type: ignore[attr-defined]


def test_the_cache_helps_the_median_not_the_tail(sydney: object) -> None:
    assert p(sydney, "cached-db") < 20
    assert p(sydney, "cached-db", "p95") > 300


def test_more_queries_cost_the_database_not_the_object() -> None:
    one = explore(Scenario(ops=1, seed=1))
    six = explore(Scenario(ops=6, seed=1))
    assert p(six, "external-db") - p(one, "external-db") > 5 * one.rtt_ms["database"] * 0.9
    assert p(six, "do-per-user") - p(one, "do-per-user") < 2


def test_explore_is_cached_and_deterministic(sydney: object) -> None:
    again = explore(Scenario(user_region="australiaeast", db_region="eastus", ops=3, seed=1))
    assert again is sydney
    explore.cache_clear()
    fresh = explore(Scenario(user_region="australiaeast", db_region="eastus", ops=3, seed=1))
    assert fresh is not sydney
    for design in EXPLORER_DESIGNS:
        assert [r.latency_ms for r in fresh.traces[design].requests] == \
            [r.latency_ms for r in sydney.traces[design].requests]  # type: ignore[attr-defined]


def test_bad_scenarios_are_refused() -> None:
    with pytest.raises(LabError, match="atlantis"):
        Scenario(user_region="atlantis")
    with pytest.raises(LabError, match="requests must be an int >= 10, got 3"):
        Scenario(requests=3)
    with pytest.raises(LabError, match="ops must be an int >= 1"):
        Scenario(ops=0)


def test_a_run_lasts_requests_over_five_clicks_a_second() -> None:
    run = explore(Scenario(requests=100, seed=1))
    sent = [r.sent for r in run.traces["do-per-user"].requests]
    assert run.scenario.seconds == 20.0
    assert 15 < max(sent) - min(sent) <= 20  # the clicks arrive over the run's simulated seconds


def test_new_users_pay_the_uniqueness_check_once_each(sydney: object) -> None:
    new = explore(Scenario(user_region="australiaeast", db_region="eastus", ops=3, seed=1, new_users=True))
    trace = new.traces["do-per-user"]
    firsts = set(first_clicks(trace))
    assert len(firsts) == len({r.user for r in trace.requests})
    checked = {h.request for h in trace.hops if h.kind == "uniqueness"}
    assert checked and checked <= firsts  # only first clicks (or clicks that overlap one) wait for the check
    slow = [r.latency_ms for r in trace.requests if r.id in firsts]
    assert min(slow) > 200  # a round trip to the farthest Durable Object region, from Sydney
    assert p(new, "do-per-user") == pytest.approx(p(sydney, "do-per-user"), abs=1)  # the median is untouched
    assert p(new, "do-per-user", "p95") > 200 > p(sydney, "do-per-user", "p95")
    assert not any(h.kind == "uniqueness" for h in sydney.traces["do-per-user"].hops)  # type: ignore[attr-defined]


def test_an_add_waits_for_its_followers_a_view_does_not(sydney: object) -> None:
    trace = sydney.traces["do-per-user"]  # type: ignore[attr-defined]
    held = {h.request: h.ms for h in trace.hops if h.kind == "replication"}
    ops = {r.id: r.op for r in trace.requests}
    assert held and {ops[i] for i in held} == {"add"}
    assert all(10 < ms < 16 for ms in held.values())  # Sydney's third follower, ~12.6 ms away


def test_the_object_stays_where_it_was_created_unless_hinted() -> None:
    plain = requests_frame(travel("australiaeast", "westeurope", requests=5, seed=1))
    assert set(plain["target_region"]) == {"australiaeast"}
    medians = plain.groupby("client_region")["latency_ms"].median()
    assert medians["westeurope"] > 10 * medians["australiaeast"]
    hinted = requests_frame(travel("australiaeast", "westeurope", hint="weur", requests=5, seed=1))
    assert set(hinted["target_region"]) == {"westeurope"}
    assert hinted.groupby("client_region")["latency_ms"].median()["westeurope"] < 20
    with pytest.raises(LabError, match="locationHint 'mars'"):
        travel("australiaeast", "westeurope", hint="mars", requests=2)


def test_the_cost_table_prices_each_design(sydney: object) -> None:
    costs = cost_frame(sydney.traces)  # type: ignore[attr-defined]
    assert list(costs.index) == list(EXPLORER_DESIGNS)
    assert costs.loc["external-db", "do_requests"] == 0 and costs.loc["do-per-user", "do_requests"] > 0
    assert costs.loc["external-db", "db_queries_per_month"] > costs.loc["cached-db", "db_queries_per_month"] > 0
    assert (costs["total_usd"] >= 5).all()
    table = bill_frame(bill(Usage(requests=2_000_000)))
    assert table.iloc[-1]["item"] == "total" and table.iloc[-1]["cost_usd"] == pytest.approx(5.15)


def test_the_cost_table_is_narrow_and_lists_only_what_costs(sydney: object) -> None:
    table = cost_table(sydney.traces)  # type: ignore[attr-defined]
    assert list(table.columns) == list(EXPLORER_DESIGNS)  # one column per design: it fits a notebook
    assert "SQLite rows read" not in table.index  # nothing to pay at this load: not listed
    assert table.loc["Durable Object requests", "do-per-user"].startswith("$")
    assert table.loc["database queries a month (not Cloudflare's bill)", "do-per-user"] == "0"


def test_percentile_legend_has_one_colour_each_and_sits_outside(sydney: object) -> None:
    table = quantiles(requests_frame(list(sydney.traces.values())))  # type: ignore[attr-defined]
    fig = plot_percentiles(table, {"db": 470.0, "object": 0.0})
    assert isinstance(fig, Figure) and fig.axes[0].get_xlim()[1] > table["p99"].max()
    assert fig.axes[0].get_legend() is None and len(fig.legends) == 2  # outside the axes: no line crosses them
    swatches = {text.get_text(): handle.get_facecolor() for text, handle in
                zip(fig.legends[0].get_texts(), fig.legends[0].legend_handles, strict=True)}
    assert set(swatches) == set(PERCENTILE_COLOURS) and len({tuple(c) for c in swatches.values()}) == 3
    drawn = [line for line in fig.axes[0].lines if len(line.get_xdata())]
    assert [line.get_xdata()[0] for line in drawn] == [470.0]  # the 0 ms bound is not an invisible line
    assert "~0 ms" in " ".join(t.get_text() for t in fig.legends[1].get_texts())  # said, not drawn at 0


def test_waterfalls_share_one_time_axis(sydney: object) -> None:
    db, do = sydney.traces["external-db"], sydney.traces["do-per-user"]  # type: ignore[attr-defined]
    fig = plot_waterfalls([("db", hops_frame(db), median_request(db)), ("do", hops_frame(do), median_request(do))])
    top, bottom = fig.axes
    assert top.get_xlim() == bottom.get_xlim() and top.get_xlim()[1] > 600


def test_map_lines_follow_great_circles() -> None:
    geo = Geography.load()
    virginia, tokyo = geo.region("eastus"), geo.region("japaneast")
    pieces = great_circle(virginia.lon, virginia.lat, tokyo.lon, tokyo.lat)
    lats = [lat for _, part in pieces for lat in part]
    assert max(lats) > 60  # over Canada and Alaska, not across Africa
    assert len(pieces) == 2  # cut where it crosses the date line
    assert all(max(lons) - min(lons) < 180 for lons, _ in pieces)


def test_a_map_legend_lists_only_what_it_draws(sydney: object) -> None:
    fig = plot_world_map(links_of(sydney.traces["external-db"].requests, "eastus"), db_region="eastus")  # type: ignore[attr-defined]
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["users (size: requests)", "database"]


def test_charts_draw(sydney: object, tmp_path: object) -> None:
    trace = sydney.traces["do-per-user"]  # type: ignore[attr-defined]
    links = links_of(trace.requests)
    assert links == {("australiaeast", "australiaeast"): len(trace.requests)}
    world = plot_world_map(links_of(sydney.traces["external-db"].requests, "eastus"),  # type: ignore[attr-defined]
                           db_region="eastus", objects=["australiaeast"])
    assert len(world.axes[0].lines) > 100  # the coastline is drawn


def test_the_explorer_widget_redraws_on_every_control() -> None:
    panel = latency_explorer(Scenario(user_region="westeurope", db_region="eastus", ops=2, requests=60))
    first_png, first_html = panel.waterfall.value, panel.summary.value
    assert first_png[:4] == b"\x89PNG" and "external-db" in first_html
    panel.ops.value = 4
    assert panel.result.scenario.ops == 4 and panel.summary.value != first_html
    panel.design.value = "do-per-user"
    assert panel.waterfall.value != first_png
    panel.db.value = "westeurope"
    assert panel.result.scenario.db_region == "westeurope"
    assert p(panel.result, "external-db") < 100  # the database is now next door
    panel.new_users.value = True
    assert panel.result.scenario.new_users and "new users" in panel.status.value
    assert p(panel.result, "do-per-user", "p99") > 150  # a first click waited for the uniqueness check
