"""Widgets for the notebooks: thin views over the plain functions of the simulation layer.

Every button calls one function (e.g. :meth:`dolab.lessons.cart.CartDemo.click`) and shows what it
returned; tests call the same functions, and also click the widgets headless with
``Button.click()``. Stable CSS classes (``cart-add-stateless``, ``cart-count-stateful``, ...)
let a browser test find them.
"""

from __future__ import annotations

import html
import io
from typing import Any

import ipywidgets as widgets

from dolab.lessons.cart import ACTIONS, CartDemo, Click
from dolab.lessons.explorer import EXPLORER_DESIGNS, Exploration, Scenario, explore
from dolab.lessons.sweep import hot_keys
from dolab.sim.geo import Geography
from dolab.view.plots import plot_waterfall
from dolab.view.report import hops_frame, median_request, quantiles, requests_frame
from dolab.view.scaleplots import plot_hot_keys

_TITLES = {
    "stateless": "Stateless Worker",
    "stateful": "Durable Object cart",
}
_NOTES = {
    "stateless": "starts from <code>count = 0</code> on every request",
    "stateful": "one object per user, count kept in memory and in storage",
}
_LABELS = {"add": "Add to cart", "remove": "Remove", "reset": "Reset"}


class CartPanel:
    """The two carts side by side, a user picker, an evict button and a request log."""

    def __init__(self, demo: CartDemo) -> None:
        self.demo = demo
        self.user = widgets.Dropdown(options=list(demo.users), description="User:")
        self.user.observe(lambda change: self._refresh_user(), names="value")
        self.counts: dict[str, widgets.Label] = {}
        self.responses: dict[str, widgets.HTML] = {}
        self.kept: dict[str, widgets.HTML] = {}
        self.buttons: dict[tuple[str, str], widgets.Button] = {}
        columns = [self._column(side) for side in ("stateless", "stateful")]
        self.evict_button = widgets.Button(description="Evict object", icon="recycle",
                                           tooltip="Drop the user's object from memory; storage stays")
        self.evict_button.add_class("cart-evict")
        self.evict_button.on_click(lambda _: self.evict())
        self.status = widgets.HTML()
        self.log = widgets.HTML(self._log_html())
        self.widget = widgets.VBox([
            self.user,
            widgets.HBox(columns),
            widgets.HBox([self.evict_button, self.status]),
            self.log,
        ])
        self.widget.add_class("cart-panel")

    def _column(self, side: str) -> widgets.VBox:
        count = widgets.Label("0")
        count.add_class(f"cart-count-{side}")
        count.style.font_size = "28px"
        count.style.font_weight = "bold"
        self.counts[side] = count
        response = widgets.HTML("<i>no request yet</i>")
        self.responses[side] = response
        kept = widgets.HTML(self._kept_html(side))
        kept.add_class(f"cart-kept-{side}")
        self.kept[side] = kept
        row = []
        for action in ACTIONS:
            button = widgets.Button(description=_LABELS[action], layout=widgets.Layout(width="auto"))
            button.add_class(f"cart-{action}-{side}")
            button.on_click(lambda _, side=side, action=action: self.press(side, action))
            self.buttons[(side, action)] = button
            row.append(button)
        header = widgets.HTML(f"<b>{_TITLES[side]}</b><br><small>{_NOTES[side]}</small>")
        items = widgets.HBox([widgets.Label("Items in cart (as the server answered):"), count])
        layout = widgets.Layout(border="1px solid #bbb", padding="8px", width="380px", margin="0 16px 8px 0")
        box = widgets.VBox([header, widgets.HBox(row), items, response, kept], layout=layout)
        box.add_class(f"cart-column-{side}")
        return box

    def press(self, side: str, action: str) -> Click:
        """What a button does: one click through :class:`CartDemo`, then redraw."""
        click = self.demo.click(side, action, self.user.value)
        self._show(click)
        return click

    def evict(self) -> str:
        message = self.demo.evict(self.user.value)
        self.status.value = f"<small>{html.escape(message)}</small>"
        return message

    def _kept_html(self, side: str, click: Click | None = None) -> str:
        if side == "stateless":
            return "<small>Kept by the server between requests: <b>nothing</b></small>"
        # Read storage only after a click: looking must not create the object.
        stored = self.demo.stored_count(click.user) if click is not None else None
        return f"<small>Kept in the object's storage: <b>{stored if stored is not None else 'nothing yet'}</b></small>"

    def _show(self, click: Click) -> None:
        self.counts[click.side].value = "?" if click.count is None else str(click.count)
        self.responses[click.side].value = (
            f"<code>{click.status}</code> “{html.escape(click.message)}” "
            f"<small>— {click.latency_ms:.0f} ms simulated, served from {click.served_from}</small>"
        )
        self.kept[click.side].value = self._kept_html(click.side, click)
        self.log.value = self._log_html()

    def _refresh_user(self) -> None:
        mine = [c for c in self.demo.log if c.user == self.user.value]
        for side in ("stateless", "stateful"):
            last = [c for c in mine if c.side == side]
            if last:
                self._show(last[-1])
            else:
                self.counts[side].value = "0"
                self.responses[side].value = "<i>no request yet</i>"
                self.kept[side].value = self._kept_html(side)
        self.status.value = ""

    def _log_html(self, rows: int = 8) -> str:
        recent = self.demo.log[-rows:][::-1]
        if not recent:
            return "<small><i>Request log: empty</i></small>"
        cells = "".join(
            f"<tr><td>{c.n}</td><td>{c.user}</td><td>{c.side}</td><td>{c.action}</td>"
            f"<td>{html.escape(c.message)}</td><td style='text-align:right'>{c.latency_ms:.0f} ms</td></tr>"
            for c in recent
        )
        head = "<tr><th>#</th><th>user</th><th>cart</th><th>action</th><th>response</th><th>latency</th></tr>"
        return f"<small><b>Request log</b> (newest first)</small><table class='cart-log'>{head}{cells}</table>"

    def _ipython_display_(self) -> None:  # so that a bare `panel` in a cell shows the widget
        from IPython.display import display

        display(self.widget)  # type: ignore[no-untyped-call]


