"""Chapter 07's chat panel: two chat clients side by side over :class:`dolab.lessons.chat.ChatDemo`."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets


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
