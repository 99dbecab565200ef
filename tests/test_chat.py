"""Chapter 07's chat: the demo and its panel, a room's traffic and bill, and the timer that keeps a room awake."""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from dolab import DurableObject, Lab, LabError, Network, Response, WebSocketPair
from dolab.lessons.chat import ChatDemo, connect, monthly_usage, run_traffic
from dolab.runtime.awake import _place


class Room(DurableObject):
    """The chapter's room, in short: Hibernation API, the user in the URL, a JSON attachment."""

    async def fetch(self, request: Any) -> Response:
        if request.headers.get("Upgrade") != "websocket":
            return Response("WebSocket only", status=426)
        user = parse_qs(urlparse(request.url).query)["user"][0]
        client, server = WebSocketPair.new()
        self.ctx.acceptWebSocket(server, [user])
        server.serializeAttachment(json.dumps({"user": user}))
        await self.ctx.storage.put("joined", user)  # a room that stores something is counted when it sleeps
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws: Any, message: Any) -> None:
        user = json.loads(ws.deserializeAttachment())["user"]
        for other in self.ctx.getWebSockets():
            other.send(f"{user}: {message}")


class StandardRoom(DurableObject):
    async def fetch(self, request: Any) -> Response:
        client, server = WebSocketPair.new()
        server.accept()
        server.addEventListener("message", lambda event: server.send(event["data"]))
        return Response(None, status=101, web_socket=client)


class HeartbeatRoom(Room):
    """A room with a library's keepalive: a task that sends to every client every 30 s."""

    def __init__(self, ctx: Any, env: Any) -> None:
        super().__init__(ctx, env)
        self.beat = asyncio.ensure_future(self.heartbeat())

    async def heartbeat(self) -> None:
        while True:
            await asyncio.sleep(30)
            for ws in self.ctx.getWebSockets():
                ws.send("heartbeat")


USERS = {"alice": "westeurope", "bob": "australiaeast", "carol": "eastus"}


def test_the_demo_connects_as_a_browser_would_and_times_each_message_by_region() -> None:
    with Lab(durable_objects={"ROOM": Room}, network=Network(), seed=1) as lab:
        chat = ChatDemo(lab, "ROOM", users=USERS)
        assert chat.region == "westeurope"  # placed near its first user
        got = {d.recipient: d.latency_ms for d in chat.send("alice", "hi")}
        assert set(got) == set(USERS)
        assert got["alice"] < 20 < 40 < got["carol"] < 100 < got["bob"]
        back = {d.recipient: d.latency_ms for d in chat.send("bob", "hey")}
        assert back["alice"] < back["bob"] and back["bob"] > 200  # Sydney -> Amsterdam -> Sydney
        assert [d.text for d in chat.inbox("carol")] == ["alice: hi", "bob: hey"]
        assert chat.in_memory
        chat.wait(60)
        assert not chat.in_memory and len(chat.clients) == 3  # hibernated, still connected
        assert chat.send("carol", "still here?")[0].text == "carol: still here?"
        with pytest.raises(LabError, match="'zed' is not in the room"):
            chat.send("zed", "hi")
        with pytest.raises(LabError, match="already in the room"):
            chat.join("alice", "westeurope")
        assert lab.run(chat.stub.fetch("https://chat.example/ws?user=x")).status == 426  # no Upgrade header


def test_the_panel_shows_what_code_sent_sends_on_enter_and_is_busy_while_sending() -> None:
    from dolab.view.chat_panel import chat_panel

    with Lab(durable_objects={"ROOM": Room}, network=Network(), seed=1) as lab:
        chat = ChatDemo(lab, "ROOM", users=USERS)
        panel = chat_panel(chat)
        assert "no messages yet" in panel.logs["bob"].value
        chat.send("alice", "from a later cell")  # not through the panel
        assert "alice: from a later cell" in panel.logs["bob"].value and " ms)" in panel.logs["bob"].value

        seen_busy = []
        chat.subscribe(lambda: seen_busy.append((panel.inputs["carol"].disabled, panel.status.value)))
        panel.inputs["bob"].value = "typed, then Enter"
        panel.inputs["bob"]._handle_string_msg(None, {"event": "submit"}, None)  # what the browser sends on Enter
        assert "bob: typed, then Enter" in panel.logs["alice"].value
        assert panel.inputs["bob"].value == ""  # the box is cleared
        assert seen_busy[0][0] is True and "sending" in seen_busy[0][1]  # disabled while on its way
        assert not panel.inputs["carol"].disabled and "in memory" in panel.status.value

        panel.inputs["carol"].value = "clicked"
        panel.sends["carol"].click()
        assert "carol: clicked" in panel.logs["bob"].value
        assert panel.send("carol") == []  # an empty box sends nothing

        chat.wait(60)
        assert "hibernating" in panel.status.value and "3 client(s)" in panel.status.value
    assert panel.send("alice", "after the lab closed") == []
    assert "could not send" in panel.status.value and "closed" in panel.status.value
    assert not panel.inputs["alice"].disabled  # not left busy


