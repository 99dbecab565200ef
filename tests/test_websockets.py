"""WebSockets: pairs, the Hibernation API, attachments, auto-response, the standard API, billing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dolab import DurableObject, DurableObjectError, Lab, LabError, Response, StorageRangeError, WebSocketPair
from dolab import WebSocketRequestResponsePair as Pair


class Room(DurableObject):
    constructed = 0

    def __init__(self, ctx: Any, env: Any) -> None:
        super().__init__(ctx, env)
        type(self).constructed += 1
        self.seen = 0
        ctx.setWebSocketAutoResponse(Pair("ping", "pong"))

    async def fetch(self, request: Any) -> Response:
        client, server = WebSocketPair.new()
        user = request.headers.get("x-user", "anon")
        if request.url.endswith("/standard"):
            server.accept()
            server.addEventListener("message", lambda event: server.send(f"echo {event['data']}"))
        else:
            self.ctx.acceptWebSocket(server, [user, "chat"])
            server.serializeAttachment(json.dumps({"user": user}))
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws: Any, message: Any) -> None:
        self.seen += 1
        who = json.loads(ws.deserializeAttachment())["user"]
        for other in self.ctx.getWebSockets("chat"):
            other.send(f"{who}: {message} (seen {self.seen})")

    async def webSocketClose(self, ws: Any, code: int, reason: str, was_clean: bool) -> None:
        for other in self.ctx.getWebSockets():
            other.send(f"{json.loads(ws.deserializeAttachment())['user']} left ({code})")

    async def tags_of_all(self) -> list[list[str]]:
        return [self.ctx.getTags(ws) for ws in self.ctx.getWebSockets()]


def connect(lab: Lab, user: str, path: str = "/ws") -> Any:
    response = lab.run(lab.env.ROOM.getByName("lobby").fetch(f"https://chat{path}", headers={"x-user": user}))
    assert response.status == 101
    return response.webSocket


@pytest.fixture
def lab() -> Any:
    Room.constructed = 0
    with Lab(durable_objects={"ROOM": Room}) as the_lab:
        yield the_lab


def test_messages_fan_out_to_every_client(lab: Lab) -> None:
    alice, bob = connect(lab, "alice"), connect(lab, "bob")
    alice.send("hello")
    lab.advance(0.1)
    assert alice.received == bob.received == ["alice: hello (seen 1)"]
    assert lab.run(lab.env.ROOM.getByName("lobby").tags_of_all()) == [["alice", "chat"], ["bob", "chat"]]


def test_object_hibernates_with_clients_connected_and_wakes_on_a_message(lab: Lab) -> None:
    alice = connect(lab, "alice")
    lab.advance(30)
    assert lab.statistics().active == 0  # hibernated; the socket stays open
    alice.send("anyone?")
    lab.advance(0.1)
    assert Room.constructed == 2  # the constructor ran again
    assert alice.received == ["alice: anyone? (seen 1)"]  # in-memory `seen` started over...
    assert alice.deserializeAttachment() is None  # (the client end has no attachment)


def test_attachment_survives_hibernation(lab: Lab) -> None:
    alice = connect(lab, "alice")
    lab.advance(30)
    alice.send("hi")
    lab.advance(0.1)
    assert alice.received == ["alice: hi (seen 1)"]  # the name came from the attachment


def test_auto_response_does_not_wake_the_object(lab: Lab) -> None:
    alice = connect(lab, "alice")
    lab.advance(30)
    alice.send("ping")
    lab.advance(0.1)
    assert alice.received == ["pong"]
    assert Room.constructed == 1 and lab.statistics().active == 0


def test_close_reaches_the_object(lab: Lab) -> None:
    alice, bob = connect(lab, "alice"), connect(lab, "bob")
    bob.close(1000, "bye")
    lab.advance(0.1)
    assert alice.received == ["bob left (1000)"]
    with pytest.raises(LabError, match="not open"):
        bob.send("too late")


def test_standard_sockets_pin_the_object_and_bill_duration(lab: Lab) -> None:
    client = connect(lab, "carol", "/standard")
    client.send("one")
    lab.advance(0.1)
    assert client.received == ["echo one"]
    lab.advance(60)
    stats = lab.statistics()
    assert stats.active == 1  # no hibernation while a standard socket is open
    assert stats.active_seconds == pytest.approx(60.1, abs=0.01)


def test_hibernatable_sockets_bill_no_idle_time(lab: Lab) -> None:
    connect(lab, "dan")
    lab.advance(3600)
    assert lab.statistics().active_seconds == 0.0


def test_limits(lab: Lab) -> None:
    with pytest.raises(StorageRangeError, match="at most 2048 characters"):
        Pair("x" * 2049, "y")

    class Tags(DurableObject):
        async def fetch(self, request: Any) -> Response:
            client, server = WebSocketPair.new()
            self.ctx.acceptWebSocket(server, [f"t{i}" for i in range(11)])
            return Response(None, status=101, web_socket=client)

        async def big(self) -> None:
            _, server = WebSocketPair.new()
            server.serializeAttachment("x" * 20_000)

        async def dict_attachment(self) -> None:
            _, server = WebSocketPair.new()
            server.serializeAttachment({"user": "ada"})

    with Lab(durable_objects={"T": Tags}) as other:
        with pytest.raises(DurableObjectError, match="^RangeError: at most 10 tags"):
            other.run(other.env.T.getByName("t").fetch("https://t/ws"))
        with pytest.raises(DurableObjectError, match="^RangeError: A WebSocket 'attachment' cannot be larger"):
            other.run(other.env.T.getByName("t").big())
        with pytest.raises(DurableObjectError, match="^TypeError: dict could not be cloned") as info:
            other.run(other.env.T.getByName("t").dict_attachment())
        assert any("json.dumps" in note for note in getattr(info.value.__cause__, "__notes__", []))
    with pytest.raises(LabError, match="inside a Durable Object"):
        WebSocketPair.new()


def test_auto_response_getters_and_removal() -> None:
    class Pinger(DurableObject):
        async def fetch(self, request: Any) -> Response:
            client, server = WebSocketPair.new()
            self.ctx.acceptWebSocket(server)
            return Response(None, status=101, web_socket=client)

        async def configure(self, on: bool) -> Any:
            # Pyodide spells a JS constructor call .new(...); dolab accepts both spellings
            self.ctx.setWebSocketAutoResponse(Pair.new("ping", "pong") if on else None)
            pair = self.ctx.getWebSocketAutoResponse()
            return None if pair is None else [pair.request, pair.response]

        async def last_auto(self) -> Any:
            (ws,) = self.ctx.getWebSockets()
            return self.ctx.getWebSocketAutoResponseTimestamp(ws)

        async def webSocketMessage(self, ws: Any, message: Any) -> None:
            ws.send(f"object saw {message}")

    with Lab(durable_objects={"P": Pinger}) as lab:
        stub = lab.env.P.getByName("p")
        client = lab.run(stub.fetch("https://p/ws")).webSocket
        assert lab.run(stub.configure(True)) == ["ping", "pong"]
        assert lab.run(stub.last_auto()) is None
        lab.advance(5)
        client.send("ping")
        lab.advance(0.1)
        assert client.received == ["pong"]
        assert lab.run(stub.last_auto()) == pytest.approx(lab.time_ms - 100, abs=1)
        assert lab.run(stub.configure(False)) is None
        client.send("ping")
        lab.advance(0.1)
        assert client.received == ["pong", "object saw ping"]  # no auto-response any more


def test_messages_on_one_socket_arrive_in_the_order_sent_whatever_the_jitter() -> None:
    """A WebSocket is one ordered stream: jittered transit times must not reorder its messages."""
    from dolab.runtime.context import current_region
    from dolab.sim.network import Network

    class Log(DurableObject):
        async def fetch(self, request: Any) -> Response:
            client, server = WebSocketPair.new()
            self.ctx.acceptWebSocket(server)
            return Response(None, status=101, web_socket=client)

        async def webSocketMessage(self, ws: Any, message: Any) -> None:
            await self.ctx.storage.put(f"{await self.ctx.storage.get('n') or 0:04}", message)
            await self.ctx.storage.put("n", (await self.ctx.storage.get("n") or 0) + 1)

        async def log(self) -> list[str]:
            return [v for k, v in (await self.ctx.storage.list()).items() if k != "n"]

    for seed in range(3):
        with Lab(durable_objects={"LOG": Log}, network=Network(first_use=False), seed=seed) as lab:
            stub = lab.env.LOG.getByName("doc", {"locationHint": "wnam"})

            async def open_and_send(stub: Any = stub) -> Any:
                token = current_region.set("australiaeast")  # a far client: a wide spread of transit times
                try:
                    ws = (await stub.fetch("https://doc/ws")).webSocket
                    for i in range(60):
                        ws.send(f"m{i:02}")
                    return ws
                finally:
                    current_region.reset(token)

            lab.run(open_and_send())
            lab.advance(5)
            assert lab.run(stub.log()) == [f"m{i:02}" for i in range(60)], f"seed {seed}: reordered"
