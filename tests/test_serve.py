"""``dolab serve``: a lab's Worker and objects behind a real HTTP and WebSocket server.

Real clients only: httpx for HTTP, the ``websockets`` library for WebSockets, over loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from dolab import ConfigError, DurableObject, Lab, Request, Response, WebSocketPair, WorkerEntrypoint
from dolab.lessons.chatroom import CHAT_PAGE, ChatWorker, chat_lab
from dolab.tools.serve import Server, serve

ROOT = Path(__file__).resolve().parent.parent


class Notes(DurableObject):
    async def add(self, text: str) -> int:
        notes = (await self.ctx.storage.get("notes")) or []
        notes.append(text)
        await self.ctx.storage.put("notes", notes)
        return len(notes)

    async def all(self) -> list[str]:
        return (await self.ctx.storage.get("notes")) or []


STANDARD_CLOSES: list[dict[str, Any]] = []


class Standard(DurableObject):
    """The standard WebSocket API: accept() and listeners; says 'bye' and closes on 'quit'."""

    async def fetch(self, request: Request) -> Response:
        client, server = WebSocketPair.new()
        server.accept()

        def on_message(event: Any) -> None:
            if event["data"] == "quit":
                server.send("bye")
                server.close(4000, "asked to quit")
            else:
                server.send(event["data"].upper())

        server.addEventListener("message", on_message)
        server.addEventListener("close", lambda event: STANDARD_CLOSES.append(event))
        server.send("welcome")  # before the 101 leaves: must still reach the client, first
        return Response(None, status=101, web_socket=client)


class Echo(WorkerEntrypoint):
    """Shows what a Worker sees, and reaches the objects through env."""

    async def fetch(self, request: Request) -> Response:
        url = urlparse(request.url)
        if url.path == "/echo":
            return Response.json({"method": request.method, "url": request.url, "body": await request.text(),
                                  "headers": dict(request.headers)},
                                 status=201, headers={"x-seen": request.headers.get("x-test", "-")})
        if url.path == "/notes" and request.method == "POST":
            count = await self.env.NOTES.getByName("mine").add(await request.text())
            return Response.json({"count": count})
        if url.path == "/notes":
            return Response.json(await self.env.NOTES.getByName("mine").all())
        if url.path == "/boom":
            raise KeyError("no such thing")
        if url.path == "/stream":
            async def events() -> AsyncIterator[str]:
                for i in range(3):
                    yield f"data: {i}\n\n"
                    await asyncio.sleep(0.3)
            return Response(events(), headers={"content-type": "text/event-stream"})
        if url.path == "/standard":
            return await self.env.STANDARD.getByName("s").fetch(request)
        if url.path == "/nobody":
            return Response(None, status=204)
        return Response(f"nothing at {url.path}", status=404)


@pytest.fixture
def served() -> Iterator[Server]:
    lab = Lab(durable_objects={"NOTES": Notes, "STANDARD": Standard})
    server = serve(lab, Echo)
    try:
        yield server
    finally:
        server.stop()
        lab.close()


def ws_url(server: Server, path: str) -> str:
    return server.url.replace("http://", "ws://") + path


# --- HTTP --------------------------------------------------------------------------------------------------


def test_the_worker_sees_the_request_as_the_fetch_api_shows_it(served: Server) -> None:
    headers = [("X-Test", "one"), ("x-test", "two"), ("Content-Type", "text/plain")]
    response = httpx.post(f"{served.url}/echo?a=1&b=%20x", content="héllo".encode(), headers=headers)
    assert response.status_code == 201
    assert response.headers["x-seen"] == "one, two"
    seen = response.json()
    assert seen["method"] == "POST"
    assert seen["url"] == f"{served.url}/echo?a=1&b=%20x"
    assert seen["body"] == "héllo"
    assert seen["headers"]["x-test"] == "one, two"  # a repeated name is one value joined with ", "
    assert seen["headers"]["content-type"] == "text/plain"
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["content-length"]) == len(response.content)


def test_requests_reach_objects_through_env_and_storage_is_real(served: Server) -> None:
    for text in ("a", "b", "c"):
        assert httpx.post(f"{served.url}/notes", content=text).json()["count"] in (1, 2, 3)
    assert httpx.get(f"{served.url}/notes").json() == ["a", "b", "c"]
    stub = served.lab.env.NOTES.getByName("mine")
    assert served.lab.run(stub.all()) == ["a", "b", "c"]  # the notebook sees the same object meanwhile


def test_unknown_route_status_and_empty_body_pass_through(served: Server) -> None:
    missing = httpx.get(f"{served.url}/no/such/place")
    assert (missing.status_code, missing.text) == (404, "nothing at /no/such/place")
    assert missing.headers["content-type"] == "text/plain;charset=UTF-8"  # a str body, as new Response("...")
    empty = httpx.get(f"{served.url}/nobody")
    assert (empty.status_code, empty.content) == (204, b"")


def test_a_worker_exception_is_a_500_naming_it_and_the_server_goes_on(served: Server) -> None:
    broken = httpx.get(f"{served.url}/boom")
    assert broken.status_code == 500
    assert "KeyError" in broken.text and "no such thing" in broken.text
    assert httpx.get(f"{served.url}/notes").status_code == 200


def test_a_streamed_body_reaches_the_client_chunk_by_chunk(served: Server) -> None:
    arrivals = []
    started = time.monotonic()
    with httpx.stream("GET", f"{served.url}/stream") as response:
        assert response.headers["content-type"] == "text/event-stream"
        for line in response.iter_lines():
            if line:
                arrivals.append((line, time.monotonic() - started))
    assert [line for line, _ in arrivals] == ["data: 0", "data: 1", "data: 2"]
    # each event left as it was produced, 0.3 s apart, not all at the end
    assert arrivals[0][1] < 0.25 and arrivals[2][1] - arrivals[0][1] > 0.5


# --- WebSockets ---------------------------------------------------------------------------------------------


def test_two_clients_chat_through_one_room_and_the_room_hears_them_leave() -> None:
    lab = chat_lab()
    with serve(lab, ChatWorker, assets=CHAT_PAGE) as server:
        page = httpx.get(f"{server.url}/")
        assert page.status_code == 200 and "<title>dolab chat</title>" in page.text  # the page, as an asset
        with connect(ws_url(server, "/room/lobby/ws?user=alice")) as alice:
            with connect(ws_url(server, "/room/lobby/ws?user=bob")) as bob:
                alice.send("hello bob")
                assert bob.recv(timeout=5) == "alice: hello bob"
                assert alice.recv(timeout=5) == "alice: hello bob"
                bob.send(b"binary too")
                assert alice.recv(timeout=5) == "bob: b'binary too'"
            assert alice.recv(timeout=5) == "bob left"  # webSocketClose ran in the room
        with connect(ws_url(server, "/room/other/ws?user=carol")) as carol:
            carol.send("anyone?")
            assert carol.recv(timeout=5) == "carol: anyone?"  # another room, another object
    lab.close()


def test_an_object_hibernates_while_real_clients_stay_connected() -> None:
    lab = chat_lab()
    with serve(lab, ChatWorker) as server, connect(ws_url(server, "/room/lobby/ws?user=alice")) as alice:
        alice.send("one")
        assert alice.recv(timeout=5) == "alice: one"
        started = time.monotonic()
        lab.advance(30)  # while serving: a jump of 30 s, at once; the room hibernates at 10 s idle
        assert time.monotonic() - started < 5
        assert lab.statistics().active == 0 and lab.statistics().constructed == 1  # out of memory
        alice.send("two")  # wakes it; the name came back from the attachment
        assert alice.recv(timeout=5) == "alice: two"
        assert lab.statistics().constructed == 2
    lab.close()


def test_the_standard_api_and_a_close_from_the_object(served: Server) -> None:
    with connect(ws_url(served, "/standard")) as ws:
        assert ws.recv(timeout=5) == "welcome"
        ws.send("shout")
        assert ws.recv(timeout=5) == "SHOUT"
        ws.send("quit")
        assert ws.recv(timeout=5) == "bye"
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4000, "asked to quit")


def test_the_standard_api_hears_a_client_leave_cleanly_or_vanish(served: Server) -> None:
    STANDARD_CLOSES.clear()
    with connect(ws_url(served, "/standard")) as ws:
        assert ws.recv(timeout=5) == "welcome"
        ws.close(4002, "leaving")
    with connect(ws_url(served, "/standard")) as ws:
        assert ws.recv(timeout=5) == "welcome"
        ws.socket.shutdown(socket.SHUT_RDWR)  # no close frame
        deadline = time.monotonic() + 5
        while len(STANDARD_CLOSES) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert STANDARD_CLOSES == [{"code": 4002, "reason": "leaving", "wasClean": True},
                               {"code": 1006, "reason": "", "wasClean": False}]


def test_a_websocket_answer_to_a_plain_request_is_a_500_as_in_workerd(served: Server) -> None:
    answer = httpx.get(f"{served.url}/standard")  # the object answers 101, but nobody asked to upgrade
    assert answer.status_code == 500
    assert "did not request WebSocket upgrade" in answer.text


def test_an_upgrade_the_worker_refuses_gets_the_workers_response() -> None:
    lab = chat_lab()
    with serve(lab, ChatWorker) as server:
        with pytest.raises(InvalidStatus) as refused:
            connect(ws_url(server, "/room/lobby/ws?user=no%20spaces"))
        assert refused.value.response.status_code == 400
        assert b"user must be 1 to 32 letters" in refused.value.response.body
        with pytest.raises(InvalidStatus) as missing:
            connect(ws_url(server, "/elsewhere"))
        assert missing.value.response.status_code == 404
        assert httpx.get(f"{server.url}/room/lobby/ws?user=a").status_code == 426  # no upgrade asked
    lab.close()


# --- time while serving --------------------------------------------------------------------------------------


def test_the_clock_follows_the_wall_clock_while_serving_and_jumps_again_after() -> None:
    lab = Lab(durable_objects={"NOTES": Notes})
    lab.advance(100)
    server = serve(lab, Echo)
    try:
        start = lab.now
        time.sleep(0.5)
        assert 0.4 < lab.now - start < 3  # real seconds pass on the lab clock
        before, started = lab.now, time.monotonic()
        assert lab.advance(60) >= before + 60  # a jump ahead,
        assert time.monotonic() - started < 5  # at once
    finally:
        server.stop()
    still = lab.now
    time.sleep(0.3)
    assert lab.now == still  # stopped: the clock stands still between calls again
    assert lab.advance(3600) == pytest.approx(still + 3600)
    lab.close()


def test_serve_refuses_what_it_cannot_serve() -> None:
    lab = Lab()
    with pytest.raises(ConfigError, match="WorkerEntrypoint subclass"):
        serve(lab, Notes)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="assets must be a folder"):
        serve(lab, Echo, assets=ROOT / "no-such-folder")
    with serve(lab, Echo) as first, pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{first.port}"):
        serve(lab, Echo, port=first.port)
    lab.close()


# --- the command -----------------------------------------------------------------------------------------------


@contextlib.contextmanager
def running(*args: str, stop: signal.Signals = signal.SIGINT) -> Iterator[str]:
    """``dolab serve ARGS --port 0`` in a child process: its address; stopped with Ctrl-C (SIGINT) after,
    or with ``stop``."""
    proc = subprocess.Popen([sys.executable, "-m", "dolab", "serve", *args, "--port", "0"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    with proc, proc.stdout:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            found = re.search(r"listening on (http://\S+)", line)
            if found:
                break
        else:
            proc.wait()
            raise AssertionError("dolab serve did not start:\n" + "".join(lines))
        try:
            yield found.group(1)
        finally:
            proc.send_signal(stop)
            rest = proc.stdout.read()
            assert proc.wait(timeout=20) == 0, rest
            assert "stopping" in rest


def test_dolab_serve_runs_the_chat_and_stops_on_ctrl_c() -> None:
    with running("dolab/lessons/chatroom.py", "--assets", "dolab/lessons/chat_page") as url:
        assert "<title>dolab chat</title>" in httpx.get(url).text
        with connect(url.replace("http://", "ws://") + "/room/x/ws?user=ann") as ann:
            ann.send("hi")
            assert ann.recv(timeout=5) == "ann: hi"


def test_dolab_serve_runs_chapter_07s_own_room_behind_exports_router() -> None:
    """The notebook has no Worker: the router dolab export would deploy sends /room/<name>/... to the
    chapter's ChatRoom, run from the notebook's own cells (only those the class needs)."""
    command = ("notebooks/07_websockets_chat.ipynb", "--class", "ChatRoom", "--assets", "dolab/lessons/chat_page")
    with running(*command, stop=signal.SIGTERM) as url:
        base = url.replace("http://", "ws://")
        assert "<title>dolab chat</title>" in httpx.get(url).text
        with connect(f"{base}/room/lobby/ws?user=ann") as ann:
            ann.send("hello")
            assert ann.recv(timeout=5) == "ann: hello"
            with connect(f"{base}/room/lobby/ws?user=bo") as bo:
                assert bo.recv(timeout=5) == "ann: hello"  # the room's history, from its SQLite table
                bo.send("hi ann")
                assert ann.recv(timeout=5) == "bo: hi ann"


def test_dolab_serve_says_why_it_cannot_start() -> None:
    result = subprocess.run([sys.executable, "-m", "dolab", "serve", "no_such_module_here"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "no_such_module_here" in result.stderr


# --- what serving relies on in the runtime, seen in-process ------------------------------------------------------


def test_a_streamed_response_reads_whole_in_process_and_its_body_streams_once() -> None:
    async def parts() -> AsyncIterator[str | bytes]:
        yield "a"
        yield b"b"

    lab = Lab()
    response = Response(parts())
    assert response.streamed and "content-type" not in response.headers
    assert lab.run(response.text()) == "ab"
    assert not response.streamed and lab.run(response.text()) == "ab"  # read once, kept
    assert Response("x").headers["content-type"] == "text/plain;charset=UTF-8"
    assert Response(b"x").headers.get("content-type") is None
    assert Response("{}", headers={"Content-Type": "application/json"}).headers["content-type"] == "application/json"
    lab.close()


def test_send_then_close_delivers_the_message_before_the_close() -> None:
    class Closer(DurableObject):
        async def fetch(self, request: Request) -> Response:
            client, server = WebSocketPair.new()
            self.ctx.acceptWebSocket(server)
            return Response(None, status=101, web_socket=client)

        async def webSocketMessage(self, ws: Any, message: Any) -> None:
            ws.send("bye")
            ws.close(4001, "done")

    lab = Lab(durable_objects={"C": Closer})
    client = lab.run(lab.env.C.getByName("c").fetch("https://c/")).webSocket
    closes: list[Any] = []
    client.addEventListener("close", closes.append)
    client.send("hi")
    lab.advance(1)
    assert client.received == ["bye"]
    assert closes == [{"code": 4001, "reason": "done", "wasClean": True}]
    lab.close()


def test_the_served_chat_room_is_chapter_07s_class() -> None:
    """dolab.lessons.chatroom.ChatRoom is a copy of the chapter's class: the two must not drift."""
    import ast
    import inspect
    import textwrap

    import nbformat

    import dolab.lessons.chatroom as served

    notebook = Path(__file__).resolve().parent.parent / "notebooks" / "07_websockets_chat.ipynb"
    cells = [c.source for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"]
    (cell,) = [c for c in cells if "class ChatRoom(DurableObject)" in c]
    chapter = next(n for n in ast.parse(cell).body if isinstance(n, ast.ClassDef) and n.name == "ChatRoom")
    ours = ast.parse(textwrap.dedent(inspect.getsource(served.ChatRoom))).body[0]

    def code(node: ast.ClassDef) -> str:  # docstrings and type hints may differ; the code may not
        for fn in ast.walk(node):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                fn.returns = None
                for arg in fn.args.args + fn.args.kwonlyargs:
                    arg.annotation = None
        body = [b for b in node.body if not (isinstance(b, ast.Expr) and isinstance(b.value, ast.Constant))]
        return ast.dump(ast.Module(body=body, type_ignores=[]))

    assert isinstance(ours, ast.ClassDef)
    assert code(chapter) == code(ours), "chapter 07's ChatRoom and dolab/lessons/chatroom.py differ"
