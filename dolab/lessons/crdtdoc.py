"""Chapter 11's second way to merge: a CRDT (Yjs, through its Python bindings ``pycrdt``).

Every client holds the whole document as a Yjs ``Doc`` and edits it locally at once; what it sends
is a Yjs *update* (bytes). Updates merge in any order and any number of times to the same text, so
the object does not order anything: ``CrdtDocument`` applies each update to its own copy (to answer
newcomers and to persist), stores it in SQL, and relays it to the other clients. On join it sends the
whole document as one update. Its alarm compacts the stored updates into one. Presence, as in
:mod:`dolab.lessons.docroom`, is the sockets' tags (JSON text messages; updates are binary).

The class is a copy of the chapter's (a test holds them equal).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

from pycrdt import Doc, Text

from dolab.lessons.docroom import USER
from dolab.runtime.fetch import Request, Response
from dolab.runtime.objects import DurableObject
from dolab.runtime.websockets import WebSocketPair

MAX_UPDATE = 64 * 1024  # bytes one update may hold
MAX_CRDT_DOCUMENT = 100_000  # characters
COMPACT_AFTER = timedelta(seconds=30)


class CrdtDocument(DurableObject):
    """One document as a Yjs Doc: updates applied, stored and relayed; merged by the CRDT, not here."""

    def __init__(self, ctx: Any, env: Any) -> None:
        super().__init__(ctx, env)
        self.sql = ctx.storage.sql
        self.sql.exec("CREATE TABLE IF NOT EXISTS updates (id INTEGER PRIMARY KEY, data BLOB)")
        self.load()

    def load(self) -> None:
        """The Doc from the stored updates (on every wake, and after a refused update)."""
        self.doc: Doc[Any] = Doc()
        self.doc["text"] = self.text = Text()
        for row in self.sql.exec("SELECT data FROM updates ORDER BY id").toArray():
            self.doc.apply_update(bytes(row.data))

    async def fetch(self, request: Request) -> Response:
        if request.headers.get("Upgrade") != "websocket":
            return Response("this document speaks WebSocket", status=426)
        user = parse_qs(urlparse(request.url).query).get("user", [""])[0]
        if not USER.match(user):
            return Response(f"user must be 1 to 32 letters, digits, '-' or '_', got {user!r}", status=400)
        client, server = WebSocketPair.new()
        self.ctx.acceptWebSocket(server, [user])
        server.send(self.doc.get_update())  # the whole document so far, as one update
        self.announce()
        return Response(None, status=101, web_socket=client)

    def announce(self) -> None:
        sockets = [ws for ws in self.ctx.getWebSockets() if ws.readyState == 1]
        online = sorted({t for ws in sockets for t in self.ctx.getTags(ws)})
        presence = json.dumps({"type": "presence", "online": online})
        for ws in sockets:
            ws.send(presence)

    async def webSocketMessage(self, ws: Any, message: str | bytes) -> None:
        try:
            if not isinstance(message, bytes):
                raise ValueError("this document takes Yjs updates as binary messages; got text")
            if len(message) > MAX_UPDATE:
                raise ValueError(f"an update may hold {MAX_UPDATE} bytes, got {len(message)}")
            self.doc.apply_update(message)  # a ValueError if it cannot be decoded
            if len(self.text) > MAX_CRDT_DOCUMENT:
                raise ValueError(f"a document may hold {MAX_CRDT_DOCUMENT} characters; this update makes it more")
        except ValueError as error:
            self.load()  # forget whatever it did: the stored updates are the document
            ws.send(json.dumps({"type": "error", "error": str(error)}))
            return
        self.sql.exec("INSERT INTO updates (data) VALUES (?)", message)
        for other in self.ctx.getWebSockets():
            if other != ws and other.readyState == 1:
                other.send(message)  # relayed as it came: the clients merge it themselves
        if await self.ctx.storage.getAlarm() is None:
            await self.ctx.storage.setAlarm(datetime.now(UTC) + COMPACT_AFTER)

    async def webSocketClose(self, ws: Any, code: int, reason: str, was_clean: bool) -> None:
        self.announce()

    async def alarm(self, alarm_info: Any = None) -> None:
        merged = self.doc.get_update()  # every update so far, as one
        self.sql.exec("DELETE FROM updates")
        self.sql.exec("INSERT INTO updates (data) VALUES (?)", merged)
