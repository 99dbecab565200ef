"""Chapter 04's latency explorer: user region, database region, design and storage operations."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from dolab.lessons.explorer import EXPLORER_DESIGNS, Exploration, Scenario, explore
from dolab.sim.geo import Geography
from dolab.view.figures import png as _png
from dolab.view.plots import plot_waterfall
from dolab.view.report import hops_frame, median_request, quantiles, requests_frame


class LatencyExplorer:
    """Chapter 04's explorer: pick user region, database region, design and storage operations.

    Shows the median request of the chosen design as a waterfall, and p50/p95/p99 of all three
    designs beside the physics bound. Every change calls :func:`dolab.lessons.explorer.explore`.
    """

    def __init__(self, scenario: Scenario | None = None, design: str = "external-db") -> None:
        s = scenario or Scenario()
        geo = Geography.load()
        regions = sorted((f"{r.name} ({r.code})", r.code) for r in geo.regions.values())
        # One label width for every control, so they line up; dropdowns wide enough for the
        # longest "Germany West Central (germanywestcentral)".
        style, wide = {"description_width": "100px"}, widgets.Layout(width="440px")
        self.user = widgets.Dropdown(options=regions, value=s.user_region, description="User in",
                                     style=style, layout=wide)
        self.db = widgets.Dropdown(options=regions, value=s.db_region, description="Database in",
                                   style=style, layout=wide)
        self.design = widgets.ToggleButtons(options=list(EXPLORER_DESIGNS), value=design, description="Design",
                                            style={**style, "button_width": "110px"})
        self.ops = widgets.IntSlider(value=s.ops, min=1, max=8, description="Storage ops", continuous_update=False,
                                     style=style)
        self.new_users = widgets.Checkbox(value=s.new_users, description="new users: each one's first click "
                                          "waits for the uniqueness check", indent=False,
                                          layout=widgets.Layout(width="440px", margin="0 0 0 104px"))
        self.status = widgets.HTML()
        self.summary = widgets.HTML()
        # Natural size: stretched to the panel's width the PNG's text would blur.
        self.waterfall = widgets.Image(format="png", layout=widgets.Layout(width="auto", max_width="100%"))
        self.base = s
        self.controls = (self.user, self.db, self.design, self.ops, self.new_users)
        for control in self.controls:
            control.observe(lambda _: self.update(), names="value")
        self.widget = widgets.VBox([*self.controls, self.status, self.summary, self.waterfall],
                                   layout=widgets.Layout(align_items="flex-start"))
        self.widget.add_class("latency-explorer")
        self.status.add_class("explorer-status")
        self.summary.add_class("explorer-summary")
        self.result = self.update()

    def update(self) -> Exploration:
        """Run (or fetch from the cache) the chosen scenario and redraw."""
        s = Scenario(user_region=self.user.value, db_region=self.db.value, ops=self.ops.value,
                     users=self.base.users, requests=self.base.requests, seed=self.base.seed,
                     new_users=self.new_users.value)
        # A run not cached yet takes about a second: say so at once (the message goes out now,
        # before the work), so the old numbers are not read as the new ones.
        self.status.value = "<b>running the three designs…</b> (the numbers below are the previous choice's)"
        result = explore(s)
        table = quantiles(requests_frame(list(result.traces.values()))).loc[list(EXPLORER_DESIGNS)]
        self.summary.value = _latency_table(table) + _bound_note(result)
        trace = result.traces[self.design.value]
        request = median_request(trace)
        ms = next(r.latency_ms for r in trace.requests if r.id == request)
        title = f"{self.design.value}: the median request, {ms:.0f} ms"
        self.waterfall.value = _png(plot_waterfall(hops_frame(trace), request, title=title))
        self.status.value = (f"{len(trace.requests)} clicks from {s.users} {'new' if s.new_users else 'returning'} "
                             f"users in {s.user_region}, over {s.seconds:.0f} s of simulated time")
        self.result = result
        return result

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)  # type: ignore[no-untyped-call]


_CELL = "padding:2px 12px;text-align:right;border-bottom:1px solid #ddd"


def _latency_table(table: Any) -> str:
    """p50/p95/p99 per design as a small HTML table (inline styles: Lab's CSS does not reach here)."""
    head = "".join(f"<th style='{_CELL}'>{c} ms</th>" for c in ("p50", "p95", "p99"))
    rows = "".join(
        f"<tr><td style='{_CELL};text-align:left'>{html.escape(str(d))}</td>"
        + "".join(f"<td style='{_CELL}'>{table.loc[d, c]:,.0f}</td>" for c in ("p50", "p95", "p99")) + "</tr>"
        for d in table.index
    )
    return (f"<table class='latency-table' style='border-collapse:collapse;margin:6px 0'>"
            f"<tr><th style='{_CELL};text-align:left'>design</th>{head}</tr>{rows}</table>")


def _bound_note(result: Exploration) -> str:
    """The physics bound for the distances of this scenario, in words."""
    s = result.scenario
    if s.user_region == s.db_region:
        db = f"the database is in the user's region ({s.db_region}): distance adds ~0 ms"
    else:
        db = (f"{s.ops} round trip{'s' if s.ops != 1 else ''} {s.user_region} ⇄ {s.db_region} cannot take less "
              f"than {s.ops * result.bounds_ms['database']:,.0f} ms (light in fibre); measured: "
              f"{s.ops * result.rtt_ms['database']:,.0f} ms")
    do = (f"the Durable Object was placed in {result.do_region}, "
          + ("the user's own region" if result.do_region == s.user_region
             else f"{result.bounds_ms['durable object']:,.0f} ms away at the speed of light"))
    return f"<div style='font-size:90%;max-width:640px'>Physics: {db}; {do}. Add 10 ms of last mile to each.</div>"


def latency_explorer(scenario: Scenario | None = None, design: str = "external-db") -> LatencyExplorer:
    """Build chapter 04's latency explorer."""
    return LatencyExplorer(scenario, design)