def cart_panel(demo: CartDemo) -> Any:
    """Build the side-by-side cart panel for ``demo``."""
    return CartPanel(demo)


class ChatPanel:
    """Two or three chat clients side by side, each with a text box, a Send button and its inbox."""

    def __init__(self, demo: Any, rows: int = 8) -> None:
        self.demo = demo
        self.rows = rows
        self.inputs: dict[str, widgets.Text] = {}
        self.sends: dict[str, widgets.Button] = {}
        self.logs: dict[str, widgets.HTML] = {}
        columns = []
        for user, region in demo.regions.items():
            text = widgets.Text(placeholder=f"message from {user}", layout=widgets.Layout(width="200px"))
            text.add_class(f"chat-input-{user}")
            send = widgets.Button(description="Send", layout=widgets.Layout(width="70px"))
            send.add_class(f"chat-send-{user}")
            send.on_click(lambda _, user=user: self.send(user))
            log = widgets.HTML(self._log_html(user))
            log.add_class(f"chat-log-{user}")
            self.inputs[user], self.sends[user], self.logs[user] = text, send, log
            header = widgets.HTML(f"<b>{html.escape(user)}</b> <small>in {html.escape(region)}</small>")
            layout = widgets.Layout(border="1px solid #bbb", padding="6px", width="300px", margin="0 12px 8px 0")
            columns.append(widgets.VBox([header, widgets.HBox([text, send]), log], layout=layout))
        self.widget = widgets.HBox(columns)
        self.widget.add_class("chat-panel")

    def send(self, user: str, text: str | None = None) -> list[Any]:
        """What a Send button does: send the box's text as ``user``, then redraw every inbox."""
        message = text if text is not None else self.inputs[user].value
        if not message:
            return []
        got = self.demo.send(user, message)
        self.inputs[user].value = ""
        for name in self.logs:
            self.logs[name].value = self._log_html(name)
        return list(got)

    def _log_html(self, user: str) -> str:
        mine = [d for d in self.demo.deliveries if d.recipient == user][-self.rows:]
        if not mine:
            return "<small><i>no messages yet</i></small>"
        lines = "".join(
            f"<div>{html.escape(d.text)} <small style='color:#666'>({d.latency_ms:.0f} ms)</small></div>" for d in mine
        )
        return f"<div style='font-size:90%'>{lines}</div>"

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)  # type: ignore[no-untyped-call]


