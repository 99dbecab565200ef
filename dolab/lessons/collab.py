"""Chapter 11's editors: simulated users in different regions typing into one document object.

:class:`OrderedEditor` is a client of :class:`~dolab.lessons.docroom.Document` (what the page's
JavaScript does, in Python): it shows its own edits at once, keeps at most one edit in flight, and
transforms what arrives past what it has not had confirmed yet. :class:`CrdtEditor` is a client of
:class:`~dolab.lessons.crdtdoc.CrdtDocument`: a Yjs ``Doc`` of its own that sends its updates and
applies the others'. Both can go offline, keep typing, and come back.

:class:`CollabSession` puts editors in regions on the lab's network and times each typed phrase until
every other editor sees it; a panel (:mod:`dolab.view.collab_panel`) subscribes to it.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pycrdt import Doc, Text, get_state

from dolab.lessons.chat import connect
from dolab.lessons.ot import Op, apply_ops, transform_ops
from dolab.runtime.context import current_region
from dolab.runtime.errors import ConfigError
from dolab.runtime.lab import Lab

APPROACHES = ("ordered", "crdt")


class Editor:
    """What both kinds of editor share: a socket to the document, presence, errors, going offline."""

    def __init__(self, lab: Lab, stub: Any, user: str, region: str | None = None,
                 on_change: Callable[[Editor], None] | None = None) -> None:
        self.lab, self.stub, self.user, self.region = lab, stub, user, region
        self.on_change = on_change
        self.online: list[str] = []
        self.errors: list[str] = []
        self.sent = 0  # bytes (or characters) this editor has sent
        self.ws: Any = None
        self.connect()

    def send(self, message: str | bytes) -> None:
        self.sent += len(message)
        self.ws.send(message)

    def connect(self) -> None:
        token = current_region.set(self.region)
        try:
            self.ws = connect(self.lab, self.stub, self.user)
        finally:
            current_region.reset(token)
        self.joined = False

        async def listen() -> None:  # on the lab's thread, where messages arrive: none is missed or seen twice
            self.ws.addEventListener("message", self._receive)
            for message in list(self.ws.received):  # what arrived before we listened
                self._receive(message)

        self.lab.run(listen())

    @property
    def connected(self) -> bool:
        return self.ws is not None

    def go_offline(self) -> None:
        """Close the socket (a train enters a tunnel); edits made meanwhile stay here."""
        if self.ws is not None:
            self.ws.close(1000, "offline")
            self.ws = None

    def come_back(self) -> None:
        if self.ws is None:
            self.connect()

    @property
    def text(self) -> str:
        raise NotImplementedError

    def edit(self, ops: list[Op]) -> None:
        raise NotImplementedError

    def _receive(self, message: Any) -> None:
        raise NotImplementedError

    def _text_message(self, message: str) -> dict[str, Any]:
        msg: dict[str, Any] = json.loads(message)
        if msg["type"] == "presence":
            self.online = msg["online"]
        elif msg["type"] == "error":
            self.errors.append(msg["error"])
        return msg

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change(self)


class OrderedEditor(Editor):
    """A client of ``Document``: edits show at once, one edit in flight, the rest buffered."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.mine = ""  # the text with my unconfirmed edits
        self.confirmed = ""  # the document at `version`, as the object has it
        self.version: int | None = None
        self.inflight: list[Op] | None = None
        self.buffer: list[Op] = []
        self.seq = 0
        self.lost = 0  # characters typed offline that could not be merged
        super().__init__(*args, **kwargs)

    @property
    def text(self) -> str:
        return self.mine

    def edit(self, ops: list[Op]) -> None:
        self.mine = apply_ops(self.mine, ops)
        self.buffer += ops
        self._flush()

    def _flush(self) -> None:
        if self.ws is None or not self.joined or self.inflight is not None or not self.buffer:
            return  # edits are made against the history: none is sent before it has arrived
        self.inflight, self.buffer = self.buffer, []
        self.seq += 1
        self.send(json.dumps({"type": "edit", "base": self.version, "seq": self.seq, "ops": self.inflight}))

    def go_offline(self) -> None:
        if self.inflight is not None:  # its fate is unknown: send it again from the start
            self.buffer, self.inflight = self.inflight + self.buffer, None
        super().go_offline()

    def _receive(self, message: Any) -> None:
        msg = self._text_message(message)
        if msg["type"] == "history":
            self._history(msg)
        elif msg["type"] in ("edit", "ack") and self.version is not None and msg["version"] > self.version:
            self._apply(msg)  # one socket delivers in order: each edit is the next version
        elif msg["type"] == "error" and self.inflight is not None:  # refused: back to what the object has
            self.mine, self.inflight, self.buffer = self.confirmed, None, []
        self._flush()
        self._changed()

    def _apply(self, msg: dict[str, Any]) -> None:
        self.confirmed = apply_ops(self.confirmed, msg["ops"])
        self.version = msg["version"]
        if msg["type"] == "ack":
            self.inflight = None
            return
        remote = msg["ops"]
        if self.inflight:
            remote, self.inflight = transform_ops(remote, self.inflight, True)  # the object put it first
        if self.buffer:
            remote, self.buffer = transform_ops(remote, self.buffer, True)
        self.mine = apply_ops(self.mine, remote)

    def _history(self, msg: dict[str, Any]) -> None:
        self.joined = True
        pending = (self.inflight or []) + self.buffer
        self.inflight, self.buffer = None, pending
        entries = msg["log"]
        server = apply_ops(msg["text"], [op for e in entries for op in e["ops"]])
        latest = entries[-1]["version"] if entries else msg["version"]
        if self.version is None or not pending:
            self.mine = self.confirmed = server
        elif self.version >= msg["version"]:  # the log still reaches back to where I left: catch up
            for entry in entries:
                if entry["version"] > self.version:
                    self._apply({"type": "edit", **entry})
        else:  # compacted past where I left: my offline edits have nothing to be transformed against
            self.lost += sum(len(op.get("insert", "")) for op in pending)
            self.mine = self.confirmed = server
            self.buffer = []
        self.version = latest


