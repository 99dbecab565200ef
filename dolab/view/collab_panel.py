"""Chapter 11's editors panel: two or three editors typing into one document, side by side.

Each column is one editor (a user in a region): what their screen shows, a box to type a phrase
(Enter types it, at the start or the end of the text as they see it), and a button that takes them
offline or brings them back. Typing does not move the lab clock, so phrases typed in two columns
before **Let 1 s pass** are concurrent edits, which the document has to merge. The status line says
whether every screen shows the same text. The panel is thin: every action is a method of
:class:`dolab.lessons.collab.CollabSession`, which the tests call directly; the panel subscribes to it,
so cells that type show here too. While time passes the controls are disabled and the status says so.
Stable CSS classes (``collab-input-alice``, ``collab-type-alice``, ``collab-text-alice``,
``collab-offline-alice``, ``collab-settle``, ``collab-status``) let a browser test find them.
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Callable

import ipywidgets as widgets

from dolab.lessons.collab import CollabSession, OrderedEditor
from dolab.runtime.errors import LabError

TAIL = 160  # characters of each screen shown: the end of a long text


class CollabPanel:
    """Editors side by side over one :class:`CollabSession`."""

    def __init__(self, session: CollabSession) -> None:
        self.session = session
        self.busy = False
        self.inputs: dict[str, widgets.Text] = {}
        self.places: dict[str, widgets.ToggleButtons] = {}
        self.texts: dict[str, widgets.HTML] = {}
        self.offline: dict[str, widgets.Button] = {}
        self.headers: dict[str, widgets.HTML] = {}
        columns = [self._column(user) for user in session.editors]
        self.settle_button = widgets.Button(description="Let 1 s pass", icon="clock-o",
                                            layout=widgets.Layout(width="140px"))
        self.settle_button.add_class("collab-settle")
        self.settle_button.on_click(lambda _: self.settle())
        self.status = widgets.HTML()
        self.status.add_class("collab-status")
        self.row = widgets.HBox(columns, layout=widgets.Layout(flex_flow="row wrap"))
        self.widget = widgets.VBox([self.row, widgets.HBox([self.settle_button, self.status])])
        self.widget.add_class("collab-panel")
        session.subscribe(self.refresh)
        self.refresh()

    def _column(self, user: str) -> widgets.VBox:
        header = widgets.HTML()
        text = widgets.Text(placeholder="a phrase, then Enter", layout=widgets.Layout(width="200px"))
        text.add_class(f"collab-input-{user}")
        with warnings.catch_warnings():
            # on_submit fires on Enter only (observing `value` would also fire when the box loses focus)
            warnings.simplefilter("ignore", DeprecationWarning)
            text.on_submit(lambda _, user=user: self.type(user))
        go = widgets.Button(description="Type", layout=widgets.Layout(width="60px"))
        go.add_class(f"collab-type-{user}")
        go.on_click(lambda _, user=user: self.type(user))
        place = widgets.ToggleButtons(options=["end", "start"], value="end", style={"button_width": "60px"})
        offline = widgets.Button(description="Go offline", layout=widgets.Layout(width="110px"))
        offline.add_class(f"collab-offline-{user}")
        offline.on_click(lambda _, user=user: self.toggle_offline(user))
        shown = widgets.HTML()
        shown.add_class(f"collab-text-{user}")
        self.inputs[user], self.places[user], self.texts[user] = text, place, shown
        self.offline[user], self.headers[user] = offline, header
        layout = widgets.Layout(border="1px solid #bbb", padding="6px", width="330px", margin="0 12px 8px 0")
        return widgets.VBox([header, widgets.HBox([text, go]), widgets.HBox([place, offline]), shown], layout=layout)

    # -- actions (what the buttons do; each one a session method) ----------------------------------

    def type(self, user: str, phrase: str | None = None) -> None:
        """Type the box's phrase (or ``phrase``) as ``user``, at the start or end of their text."""
        words = phrase if phrase is not None else self.inputs[user].value
        if not words or self.busy:
            return
        at = 0 if self.places[user].value == "start" else None
        self._run(f"{user} types “{words}”…", lambda: self.session.type(user, words, at=at))
        if phrase is None:
            self.inputs[user].value = ""

    def toggle_offline(self, user: str) -> None:
        editor = self.session.editors[user]
        if editor.connected:
            self._run(f"{user} goes offline…", lambda: self.session.go_offline(user))
        else:
            self._run(f"{user} comes back…", lambda: self.session.come_back(user))

    def settle(self, seconds: float = 1.0) -> None:
        self._run(f"{seconds:g} s of lab time passes: edits travel…", lambda: self.session.settle(seconds))

    def _run(self, note: str, action: Callable[[], object]) -> None:
        if self.busy:
            return
        self._set_busy(True, note)
        try:
            action()
        except LabError as error:  # a closed lab, an out-of-range place: say it here, not in a log
            self._set_busy(False)
            self.status.value = f"<small>⚠ {html.escape(str(error))}</small>"
            return
        self._set_busy(False)
        self.refresh()

    def _set_busy(self, busy: bool, note: str = "") -> None:
        self.busy = busy
        for box in (*self.inputs.values(), *self.offline.values(), *self.places.values(), self.settle_button):
            box.disabled = busy
        if busy:
            self.status.value = f"<small>⏳ {html.escape(note)}</small>"

    # -- drawing -------------------------------------------------------------------------------------

    def refresh(self) -> None:
        session = self.session
        for user in session.editors:
            if user not in self.headers:  # someone joined from a cell: a column for them too
                self.row.children = (*self.row.children, self._column(user))
        for user, editor in session.editors.items():
            region = editor.region or ""
            where = f" <small>in {html.escape(region)}</small>" if region else ""
            state = "" if editor.connected else " <small style='color:#b00020'>offline</small>"
            self.headers[user].value = f"<b>{html.escape(user)}</b>{where}{state}"
            self.offline[user].description = "Go offline" if editor.connected else "Come back"
            self.texts[user].value = self._text_html(user)
        if not self.busy:
            self.status.value = self._status_html()

    def _text_html(self, user: str) -> str:
        editor = self.session.editors[user]
        shown = editor.text if len(editor.text) <= TAIL else "…" + editor.text[-TAIL:]  # the end: where typing goes
        body = html.escape(shown) or "<i style='color:#888'>empty</i>"
        notes = []
        if isinstance(editor, OrderedEditor):
            waiting = len(editor.inflight or []) + len(editor.buffer)
            notes.append(f"version {editor.version}" + (f", {waiting} op(s) not yet confirmed" if waiting else ""))
            if editor.lost:
                notes.append(f"<span style='color:#b00020'>{editor.lost} character(s) typed offline were lost</span>")
        if editor.errors:
            notes.append(f"<span style='color:#b00020'>{html.escape(editor.errors[-1])}</span>")
        seen = [a for a in self.session.arrivals if a.reader == user][-2:]
        notes += [f"saw “{html.escape(a.phrase)}” from {a.author} after {a.ms:.0f} ms" for a in seen]
        note = "".join(f"<div><small style='color:#555'>{n}</small></div>" for n in notes)  # line by line
        return (f"<div style='font-family:monospace;white-space:pre-wrap;line-height:1.35;min-height:3em;"
                f"border:1px solid #ddd;padding:4px;background:#fafafa'>{body}</div>"
                f"<div style='line-height:1.3'>{note}</div>")

    def _status_html(self) -> str:
        session = self.session
        same = ("✓ every screen shows the same text" if session.converged
                else "✗ the screens differ: let time pass")
        memory = "in memory" if session.in_memory else "not in memory"
        return (f"<small>{'ordered by the object' if session.approach == 'ordered' else 'CRDT (Yjs)'} · "
                f"document “{html.escape(session.document)}” {memory} · {same} · "
                f"lab clock {session.lab.now:.1f} s</small>")

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)  # type: ignore[no-untyped-call]


def collab_panel(session: CollabSession) -> CollabPanel:
    """Build the side-by-side editors for a :class:`dolab.lessons.collab.CollabSession`."""
    return CollabPanel(session)