def chat_panel(demo: Any) -> ChatPanel:
    """Build the side-by-side chat clients for a :class:`dolab.lessons.chat.ChatDemo`."""
    return ChatPanel(demo)


def _png(fig: Any) -> bytes:
    """A figure as PNG bytes, for an ``ipywidgets.Image`` (works with or without a kernel)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()


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
        self.summary = widgets.HTML()
        # Natural size: stretched to the panel's width the PNG's text would blur.
        self.waterfall = widgets.Image(format="png", layout=widgets.Layout(width="auto", max_width="100%"))
        self.base = s
        for control in (self.user, self.db, self.design, self.ops):
            control.observe(lambda _: self.update(), names="value")
        self.widget = widgets.VBox([self.user, self.db, self.design, self.ops, self.summary, self.waterfall],
                                   layout=widgets.Layout(align_items="flex-start"))
        self.widget.add_class("latency-explorer")
        self.result = self.update()

    def update(self) -> Exploration:
        """Run (or fetch from the cache) the chosen scenario and redraw."""
        s = Scenario(user_region=self.user.value, db_region=self.db.value, ops=self.ops.value,
                     users=self.base.users, requests=self.base.requests, seed=self.base.seed)
        result = explore(s)
        table = quantiles(requests_frame(list(result.traces.values()))).loc[list(EXPLORER_DESIGNS)]
        self.summary.value = _latency_table(table) + _bound_note(result)
        trace = result.traces[self.design.value]
        request = median_request(trace)
        ms = next(r.latency_ms for r in trace.requests if r.id == request)
        title = f"{self.design.value}: the median request, {ms:.0f} ms"
        self.waterfall.value = _png(plot_waterfall(hops_frame(trace), request, title=title))
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


class HotKeyPanel:
    """Chapter 05's Zipf slider: how skewed popularity turns one user's object into a hot spot."""

    def __init__(self, zipf: float = 1.0, baseline: float = 0.0) -> None:
        self.baseline = baseline
        self.slider = widgets.FloatSlider(value=zipf, min=0.0, max=2.5, step=0.25, description="Zipf skew",
                                          continuous_update=False)
        self.summary = widgets.HTML()
        self.chart = widgets.Image(format="png")
        self.slider.observe(lambda _: self.update(), names="value")
        self.widget = widgets.VBox([self.slider, self.summary, self.chart])
        self.widget.add_class("hot-key-panel")
        self.result = self.update()

    def update(self) -> dict[str, Any]:
        """Run (or fetch from the cache) the chosen skew and redraw, beside the unskewed baseline."""
        result = hot_keys(self.slider.value)
        base = hot_keys(self.baseline)
        self.summary.value = (
            f"zipf {result['zipf']:g}: the busiest user sends <b>{result['busiest_share']:.0%}</b> of all "
            f"requests ({result['busiest_per_s']:.0f} per second); p99 of that user's requests "
            f"<b>{result['busiest_p99_ms']:.0f} ms</b>, deepest queue at its object {result['max_queue']:.0f}."
        )
        self.chart.value = _png(plot_hot_keys([base, result] if self.baseline != result["zipf"] else [result]))
        self.result = result
        return result

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)  # type: ignore[no-untyped-call]


def hot_key_panel(zipf: float = 1.0) -> HotKeyPanel:
    """Build chapter 05's Zipf slider panel."""
    return HotKeyPanel(zipf)
