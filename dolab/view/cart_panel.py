"""Chapter 01's cart panel: buttons for two carts, side by side, over :class:`dolab.lessons.cart.CartDemo`.

Every button calls :meth:`CartDemo.click` and shows what it returned. The panel subscribes to the
demo, so a click or an eviction made in code shows here too: the panel switches to that user and
shows their carts, as if the buttons had been pressed. The stateful column says whether the user's
object is in memory ("not in memory" after an eviction, until the next click wakes it). Tests click
the widget headless with ``Button.click()``; stable CSS classes (``cart-add-stateless``,
``cart-count-stateful``, ``cart-memory-stateful``, ...) let a browser test find the parts.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from dolab.lessons.cart import ACTIONS, SIDES, CartDemo, Click, Event

_TITLES = {
    "stateless": "Stateless Worker",
    "stateful": "Durable Object cart",
}
_NOTES = {
    "stateless": "starts from <code>count = 0</code> on every request",
    "stateful": "one object per user: <code>env.CART.getByName(user)</code>",
}
_LABELS = {"add": "Add to cart", "remove": "Remove", "reset": "Reset"}


class CartPanel:
    """The two carts side by side, a user picker, an evict button and a request log."""

    def __init__(self, demo: CartDemo) -> None:
        self.demo = demo
        self.stored: dict[str, Any] = {}  # each user's stored count, read right after their last stateful click
        self.user = widgets.Dropdown(options=list(demo.users), description="User:")
        self.user.add_class("cart-user")
        self.user.observe(lambda change: self._refresh_user(), names="value")
        self.counts: dict[str, widgets.Label] = {}
        self.responses: dict[str, widgets.HTML] = {}
        self.kept: dict[str, widgets.HTML] = {}
        self.buttons: dict[tuple[str, str], widgets.Button] = {}
        self.memory = widgets.HTML()
        self.memory.add_class("cart-memory-stateful")
        columns = [self._column(side) for side in SIDES]
        self.evict_button = widgets.Button(description="Evict object", icon="recycle",
                                           tooltip="Drop the user's object from memory; storage stays")
        self.evict_button.add_class("cart-evict")
        self.evict_button.on_click(lambda _: self.evict())
        self.status = widgets.HTML()
        self.status.add_class("cart-status")
        self.log = widgets.HTML(self._log_html())
        self.log.add_class("cart-log-box")
        self.widget = widgets.VBox([
            self.user,
            widgets.HBox(columns),
            widgets.HBox([self.evict_button, self.status]),
            self.log,
        ])
        self.widget.add_class("cart-panel")
        self._pressing = False
        demo.subscribe(self._on_event)
        self._refresh_user()

    def _column(self, side: str) -> widgets.VBox:
        count = widgets.Label("0")
        count.add_class(f"cart-count-{side}")
        count.style.font_size = "28px"
        count.style.font_weight = "bold"
        self.counts[side] = count
        response = widgets.HTML("<i>no request yet</i>")
        self.responses[side] = response
        kept = widgets.HTML()
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
        parts = [header, widgets.HBox(row), items, response, kept]
        if side == "stateful":
            parts.append(self.memory)
        layout = widgets.Layout(border="1px solid #bbb", padding="8px", width="390px", margin="0 16px 8px 0")
        box = widgets.VBox(parts, layout=layout)
        box.add_class(f"cart-column-{side}")
        return box

    # -- what the buttons do ---------------------------------------------------------------------

    def press(self, side: str, action: str) -> Click:
        """What a button does: one click through :class:`CartDemo` (the panel shows it when told)."""
        self._busy(True, f"sending “{_LABELS[action]}” as {self.user.value}…")
        try:
            self._pressing = True
            return self.demo.click(side, action, self.user.value)
        finally:
            self._pressing = False
            self._busy(False)

    def evict(self) -> str:
        return self.demo.evict(self.user.value)

    def _busy(self, busy: bool, note: str = "") -> None:
        for button in [*self.buttons.values(), self.evict_button]:
            button.disabled = busy
        if busy:
            self.status.value = f"<small><i>{html.escape(note)}</i></small>"

    # -- what the panel shows ----------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        """A click or an eviction, from a button or from code: show it for its user."""
        if event.kind == "click" and event.click is not None and event.click.side == "stateful":
            # Right after a click the object is awake: reading its storage wakes nothing.
            self.stored[event.user] = self.demo.stored_count(event.user)
        if self.user.value != event.user:
            self.user.value = event.user  # follow the action (this redraws the user's carts)
        else:
            self._refresh_user()
        if event.kind == "evict":
            self.status.value = f"<small>{html.escape(event.message)}</small>"
        elif event.click is not None and not self._pressing:
            self.status.value = f"<small>click #{event.click.n} came from code: shown here as {event.user}</small>"
        else:
            self.status.value = ""

    def _refresh_user(self) -> None:
        user = self.user.value
        mine = [c for c in self.demo.log if c.user == user]
        for side in SIDES:
            last = [c for c in mine if c.side == side]
            if last:
                self._show(last[-1])
            else:
                self.counts[side].value = "0"
                self.responses[side].value = "<i>no request yet</i>"
                self.kept[side].value = self._kept_html(side, user)
        self.memory.value = self._memory_html(user, bool([c for c in mine if c.side == "stateful"]))
        self.log.value = self._log_html()
        self.status.value = ""

    def _show(self, click: Click) -> None:
        self.counts[click.side].value = "?" if click.count is None else str(click.count)
        self.responses[click.side].value = (
            f"<code>{click.status}</code> “{html.escape(click.message)}”<br>"
            f"<small>{click.latency_ms:.0f} ms simulated · served from {click.served_from}</small>"
        )
        self.kept[click.side].value = self._kept_html(click.side, click.user)

    def _kept_html(self, side: str, user: str) -> str:
        if side == "stateless":
            return "<small>Kept by the server between requests: <b>nothing</b></small>"
        stored = self.stored.get(user)
        return f"<small>Kept in the object's storage: <b>{stored if stored is not None else 'nothing yet'}</b></small>"

    def _memory_html(self, user: str, clicked: bool) -> str:
        if self.demo.in_memory(user):
            return "<small>Object: <b style='color:#009E73'>● in memory</b></small>"
        if not clicked:
            return "<small>Object: <b>not created yet</b> (the first click creates it)</small>"
        return ("<small>Object: <b style='color:#D55E00'>○ not in memory</b> — evicted; its storage is kept, "
                "and the next click constructs it again</small>")

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
