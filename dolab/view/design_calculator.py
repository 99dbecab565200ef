"""Chapter 10's design calculator: an app's shape in, each design's latency, risks and bill out.

A thin view over :func:`dolab.lessons.calculator.estimate` (which tests call directly): every
change of a control builds an :class:`~dolab.lessons.calculator.Inputs`, asks for the estimates,
and redraws the table and the chart. While it computes, the controls are disabled and the status
line says so; afterwards it says how long the redraw took.
"""

from __future__ import annotations

import html
import math
import time

import ipywidgets as widgets

from dolab.lessons.calculator import GEOGRAPHIES, Estimate, Inputs, estimate
from dolab.view.figures import png as _png
from dolab.view.millionplots import plot_estimates

USERS = (1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000)
_CELL = "padding:2px 10px;text-align:right;border-bottom:1px solid #ddd;vertical-align:top"


class DesignCalculator:
    """Sliders and boxes for :class:`Inputs`; a table and a chart of :func:`estimate`'s answer."""

    def __init__(self, inputs: Inputs | None = None) -> None:
        i = inputs or Inputs()
        style, wide = {"description_width": "210px"}, widgets.Layout(width="480px")
        self.users = widgets.SelectionSlider(options=[(f"{u:,}", u) for u in USERS], value=i.users,
                                             description="Users", style=style, layout=wide,
                                             continuous_update=False)
        self.rate = widgets.FloatLogSlider(value=i.requests_per_user_day, base=10, min=0, max=3, step=0.1,
                                           description="Requests per user per day", style=style, layout=wide,
                                           continuous_update=False, readout_format=".0f")
        self.geography = widgets.ToggleButtons(options=list(GEOGRAPHIES), value=i.geography, description="Users in",
                                               style={**style, "button_width": "110px"})
        self.kb = widgets.FloatLogSlider(value=i.kb_per_key, base=10, min=0, max=6, step=0.5,
                                         description="KB of data per user", style=style, layout=wide,
                                         continuous_update=False, readout_format=",.0f")
        self.cross = widgets.FloatSlider(value=i.cross_user_share, min=0, max=0.5, step=0.01,
                                         description="Share of cross-user queries", style=style, layout=wide,
                                         continuous_update=False, readout_format=".0%")
        self.tenants = widgets.BoundedIntText(value=i.tenants, min=1, max=10_000_000, description="Tenants",
                                              style=style, layout=widgets.Layout(width="320px"))
        self.db_bill = widgets.BoundedFloatText(value=i.db_usd_month, min=0, max=1e7, step=50,
                                                description="Database's own bill, US$/month", style=style,
                                                layout=widgets.Layout(width="320px"))
        self.cache_bill = widgets.BoundedFloatText(value=i.cache_usd_month, min=0, max=1e7, step=10,
                                                   description="Cache's own bill, US$/month", style=style,
                                                   layout=widgets.Layout(width="320px"))
        self.controls = [self.users, self.rate, self.geography, self.kb, self.cross, self.tenants, self.db_bill,
                         self.cache_bill]
        self.status = widgets.HTML()
        self.status.add_class("calculator-status")
        self.table = widgets.HTML()
        self.chart = widgets.Image(format="png", layout=widgets.Layout(width="auto", max_width="100%"))
        self.base = i
        self.busy = False
        self.redraws = 0
        for control in self.controls:
            control.observe(lambda _: self.update(), names="value")
        self.widget = widgets.VBox([*self.controls, self.status, self.table, self.chart],
                                   layout=widgets.Layout(align_items="flex-start"))
        self.widget.add_class("design-calculator")
        self.result = self.update()

    def inputs(self) -> Inputs:
        """The controls' values, as the pure function takes them."""
        return Inputs(users=self.users.value, requests_per_user_day=float(self.rate.value),
                      geography=self.geography.value, kb_per_key=float(self.kb.value),
                      cross_user_share=float(self.cross.value), tenants=int(self.tenants.value),
                      db_usd_month=float(self.db_bill.value), cache_usd_month=float(self.cache_bill.value),
                      cache_hit=self.base.cache_hit, fan_out=self.base.fan_out, samples=self.base.samples,
                      seed=self.base.seed)

    def update(self) -> tuple[Estimate, ...]:
        """Compute and redraw, with the controls disabled meanwhile."""
        self._busy(True)
        started = time.perf_counter()
        try:
            inputs = self.inputs()
            result = estimate(inputs)
            self.table.value = _table(result)
            self.chart.value = _png(plot_estimates(result, title=_title(inputs)))
        finally:
            self._busy(False)
        self.redraws += 1
        ms = (time.perf_counter() - started) * 1000
        self.status.value = (f"<span class='calculator-done' data-ms='{ms:.0f}'>redraw {self.redraws}: "
                             f"{inputs.peak_per_s:,.0f} requests/s at the busiest hour, computed in {ms:,.0f} ms"
                             "</span>")
        self.result = result
        return result

    def _busy(self, busy: bool) -> None:
        self.busy = busy
        for control in self.controls:
            control.disabled = busy
        if busy:
            self.status.value = "<span class='calculator-busy'>computing…</span>"

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)  # type: ignore[no-untyped-call]


def _title(inputs: Inputs) -> str:
    where = {"worldwide": "worldwide", "one continent": "in one continent (Europe)",
             "one region": "in one region (westeurope)"}[inputs.geography]
    return (f"{inputs.users:,} users {where}, {inputs.requests_per_user_day:,.0f} requests a day each, "
            f"{inputs.cross_user_share:.0%} cross-user")


def _table(estimates: tuple[Estimate, ...]) -> str:
    """The estimates as a small HTML table (inline styles: Lab's CSS does not reach widget HTML)."""
    def ms(v: float) -> str:
        return "<b>overloaded</b>" if math.isinf(v) else f"{v:,.0f}"

    head = "".join(f"<th style='{_CELL}'>{h}</th>" for h in ("p50 ms", "p99 ms", "busiest load", "US$/month"))
    rows = "".join(
        f"<tr data-design='{html.escape(e.design)}'><td style='{_CELL};text-align:left'>{html.escape(e.design)}</td>"
        f"<td style='{_CELL}'>{ms(e.p50_ms)}</td><td style='{_CELL}'>{ms(e.p99_ms)}</td>"
        f"<td style='{_CELL}'>{e.busiest_load:.0%}</td><td style='{_CELL}'>{e.bill_usd:,.0f}</td>"
        f"<td style='{_CELL};text-align:left;max-width:420px;font-size:90%'>"
        f"{'<br>'.join(html.escape(r) for r in e.risks) or '-'}</td></tr>"
        for e in estimates)
    return (f"<table class='calculator-table' style='border-collapse:collapse;margin:6px 0'>"
            f"<tr><th style='{_CELL};text-align:left'>design</th>{head}<th style='{_CELL};text-align:left'>risks</th>"
            f"</tr>{rows}</table>")


def design_calculator(inputs: Inputs | None = None) -> DesignCalculator:
    """Build chapter 10's design calculator."""
    return DesignCalculator(inputs)
