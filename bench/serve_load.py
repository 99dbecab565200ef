"""Clients for the serve load test: many WebSockets and many HTTP requests against ``bench/serve_app.py``.

Used by ``bench/bench_serve.py`` (1,000 WebSockets, 10,000 requests) and, smaller, by
``tests/test_serve_load.py``. Every reply is checked: a lost, duplicated or reordered one is counted.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

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


async def http_load(base: str, requests: int, concurrency: int, timeout: float = 120.0) -> Result:
    """``requests`` POST /count with ``concurrency`` in flight; every count from 1 to ``requests`` must come
    back exactly once (each request was counted once, none twice), and GET /count must say ``requests``."""
    result = Result(f"{requests:,} HTTP requests, {concurrency} at a time")
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    counts: list[int] = []
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout) as http:
        before = (await http.get("/count")).json()["count"]
        gate = asyncio.Semaphore(concurrency)

        async def one() -> None:
            async with gate:
                sent = time.perf_counter()
                response = await http.post("/count")
                if response.status_code == 200:
                    result.answered += 1
                    result.latencies.append(time.perf_counter() - sent)
                    counts.append(response.json()["count"] - before)
                else:
                    result.errors.append(f"{response.status_code}: {response.text[:200]}")

        result.sent = requests
        outcomes = await asyncio.gather(*(one() for _ in range(requests)), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                result.errors.append(f"{type(outcome).__name__}: {outcome}")
        after = (await http.get("/count")).json()["count"]
    result.seconds = time.perf_counter() - started
    result.lost = requests - len(set(counts) & set(range(1, requests + 1)))
    if after - before != requests:
        result.errors.append(f"the counter moved by {after - before:,}, not {requests:,}")
        result.lost = max(result.lost, 1)
    return result
