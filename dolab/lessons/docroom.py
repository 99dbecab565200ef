"""Chapter 11's document objects: one Durable Object per document, edited over hibernatable WebSockets.

``Document`` orders the edits itself (the first way to merge, :mod:`dolab.lessons.ot`): it keeps the
text as a snapshot plus a log of edits in its SQLite database, transforms an edit made on an older
version against the ones that came after it, sends every edit to every client, and folds the log into
the snapshot on an alarm. Each socket's tag is its user's name, so presence is ``ctx.getTags``.

The protocol, JSON text both ways: a client sends ``{"type": "edit", "base": v, "seq": n, "ops": [...]}``
(``base``: the last version it saw); the object answers the sender ``{"type": "ack", ...}`` and everyone
else ``{"type": "edit", "version": v, "user": u, "ops": [...]}``; on join it sends ``{"type": "history",
"version": v, "text": t, "log": [...]}``, and ``{"type": "presence", "online": [...]}`` to all on every
join and leave. A bad message gets ``{"type": "error", "error": "..."}`` and changes nothing.

The class is a copy of the chapter's (a test holds them equal). ``DOC_PAGE`` is the folder of the page
two browser tabs edit together: ``python -m dolab serve notebooks/11_collaborative_document.ipynb
--class Document --assets dolab/lessons/doc_page``.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from dolab.lessons.ot import MAX_DOCUMENT, apply_ops, parse_edit, transform_ops
from dolab.runtime.fetch import Request, Response
from dolab.runtime.lab import Lab
from dolab.runtime.objects import DurableObject
from dolab.runtime.websockets import WebSocketPair

DOC_PAGE = Path(__file__).resolve().parent / "doc_page"
USER = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
KEEP = 20  # log entries the compaction leaves, so a client a little behind can still catch up
COMPACT_AFTER = timedelta(seconds=30)


class Document(DurableObject):
    """One document: a snapshot and a log in SQL, every edit ordered here and sent to every client."""

    def __init__(self, ctx: Any, env: Any) -> None:
        super().__init__(ctx, env)
        self.sql = ctx.storage.sql
        self.sql.exec("CREATE TABLE IF NOT EXISTS snapshot (id INTEGER PRIMARY KEY, version INTEGER, text TEXT)")
        self.sql.exec("CREATE TABLE IF NOT EXISTS log (version INTEGER PRIMARY KEY, user TEXT, ops TEXT)")
        self.sql.exec("INSERT OR IGNORE INTO snapshot VALUES (1, 0, '')")
        snap = self.sql.exec("SELECT version, text FROM snapshot").one()
        self.version, self.text = snap.version, snap.text
        for row in self.sql.exec("SELECT version, ops FROM log ORDER BY version").toArray():
            self.text, self.version = apply_ops(self.text, json.loads(row.ops)), row.version  # replayed on every wake

    async def fetch(self, request: Request) -> Response:
        if request.headers.get("Upgrade") != "websocket":
            return Response("this document speaks WebSocket", status=426)
        user = parse_qs(urlparse(request.url).query).get("user", [""])[0]
        if not USER.match(user):
            return Response(f"user must be 1 to 32 letters, digits, '-' or '_', got {user!r}", status=400)
        client, server = WebSocketPair.new()
        self.ctx.acceptWebSocket(server, [user])  # the tag names the user: presence survives hibernation
        server.send(json.dumps(self.history()))  # what is there so far, before any new edit
        self.announce()
        return Response(None, status=101, web_socket=client)

    def history(self) -> dict[str, Any]:
        snap = self.sql.exec("SELECT version, text FROM snapshot").one()
        log = [{"version": r.version, "user": r.user, "ops": json.loads(r.ops)}
               for r in self.sql.exec("SELECT version, user, ops FROM log ORDER BY version").toArray()]
        return {"type": "history", "version": snap.version, "text": snap.text, "log": log}

    def online(self) -> list[str]:
        return sorted({tag for ws in self.ctx.getWebSockets() if ws.readyState == 1 for tag in self.ctx.getTags(ws)})

    def announce(self) -> None:
        presence = json.dumps({"type": "presence", "online": self.online()})
        for ws in self.ctx.getWebSockets():
            if ws.readyState == 1:
                ws.send(presence)

    async def webSocketMessage(self, ws: Any, message: str | bytes) -> None:
        user = self.ctx.getTags(ws)[0]
        try:
            base, seq, ops = parse_edit(message)
            ops = self.rebase(base, ops)
            text = apply_ops(self.text, ops)
            if len(text) > MAX_DOCUMENT:
                raise ValueError(f"a document may hold {MAX_DOCUMENT} characters; this edit makes it {len(text)}")
        except ValueError as error:  # to the sender only; the document is as it was
            ws.send(json.dumps({"type": "error", "error": str(error)}))
            return
        self.text, self.version = text, self.version + 1
        self.sql.exec("INSERT INTO log VALUES (?, ?, ?)", self.version, user, json.dumps(ops))
        edit = {"type": "edit", "version": self.version, "user": user, "ops": ops}
        for other in self.ctx.getWebSockets():
            if other.readyState == 1:
                other.send(json.dumps(edit | {"type": "ack", "seq": seq} if other == ws else edit))
        if await self.ctx.storage.getAlarm() is None:
            await self.ctx.storage.setAlarm(datetime.now(UTC) + COMPACT_AFTER)

    def rebase(self, base: int, ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``ops`` made on version ``base``, rewritten to apply after every edit since then."""
        oldest = self.sql.exec("SELECT version FROM snapshot").one().version
        if not oldest <= base <= self.version:
            raise ValueError(f"base version {base} is not between {oldest} (the oldest edit kept) and "
                             f"{self.version} (the latest): reload the document")
        for row in self.sql.exec("SELECT ops FROM log WHERE version > ? ORDER BY version", base).toArray():
            ops, _ = transform_ops(ops, json.loads(row.ops), False)  # the object's order: earlier edits first
        return ops

    async def webSocketClose(self, ws: Any, code: int, reason: str, was_clean: bool) -> None:
        self.announce()

    async def alarm(self, alarm_info: Any = None) -> None:
        self.compact()

    def compact(self, keep: int = KEEP) -> int:
        """Fold all but the last ``keep`` log entries into the snapshot; how many were folded."""
        snap = self.sql.exec("SELECT version, text FROM snapshot").one()
        cut = self.version - keep
        if cut <= snap.version:
            return 0  # nothing old enough: running it again changes nothing
        text = snap.text
        for row in self.sql.exec("SELECT ops FROM log WHERE version > ? AND version <= ? ORDER BY version",
                                 snap.version, cut).toArray():
            text = apply_ops(text, json.loads(row.ops))
        self.sql.exec("UPDATE snapshot SET version = ?, text = ?", cut, text)
        self.sql.exec("DELETE FROM log WHERE version <= ?", cut)
        return int(cut - snap.version)


def doc_lab(**options: Any) -> Lab:
    """A lab with ``Document`` bound as ``DOC``, the binding the page's ``/doc/<name>/ws`` goes to."""
    return Lab(durable_objects={"DOC": Document}, **options)