class CrdtEditor(Editor):
    """A client of ``CrdtDocument``: a Yjs Doc of its own; updates out as it types, in as they come."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        user = args[2] if len(args) > 2 else kwargs["user"]
        self.doc: Doc[Any] = Doc(client_id=zlib.crc32(user.encode()) + 1)  # stable, so the same seed gives the same run
        self.doc["text"] = self.ytext = Text()
        self._applying = False
        self.doc.observe(self._local_update)
        super().__init__(*args, **kwargs)

    @property
    def text(self) -> str:
        return str(self.ytext)

    def edit(self, ops: list[Op]) -> None:
        with self.doc.transaction():
            for op in ops:
                if "insert" in op:
                    self.ytext.insert(op["at"], op["insert"])
                else:
                    del self.ytext[op["at"]:op["at"] + op["delete"]]

    def _local_update(self, event: Any) -> None:
        if not self._applying and self.ws is not None and self.joined:
            self.send(event.update)  # offline: nothing to do now, the join sends what is missing

    def _receive(self, message: Any) -> None:
        if isinstance(message, str):
            self._text_message(message)
        else:
            missing = None if self.joined else self.doc.get_update(get_state(message))
            self._applying = True
            try:
                self.doc.apply_update(message)
            finally:
                self._applying = False
            if missing is not None:  # the first update is the whole document: send what it lacks
                self.joined = True
                self.send(missing)
        self._changed()


@dataclass(frozen=True)
class Arrival:
    """A phrase one editor typed, as another editor saw it."""

    phrase: str
    author: str
    reader: str
    ms: float


class CollabSession:
    """Editors in regions typing into one document; each typed phrase is timed until each other editor sees it."""

    def __init__(self, lab: Lab, binding: str, approach: str, users: dict[str, str],
                 document: str = "notes") -> None:
        if approach not in APPROACHES:
            raise ConfigError(f"approach must be one of {', '.join(APPROACHES)}, got {approach!r}")
        if binding not in lab.namespaces:
            raise ConfigError(f"no binding {binding!r} in this lab; bindings: {', '.join(lab.namespaces)}")
        self.lab, self.approach, self.document = lab, approach, document
        self.stub = lab.namespaces[binding].getByName(document)
        self.arrivals: list[Arrival] = []
        self._typed: list[tuple[str, str, float]] = []
        self._listeners: list[Callable[[], None]] = []
        self.editors: dict[str, Editor] = {}
        for user, region in users.items():
            self.join(user, region)

    def join(self, user: str, region: str) -> Editor:
        """``user`` opens the document from ``region``: the object sends them the history."""
        if user in self.editors:
            raise ConfigError(f"{user!r} is already editing")
        if self.lab.network is not None:
            self.lab.network.geo.region(region)  # type: ignore[attr-defined]  # an unknown region: a clear error
        kind = OrderedEditor if self.approach == "ordered" else CrdtEditor
        editor = self.editors[user] = kind(self.lab, self.stub, user, region, on_change=self._seen)
        self.lab.advance(1.0)  # let the history arrive
        self._changed()
        return editor

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after every action (a panel redraws then)."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in self._listeners:
            listener()

    def _editor(self, user: str) -> Editor:
        if user not in self.editors:
            raise ConfigError(f"{user!r} is not editing; editors: {', '.join(self.editors)}")
        return self.editors[user]

    def type(self, user: str, phrase: str, at: int | None = None) -> None:
        """``user`` types ``phrase`` at ``at`` (default: the end of the text as they see it)."""
        editor = self._editor(user)
        if not isinstance(phrase, str) or not phrase:
            raise ConfigError(f"type a non-empty phrase, got {phrase!r}")
        where = len(editor.text) if at is None else at
        if not 0 <= where <= len(editor.text):
            raise ConfigError(f"at must be between 0 and {len(editor.text)} (the text {user} sees), got {at!r}")
        editor.edit([{"at": where, "insert": phrase}])
        self._typed.append((phrase, user, self.lab.now))
        self._changed()

    def erase(self, user: str, at: int, count: int) -> None:
        editor = self._editor(user)
        if not (at >= 0 and count >= 1 and at + count <= len(editor.text)):
            raise ConfigError(f"erase {count!r} at {at!r}: the text {user} sees has {len(editor.text)} characters")
        editor.edit([{"at": at, "delete": count}])
        self._changed()

    def go_offline(self, user: str) -> None:
        self.settle(2.0)  # what is already on its way arrives first
        self._editor(user).go_offline()
        self._changed()

    def come_back(self, user: str) -> None:
        self._editor(user).come_back()
        self.settle(2.0)

    def settle(self, seconds: float = 2.0) -> float:
        """Let ``seconds`` of lab time pass: edits travel, objects answer, alarms ring."""
        now = self.lab.advance(seconds)
        self._changed()
        return now

    def _seen(self, reader: Editor) -> None:
        seen = {(a.phrase, a.author) for a in self.arrivals if a.reader == reader.user}
        for phrase, author, at in self._typed:
            if author != reader.user and (phrase, author) not in seen and phrase in reader.text:
                self.arrivals.append(Arrival(phrase, author, reader.user, (self.lab.now - at) * 1000.0))

    def texts(self) -> dict[str, str]:
        return {user: editor.text for user, editor in self.editors.items()}

    @property
    def converged(self) -> bool:
        """Do all connected editors show the same text?"""
        return len({e.text for e in self.editors.values() if e.connected}) <= 1

    @property
    def in_memory(self) -> bool:
        return self.lab.gate_statistics(self.stub) is not None


@dataclass(frozen=True)
class OfflineRun:
    """Bob went offline, typed, and came back after ``edits_while_away`` edits by Alice."""

    approach: str
    edits_while_away: int
    kept: bool  # does everyone see what Bob typed offline?
    converged: bool
    lost: int  # characters of Bob's the document could not take
    text: str


def offline_story(document_class: type, approach: str, edits_while_away: int, seed: int = 1) -> OfflineRun:
    """Alice (Amsterdam) and Bob (Virginia) share a document; Bob goes offline, types, and comes back
    after Alice made ``edits_while_away`` edits and a minute passed (the alarm compacts the log)."""
    from dolab.sim.network import Network

    with Lab(durable_objects={"DOC": document_class}, network=Network(), seed=seed) as lab:
        session = CollabSession(lab, "DOC", approach, {"alice": "westeurope", "bob": "eastus"})
        session.type("alice", "Minutes. ")
        session.settle()
        session.go_offline("bob")
        session.type("bob", "Bob's notes from the train. ", at=0)
        for i in range(edits_while_away):
            session.type("alice", f"item {i}. ")
            session.settle(1.0)
        session.settle(60.0)
        session.come_back("bob")
        texts = session.texts()
        bob = session.editors["bob"]
        return OfflineRun(approach, edits_while_away, kept=all("Bob's notes" in t for t in texts.values()),
                          converged=session.converged, lost=getattr(bob, "lost", 0), text=texts["alice"])
