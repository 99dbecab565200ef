"""Chapter 07's chat room for real browser tabs: the room, a Worker in front of it, and a page.

``ChatRoom`` is the chapter's room. ``ChatWorker`` is what a deployed chat may put in front of it:
``/room/<name>/ws?user=<name>`` goes to the room of that name (the user's name travels in the URL,
as a browser's WebSocket cannot set headers), after checking both names. ``CHAT_PAGE`` is the folder
of the page (served as static assets)::

    server = serve(chat_lab(), ChatWorker, assets=CHAT_PAGE)

or, from a shell, ``python -m dolab serve dolab/lessons/chatroom.py --assets dolab/lessons/chat_page``.
The chapter's own notebook serves the same page behind the Worker ``dolab export`` generates:
``python -m dolab serve notebooks/07_websockets_chat.ipynb --class ChatRoom --assets dolab/lessons/chat_page``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from dolab.runtime.fetch import Request, Response
from dolab.runtime.lab import Lab
from dolab.runtime.objects import DurableObject
from dolab.runtime.websockets import WebSocketPair
from dolab.runtime.worker import WorkerEntrypoint

CHAT_PAGE = Path(__file__).resolve().parent / "chat_page"
NAME = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class ChatRoom(DurableObject):
    """One room: every message goes to everyone in it; the last ten greet whoever joins."""

    def __init__(self, ctx: Any, env: Any) -> None:
        super().__init__(ctx, env)
        ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, user TEXT, text TEXT)")

    async def fetch(self, request: Request) -> Response:
        if request.headers.get("Upgrade") != "websocket":
            return Response("this room speaks WebSocket", status=426)
        user = parse_qs(urlparse(request.url).query).get("user", ["anonymous"])[0]
        client, server = WebSocketPair.new()
        self.ctx.acceptWebSocket(server, [user])  # Hibernation API; the tag names the user
        server.serializeAttachment(json.dumps({"user": user}))  # text: it survives hibernation
        recent = self.ctx.storage.sql.exec("SELECT user, text FROM messages ORDER BY id DESC LIMIT 10").toArray()
        for row in reversed(recent):  # what was said before you came
            server.send(f"{row.user}: {row.text}")
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws: Any, message: str | bytes) -> None:
        user = json.loads(ws.deserializeAttachment())["user"]
        self.ctx.storage.sql.exec("INSERT INTO messages (user, text) VALUES (?, ?)", user, message)
        for other in self.ctx.getWebSockets():
            other.send(f"{user}: {message}")  # type: ignore[str-bytes-safe]  # as the chapter writes it

    async def webSocketClose(self, ws: Any, code: int, reason: str, was_clean: bool) -> None:
        user = json.loads(ws.deserializeAttachment())["user"]
        for other in self.ctx.getWebSockets():
            if other.readyState == 1:  # OPEN: the closing socket may still be listed
                other.send(f"{user} left")


class ChatWorker(WorkerEntrypoint):
    """``/room/<room>/ws?user=<user>`` goes to that room; names are checked first; anything else is 404."""

    async def fetch(self, request: Request) -> Response:
        url = urlparse(request.url)
        parts = url.path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "room" or parts[2] != "ws":
            return Response(f"no route for {url.path}; the chat is at / and its sockets at /room/<room>/ws",
                            status=404)
        user = parse_qs(url.query).get("user", [""])[0]
        for what, value in (("room", parts[1]), ("user", user)):
            if not NAME.match(value):
                return Response(f"{what} must be 1 to 32 letters, digits, '-' or '_', got {value!r}", status=400)
        answer: Response = await self.env.ROOM.getByName(parts[1]).fetch(request)
        return answer


def chat_lab(**options: Any) -> Lab:
    """A lab with the room bound as ``ROOM``, the binding ``ChatWorker`` uses."""
    return Lab(durable_objects={"ROOM": ChatRoom}, **options)