def test_a_hibernating_room_is_billed_for_its_work_a_standard_one_for_the_hour() -> None:
    hibernating = run_traffic(Room, clients=10, rounds=60)
    standard = run_traffic(StandardRoom, clients=10, rounds=60)
    assert hibernating.billed_seconds == pytest.approx(600 * 0.010, rel=0.05)  # 600 messages x 10 ms
    assert standard.billed_seconds >= 3600  # pinned by its accept()ed sockets
    assert hibernating.usage.ws_messages == standard.usage.ws_messages == 600
    assert hibernating.hibernated == 60 and hibernating.awake == ()
    assert "accept()" in standard.awake[0]
    for got in hibernating.received.values():
        assert sum(m.startswith("u3: message") for m in got) == 60


def test_a_keepalive_keeps_a_busy_room_awake_and_a_quiet_one_for_70_to_140_s_after_each_message() -> None:
    busy = run_traffic(HeartbeatRoom, clients=3, rounds=30)  # a message a minute: never 70 s of quiet
    assert busy.billed_seconds >= 30 * 60 and busy.evicted == 0 and busy.hibernated == 0
    (blocker,) = busy.awake
    assert "heartbeat()" in blocker and "test_chat.py" in blocker and "ensure_future(self.heartbeat())" in blocker
    quiet = run_traffic(HeartbeatRoom, clients=3, rounds=6, every=600)
    # Its own heartbeats are no incoming events: evicted 70-140 s after each round, timer and all.
    assert quiet.evicted == 6 and quiet.hibernated == 0
    assert 6 * 70 <= quiet.billed_seconds <= 6 * 141
    heartbeats = quiet.received["u0"].count("heartbeat")
    assert 6 * 2 <= heartbeats <= 6 * 4  # every 30 s while in memory, none while evicted


def test_a_month_of_rooms_and_its_bill() -> None:
    from dolab.view.room_costs import plot_room_costs, room_costs_frame

    standard = run_traffic(StandardRoom, clients=10, rounds=60)
    month = monthly_usage(standard, rooms=100)
    assert month.ws_messages == pytest.approx(600 * 720 * 100)
    assert month.active_seconds == pytest.approx(standard.billed_seconds * 720 * 100)
    with pytest.raises(LabError, match="rooms must be an int >= 1"):
        monthly_usage(standard, rooms=0)
    frame = room_costs_frame([standard, run_traffic(Room, clients=10, rounds=60)], rooms=100)
    # The docs' arithmetic: 100 objects billed all month, 128 MB each, $12.50 per million GB-s over 400,000.
    expected = (3600.1 * 720 * 100 * 0.128 - 400_000) * 12.5 / 1e6
    assert frame.loc["StandardRoom", "duration USD"] == pytest.approx(expected, rel=0.01)
    assert frame.loc["Room", "duration USD"] == 0  # inside the GB-s included
    # 43.2 million messages at 20:1 plus the 72,000 connections a month: billed requests
    assert frame.loc["Room", "billed requests"] == pytest.approx(43_200_000 / 20 + 720_000)
    fig = plot_room_costs(frame)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["StandardRoom", "Room"]


def test_a_blocker_started_in_a_notebook_cell_says_so() -> None:
    # Jupyter's kernel names a cell's file <temp folder>/ipykernel_<pid>/<hash>.py
    cell_file = Path(tempfile.gettempdir(), "ipykernel_4242", "2599332556.py")
    assert _place(str(cell_file), 10) == "a notebook cell, line 10"
    assert _place(str(Path("src", "rooms.py")), 7) == "rooms.py:7"


def test_connect_refuses_what_is_not_a_websocket() -> None:
    class NotARoom(DurableObject):
        async def fetch(self, request: Any) -> Response:
            return Response("no")

    with Lab(durable_objects={"ROOM": NotARoom}) as lab, pytest.raises(LabError, match="for 'ann' .status 200."):
        connect(lab, lab.env.ROOM.getByName("x"), "ann")


def test_messages_in_flight_belong_to_no_object() -> None:
    """A heartbeat to Sydney takes ~140 ms to arrive; meanwhile why_awake names the heartbeat, not the messages."""
    with Lab(durable_objects={"ROOM": HeartbeatRoom}, network=Network(), seed=1) as lab:
        chat = ChatDemo(lab, "ROOM", users={"alice": "westeurope", "bob": "australiaeast"})
        seen = set()
        for step in range(3000, 3100):  # 30.00 s to 31.00 s: the first heartbeat, in flight
            lab.run(until=step / 100)
            seen.add(tuple(b.what for b in lab.why_awake(chat.stub)))
        assert seen == {("HeartbeatRoom.heartbeat() still pending",)}
        assert chat.inbox("bob") == [] and lab.statistics().ws_messages == 0
        assert chat.clients["bob"].received.count("heartbeat") == 1
