"""Clients for the serve load test: many WebSockets and many HTTP requests against ``bench/serve_app.py``.

Used by ``bench/bench_serve.py`` (1,000 WebSockets, 10,000 requests) and, smaller, by
``tests/test_serve_load.py``. Every reply is checked: a lost, duplicated or reordered one is counted.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

import h11
import httpx
import websockets


@dataclass
class Result:
    """What one load run saw: latencies in seconds, and what was expected but did not come."""

    what: str
    sent: int = 0
    answered: int = 0
    lost: int = 0
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")

    def line(self) -> str:
        return (f"{self.what}: {self.answered:,}/{self.sent:,} answered, {self.lost} lost, "
                f"p50 {self.quantile(0.5) * 1000:.1f} ms, p99 {self.quantile(0.99) * 1000:.1f} ms, "
                f"max {max(self.latencies, default=0) * 1000:.1f} ms, {self.seconds:.1f} s"
                + (f"; first error: {self.errors[0]}" if self.errors else ""))


async def websocket_load(base: str, clients: int, messages: int, rooms: int, timeout: float = 120.0) -> Result:
    """``clients`` WebSockets open at once over ``rooms`` rooms; each sends ``messages`` numbered messages
    and waits for each ack; then the first client of each room says one thing to the whole room."""
    result = Result(f"{clients:,} WebSockets x {messages} messages")
    url = base.replace("http://", "ws://")
    everyone_in = asyncio.Event()
    connected = 0
    started = time.perf_counter()

    async def client(i: int) -> None:
        nonlocal connected
        room = f"r{i % rooms}"
        async with websockets.connect(f"{url}/room/{room}", open_timeout=timeout, max_queue=None) as ws:
            connected += 1
            if connected == clients:
                everyone_in.set()
            await asyncio.wait_for(everyone_in.wait(), timeout)
            for n in range(messages):
                sent = time.perf_counter()
                result.sent += 1
                await ws.send(f"{i}:{n}")
                reply = await asyncio.wait_for(ws.recv(), timeout)
                if reply == f"ack {i}:{n}":
                    result.answered += 1
                    result.latencies.append(time.perf_counter() - sent)
                else:
                    result.lost += 1
                    result.errors.append(f"client {i} sent {i}:{n}, got {reply!r}")
            members = len(range(i % rooms, clients, rooms))
            await barrier(room, members)
            if i < rooms:
                await ws.send(f"all hello {room}")
            reply = await asyncio.wait_for(ws.recv(), timeout)
            result.sent += 1
            if reply == f"all hello {room}":
                result.answered += 1
            else:
                result.lost += 1
                result.errors.append(f"client {i} in {room} expected the room's hello, got {reply!r}")

    waiting: dict[str, list[asyncio.Future[None]]] = {}

    async def barrier(room: str, members: int) -> None:
        """Everyone of the room has had all its acks before the room's hello is sent."""
        future = asyncio.get_running_loop().create_future()
        waiting.setdefault(room, []).append(future)
        if len(waiting[room]) == members:
            for f in waiting[room]:
                f.set_result(None)
        await asyncio.wait_for(future, timeout)

    outcomes = await asyncio.gather(*(client(i) for i in range(clients)), return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            result.errors.append(f"{type(outcome).__name__}: {outcome}")
    result.lost += clients * (messages + 1) - result.sent
    result.sent = clients * (messages + 1)
    result.seconds = time.perf_counter() - started
    return result


async def _connection(host: str, port: int, jobs: asyncio.Queue[int], result: Result, counts: list[int],
                      timeout: float) -> None:
    """One keep-alive HTTP/1.1 connection (h11 speaks the protocol) taking POST /count jobs until none are left."""
    reader, writer = await asyncio.open_connection(host, port)
    conn = h11.Connection(h11.CLIENT)
    try:
        while True:
            try:
                jobs.get_nowait()
            except asyncio.QueueEmpty:
                return
            sent = time.perf_counter()
            request = h11.Request(method="POST", target="/count",
                                  headers=[("host", f"{host}:{port}"), ("content-length", "0")])
            writer.write(conn.send(request) + conn.send(h11.EndOfMessage()))
            status, body = 0, b""
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    data = await asyncio.wait_for(reader.read(65536), timeout)
                    if not data:
                        raise ConnectionError("the server closed the connection")
                    conn.receive_data(data)
                elif isinstance(event, h11.Response):
                    status = event.status_code
                elif isinstance(event, h11.Data):
                    body += bytes(event.data)
                elif isinstance(event, h11.EndOfMessage):
                    break
            conn.start_next_cycle()
            if status == 200:
                result.answered += 1
                result.latencies.append(time.perf_counter() - sent)
                counts.append(json.loads(body)["count"])
            else:
                result.errors.append(f"{status}: {body[:200]!r}")
    finally:
        writer.close()


async def http_load(base: str, requests: int, concurrency: int, timeout: float = 120.0) -> Result:
    """``requests`` POST /count over ``concurrency`` keep-alive connections; every count from 1 to ``requests``
    must come back exactly once (each request was counted once, none twice), and GET /count must then say
    ``requests`` more than before. (The client is h11 on asyncio streams: httpx's pool would be the
    bottleneck, and the latencies would be the client's.)"""
    result = Result(f"{requests:,} HTTP requests over {concurrency} connections")
    host, port = base.removeprefix("http://").rsplit(":", 1)
    counts: list[int] = []
    async with httpx.AsyncClient(base_url=base, timeout=timeout) as http:
        before = (await http.get("/count")).json()["count"]
        jobs: asyncio.Queue[int] = asyncio.Queue()
        for n in range(requests):
            jobs.put_nowait(n)
        started = time.perf_counter()
        result.sent = requests
        outcomes = await asyncio.gather(
            *(_connection(host, int(port), jobs, result, counts, timeout) for _ in range(concurrency)),
            return_exceptions=True)
        result.seconds = time.perf_counter() - started
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                result.errors.append(f"{type(outcome).__name__}: {outcome}")
        after = (await http.get("/count")).json()["count"]
    result.lost = requests - len({c - before for c in counts} & set(range(1, requests + 1)))
    if after - before != requests:
        result.errors.append(f"the counter moved by {after - before:,}, not {requests:,}")
        result.lost = max(result.lost, 1)
    return result
