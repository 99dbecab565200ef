"""Chapter 01's cart panel: buttons for two carts, side by side, over :class:`dolab.lessons.cart.CartDemo`.

Every button calls :meth:`CartDemo.click` and shows what it returned; tests call the same function
and also click the widget headless with ``Button.click()``. Stable CSS classes
(``cart-add-stateless``, ``cart-count-stateful``, ...) let a browser test find them.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from dolab.lessons.cart import ACTIONS, CartDemo, Click

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
