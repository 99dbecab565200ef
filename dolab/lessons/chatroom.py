"""Chapter 07's chat room for real browsers: the room, a Worker in front of it, and a page.

``ChatRoom`` is the chapter's room (without its count of wake-ups). ``ChatWorker`` is what a deployed
chat puts in front of it: ``/room/<name>/ws?user=<name>`` upgrades to a WebSocket on the room of that
name, the way a Worker on Cloudflare forwards an upgrade to an object (the request keeps its
``Upgrade`` header, the user's name goes in ``x-user`` because a browser's WebSocket cannot set
headers). ``CHAT_PAGE`` is the folder of the page (served as static assets)::

    server = serve(chat_lab(), ChatWorker, assets=CHAT_PAGE)

or, from a shell, ``python -m dolab serve dolab/lessons/chatroom.py --assets dolab/lessons/chat_page``.
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
    """One room: every message goes to everyone in it (the Hibernation API, names in attachments)."""

    async def fetch(self, request: Request) -> Response:
        user = request.headers.get("x-user", "anonymous")
        client, server = WebSocketPair.new()
        self.ctx.acceptWebSocket(server, [user])  # Hibernation API
        server.serializeAttachment(json.dumps({"user": user}))  # text survives hibernation
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws: Any, message: str | bytes) -> None:
        user = json.loads(ws.deserializeAttachment())["user"]
        for other in self.ctx.getWebSockets():
            other.send(f"{user}: {message!s}")

    async def webSocketClose(self, ws: Any, code: int, reason: str, was_clean: bool) -> None:
        for other in self.ctx.getWebSockets():
            other.send(f"{json.loads(ws.deserializeAttachment())['user']} left")


class ChatWorker(WorkerEntrypoint):
    """``/room/<room>/ws?user=<user>``: a WebSocket on that room; anything else is 404."""

    async def fetch(self, request: Request) -> Response:
        url = urlparse(request.url)
        parts = url.path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "room" or parts[2] != "ws":
            return Response(f"no route for {url.path}; the chat is at / and its sockets at /room/<room>/ws",
                            status=404)
        if request.headers.get("upgrade", "").lower() != "websocket":
            return Response("expected a WebSocket upgrade (Upgrade: websocket)", status=426)
        user = parse_qs(url.query).get("user", [""])[0]
        for what, value in (("room", parts[1]), ("user", user)):
            if not NAME.match(value):
                return Response(f"{what} must be 1 to 32 letters, digits, '-' or '_', got {value!r}", status=400)
        room = self.env.ROOM.getByName(parts[1])
        answer: Response = await room.fetch(request.url, headers={"upgrade": "websocket", "x-user": user})
        return answer


def chat_lab(**options: Any) -> Lab:
    """A lab with the room bound as ``ROOM``, the binding ``ChatWorker`` uses."""
    return Lab(durable_objects={"ROOM": ChatRoom}, **options)
