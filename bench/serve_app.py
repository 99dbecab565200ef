"""The Worker and objects the serve load test drives (``python -m dolab serve bench/serve_app.py``).

* ``POST /count``: one RPC to the ``Counter`` object, which adds 1 in storage and returns the new count.
* ``GET /count``: the count, without adding.
* ``/room/<name>``: a WebSocket on that ``EchoRoom`` (Hibernation API). A message ``"<id>:<n>"`` comes back
  to its sender as ``"ack <id>:<n>"``; a message starting with ``"all "`` goes to everyone in the room.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from dolab import DurableObject, Lab, Request, Response, WebSocketPair, WorkerEntrypoint


class Counter(DurableObject):
    async def add(self, n: int) -> int:
        count = (await self.ctx.storage.get("count") or 0) + n
        await self.ctx.storage.put("count", count)
        return count

    async def read(self) -> int:
        return await self.ctx.storage.get("count") or 0


class EchoRoom(DurableObject):
    async def fetch(self, request: Request) -> Response:
        client, server = WebSocketPair.new()
        self.ctx.acceptWebSocket(server)
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws: Any, message: str | bytes) -> None:
        if isinstance(message, str) and message.startswith("all "):
            for other in self.ctx.getWebSockets():
                other.send(message)
        else:
            ws.send(f"ack {message!s}")


class Default(WorkerEntrypoint):
    async def fetch(self, request: Request) -> Response:
        parts = urlparse(request.url).path.strip("/").split("/")
        if parts == ["count"]:
            counter = self.env.COUNTER.getByName("total")
            if request.method == "POST":
                return Response.json({"count": await counter.add(1)})
            return Response.json({"count": await counter.read()})
        if len(parts) == 2 and parts[0] == "room":
            return await self.env.ROOM.getByName(parts[1]).fetch(request)
        return Response("not found", status=404)


def load_lab(**options: Any) -> Lab:
    return Lab(durable_objects={"COUNTER": Counter, "ROOM": EchoRoom}, **options)
