"""``dolab serve`` under bad input: malformed HTTP, Cloudflare's size limits, clients that vanish.

Each case checks three things: the client gets a clear answer (or the connection ends), nothing is
stored from half a request, and the server goes on serving the next client.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlparse

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from dolab import Lab, Request, Response, WorkerEntrypoint
from dolab.lessons.chatroom import ChatWorker, chat_lab
from dolab.tools.asgi import MAX_URL, MAX_WS_MESSAGE
from dolab.tools.serve import Server, serve
from tests.test_serve import Notes

LIMIT = 10_000  # max_body for these tests; Cloudflare's 100 MB default is checked by its own test
streams_closed: list[str] = []


class Front(WorkerEntrypoint):
    async def fetch(self, request: Request) -> Response:
        path = urlparse(request.url).path
        if path == "/notes" and request.method == "POST":
            return Response.json({"count": await self.env.NOTES.getByName("n").add(await request.text())})
        if path == "/stream":
            async def forever() -> AsyncIterator[str]:
                try:
                    while True:
                        yield "data: tick\n\n"
                        await asyncio.sleep(0.05)
                finally:
                    streams_closed.append("closed")
            return Response(forever(), headers={"content-type": "text/event-stream"})
        return Response("ok")


@pytest.fixture
def served() -> Iterator[Server]:
    lab = Lab(durable_objects={"NOTES": Notes})
    with serve(lab, Front, max_body=LIMIT) as server:
        yield server
    lab.close()


def notes(server: Server) -> list[str]:
    return server.lab.run(server.lab.env.NOTES.getByName("n").all())  # type: ignore[no-any-return]


def raw(server: Server, data: bytes, *, read: bool = True) -> bytes:
    """Send bytes on a fresh connection; what came back until the server closed it (or 5 s)."""
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(data)
        if not read:
            return b""
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except TimeoutError:
            pass
        return b"".join(chunks)


def still_serving(server: Server) -> None:
    assert httpx.get(f"{server.url}/").text == "ok"


def test_malformed_http_gets_400_and_the_server_goes_on(served: Server) -> None:
    for garbage in (b"GARBAGE\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\nBad Header Without Colon\r\n\r\n",
                    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(64)):  # a TLS hello on plain HTTP
        answer = raw(served, garbage)
        assert answer.startswith(b"HTTP/1.1 400"), answer[:80]
    still_serving(served)
    assert notes(served) == []


def test_a_body_over_the_limit_is_refused_by_its_length_before_it_is_sent(served: Server) -> None:
    head = f"POST /notes HTTP/1.1\r\nHost: x\r\nContent-Length: {LIMIT + 1}\r\n\r\n".encode()
    answer = raw(served, head)  # the body is never sent, and need not be: the answer comes first
    assert answer.startswith(b"HTTP/1.1 413"), answer[:80]
    assert f"the limit is {LIMIT:,}".encode() in answer
    assert notes(served) == []
    still_serving(served)


def test_a_streamed_body_over_the_limit_is_refused_and_one_at_the_limit_is_taken(served: Server) -> None:
    def chunks(size: int) -> Iterator[bytes]:
        for _ in range(size // 1000):
            yield b"x" * 1000

    over = httpx.post(f"{served.url}/notes", content=chunks(LIMIT + 1000))  # chunked: no Content-Length
    assert over.status_code == 413 and "over the limit" in over.text
    assert notes(served) == []
    at = httpx.post(f"{served.url}/notes", content=chunks(LIMIT))
    assert at.status_code == 200 and at.json() == {"count": 1}
    assert notes(served) == ["x" * LIMIT]


def test_cloudflares_default_body_limit_is_100_mb() -> None:
    lab = Lab()
    with serve(lab, Front) as server:
        head = f"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {100_000_001}\r\n\r\n".encode()
        assert raw(server, head).startswith(b"HTTP/1.1 413")
        head = f"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {100_000_000}\r\n\r\n".encode()
        with socket.create_connection((server.host, server.port), timeout=0.5) as sock:
            sock.sendall(head)
            with pytest.raises(TimeoutError):
                sock.recv(100)  # at the limit: the server waits for the body, it does not refuse
    lab.close()


def test_a_client_that_leaves_mid_body_stores_nothing(served: Server) -> None:
    head = b"POST /notes HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"
    raw(served, head + b"only ten b", read=False)  # and the connection closes
    time.sleep(0.3)
    assert notes(served) == []  # the Worker never saw half a note
    still_serving(served)


def test_a_client_that_leaves_mid_stream_stops_the_stream(served: Server) -> None:
    streams_closed.clear()
    with httpx.stream("GET", f"{served.url}/stream") as response:
        for line in response.iter_lines():
            if line:
                break  # one event, then hang up
    deadline = time.monotonic() + 5
    while not streams_closed and time.monotonic() < deadline:
        time.sleep(0.05)
    assert streams_closed == ["closed"]  # the producer was stopped, not left running
    still_serving(served)


def test_cloudflares_url_and_header_limits(served: Server) -> None:
    long = httpx.get(f"{served.url}/{'a' * MAX_URL}")
    assert long.status_code == 414 and "16 KB" in long.text
    fine = httpx.get(f"{served.url}/{'a' * (MAX_URL - 100)}")
    assert fine.status_code == 200
    big = httpx.get(f"{served.url}/", headers={"x-big": "b" * (130 * 1024)})
    assert big.status_code == 431 and "headers" in big.text
    still_serving(served)


def test_a_websocket_message_over_32_mib_closes_with_1009_and_others_go_on() -> None:
    lab = chat_lab()
    with serve(lab, ChatWorker) as server:
        base = server.url.replace("http://", "ws://")
        with connect(f"{base}/room/lobby/ws?user=ann") as ann, connect(f"{base}/room/lobby/ws?user=bo") as bo:
            with pytest.raises(ConnectionClosed) as closed:  # noqa: PT012 - the close may come during either
                bo.send("x" * (MAX_WS_MESSAGE + 1))
                bo.recv(timeout=10)
            # 1009, message too big; or, when the server's close overtakes the client still sending its
            # 32 MiB, the connection just ends before the client reads the close frame
            assert closed.value.rcvd is None or closed.value.rcvd.code == 1009
            assert ann.recv(timeout=5) == "bo left"  # the room heard bo go, and never saw the message
            ann.send("still here")
            assert ann.recv(timeout=5) == "ann: still here"
    lab.close()


def test_a_websocket_client_that_vanishes_is_a_close_for_the_room() -> None:
    lab = chat_lab()
    with serve(lab, ChatWorker) as server:
        base = server.url.replace("http://", "ws://")
        with connect(f"{base}/room/lobby/ws?user=ann") as ann, connect(f"{base}/room/lobby/ws?user=ghost") as ghost:
            ghost.socket.shutdown(socket.SHUT_RDWR)  # no close frame: the connection just ends
            assert ann.recv(timeout=5) == "ghost left"
    lab.close()
