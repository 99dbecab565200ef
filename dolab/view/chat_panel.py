"""Chapter 07's chat panel: one chat client per user, side by side, over :class:`dolab.lessons.chat.ChatDemo`.

Each client has a text box (Enter sends, as in any chat), a Send button and its inbox, with the time
each message took to arrive. A status line says where the room lives, whether it is in memory or
hibernating, and how many clients are connected. The panel subscribes to the demo, so it shows
every message, whether a click or a later cell sent it; while a message is on its way the boxes
are disabled and the status says so. Stable CSS classes (``chat-input-alice``, ``chat-send-alice``,
``chat-log-alice``, ``chat-status``) let a browser test find them.
"""

from __future__ import annotations

import html
import warnings

import ipywidgets as widgets

from dolab.lessons.chat import ChatDemo, Delivery
from dolab.runtime.errors import LabError


class ChatPanel:
    """Chat clients side by side, each with a text box, a Send button and its inbox."""

    def __init__(self, demo: ChatDemo, rows: int = 8) -> None:
        self.demo = demo
        self.rows = rows
        self.busy = False
        self.inputs: dict[str, widgets.Text] = {}
        self.sends: dict[str, widgets.Button] = {}
        self.logs: dict[str, widgets.HTML] = {}
        columns = [self._column(user, region) for user, region in demo.regions.items()]
        self.status = widgets.HTML()
        self.status.add_class("chat-status")
        self.widget = widgets.VBox([widgets.HBox(columns), self.status])
        self.widget.add_class("chat-panel")
        demo.subscribe(self.refresh)
        self.refresh()

    def _column(self, user: str, region: str) -> widgets.VBox:
        text = widgets.Text(placeholder="type, then Enter",
                            layout=widgets.Layout(width="210px"))
        text.add_class(f"chat-input-{user}")
        with warnings.catch_warnings():
            # ipywidgets 8 marks on_submit deprecated in favour of observing `value` with
            # continuous_update=False, which also fires when the box merely loses focus: a chat
            # must send on Enter only, and the front end still sends "submit" on Enter.
            warnings.simplefilter("ignore", DeprecationWarning)
            text.on_submit(lambda _, user=user: self.send(user))
        send = widgets.Button(description="Send", layout=widgets.Layout(width="64px"))
        send.add_class(f"chat-send-{user}")
        send.on_click(lambda _, user=user: self.send(user))
        log = widgets.HTML()
        log.add_class(f"chat-log-{user}")
        self.inputs[user], self.sends[user], self.logs[user] = text, send, log
        header = widgets.HTML(f"<b>{html.escape(user)}</b> <small>in {html.escape(region)}</small>")
        layout = widgets.Layout(border="1px solid #bbb", padding="6px", width="300px", margin="0 12px 8px 0")
        return widgets.VBox([header, widgets.HBox([text, send]), log], layout=layout)

    def send(self, user: str, text: str | None = None) -> list[Delivery]:
        """What Enter or the Send button does: send the box's text as ``user`` (or ``text``)."""
        message = text if text is not None else self.inputs[user].value
        if not message or self.busy:
            return []
        self._set_busy(True, f"{user} is sending “{message}”…")
        try:
            got = self.demo.send(user, message)  # the demo tells every subscriber, so refresh() runs
        except LabError as error:  # a closed lab, say: tell the learner here, not in a log they never see
            self.status.value = f"<small>⚠ could not send: {html.escape(str(error))}</small>"
            return []
        finally:
            self._set_busy(False)
        if text is None:
            self.inputs[user].value = ""
        self.refresh()
        return got

    def _set_busy(self, busy: bool, note: str = "") -> None:
        self.busy = busy
        for box in (*self.inputs.values(), *self.sends.values()):
            box.disabled = busy
        if busy:
            self.status.value = f"<small>⏳ {html.escape(note)}</small>"

    def refresh(self) -> None:
        """Redraw every inbox and the status line from the demo."""
        for user, log in self.logs.items():
            log.value = self._log_html(user)
        if not self.busy:
            self.status.value = self._status_html()

    def _status_html(self) -> str:
        demo = self.demo
        where = f" in {html.escape(demo.region)}" if demo.region else ""
        state = ("<b>in memory</b>" if demo.in_memory
                 else "<b>hibernating</b> (the next message runs its constructor again)")
        return (f"<small>Room “{html.escape(demo.room)}”{where}: {state} · {len(demo.clients)} client(s) "
                f"connected · lab clock {demo.lab.now:.1f} s</small>")

    def _log_html(self, user: str) -> str:
        mine = self.demo.inbox(user)[-self.rows:]
        if not mine:
            return "<small><i>no messages yet</i></small>"
        lines = "".join(
            f"<div>{html.escape(d.text)} <small style='color:#666'>({d.latency_ms:.0f} ms)</small></div>" for d in mine
        )
        return f"<div style='font-size:90%'>{lines}</div>"

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)  # type: ignore[no-untyped-call]


def chat_panel(demo: ChatDemo) -> ChatPanel:
    """Build the side-by-side chat clients for a :class:`dolab.lessons.chat.ChatDemo`."""
    return ChatPanel(demo)
