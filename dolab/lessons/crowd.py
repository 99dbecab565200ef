"""Chapter 11's popular document: many editors on one object, and two ways to spread them.

:func:`crowd` connects editors (each typing a word every ``1 / rate`` seconds, one edit in flight, as
the page does) and viewers (connected, never typing) to a document, runs the lab for ``seconds``, and
measures each object: edits handled per second, messages sent per second, and how long an edit
waited for its acknowledgement. Each incoming message keeps an object busy ``cpu_per_event``
seconds, so one object handles at most ``1 / cpu_per_event`` edits a second; past that, edits queue.

Three designs: ``"one"`` (everyone on one object), ``"sections"`` (the document split into
``parts`` objects, each editor on the section they edit, viewers on every section) and
``"followers"`` (editors on one object, viewers on ``parts`` read-only followers that the document
forwards each edit to, one RPC call per follower).
"""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass
from statistics import median, quantiles
from typing import Any

from dolab.lessons.chat import connect
from dolab.lessons.docroom import Document
from dolab.runtime.errors import ConfigError
from dolab.runtime.fetch import Request, Response
from dolab.runtime.lab import Lab
from dolab.runtime.objects import DurableObject
from dolab.runtime.websockets import WebSocketPair

DESIGNS = ("one", "sections", "followers")


class Follower(DurableObject):
    """A read-only copy's relay: viewers connect here; the document calls ``relay`` for each edit."""

    async def fetch(self, request: Request) -> Response:
        client, server = WebSocketPair.new()
        self.ctx.acceptWebSocket(server, ["viewer"])
        return Response(None, status=101, web_socket=client)

    async def relay(self, message: str) -> None:
        for ws in self.ctx.getWebSockets():
            ws.send(message)

    async def webSocketMessage(self, ws: Any, message: str | bytes) -> None:
        ws.send(json.dumps({"type": "error", "error": "this copy is read-only: edit through the document"}))


class FollowedDocument(Document):
    """The chapter's ``Document``, forwarding each edit to its followers (``env.FOLLOWERS`` of them)."""

    async def webSocketMessage(self, ws: Any, message: str | bytes) -> None:
        before = self.version
        await super().webSocketMessage(ws, message)
        if self.version != before:
            row = self.sql.exec("SELECT user, ops FROM log WHERE version = ?", self.version).one()
            edit = json.dumps({"type": "edit", "version": self.version, "user": row.user, "ops": json.loads(row.ops)})
            for i in range(int(self.env.FOLLOWERS)):
                self.ctx.waitUntil(self.env.FOLLOWER.getByName(f"follower-{i}").relay(edit))


class Typist:
    """An editor that types a word every ``1 / rate`` s at the start of the text, one edit in flight."""

    def __init__(self, ws: Any, user: str) -> None:
        self.ws, self.user = ws, user
        self.version = 0
        self.waiting: float | None = None  # when the edit in flight was typed
        self.typed_at: float | None = None  # when the first word not yet sent was typed
        self.words = 0
        self.latencies: list[float] = []
        self.acked: list[float] = []  # when each acknowledgement came

    def listen(self) -> None:
        """Start handling messages (on the lab's thread, where they arrive: none missed or seen twice)."""
        self.ws.addEventListener("message", self.receive)
        for message in list(self.ws.received):
            self.receive(message)

    def receive(self, message: Any) -> None:
        msg = json.loads(message)
        self.version = max(self.version, msg.get("version", 0) + len(msg.get("log", [])))
        if msg["type"] == "ack" and self.waiting is not None:
            self.latencies.append(self.now() - self.waiting)
            self.acked.append(self.now())
            self.waiting = None
            self.flush()

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    def type(self) -> None:
        if self.typed_at is None:
            self.typed_at = self.now()
        self.words += 1
        self.flush()

    def flush(self) -> None:
        if self.waiting is not None or not self.words:
            return
        self.ws.send(json.dumps({"type": "edit", "base": self.version, "seq": 1,
                                 "ops": [{"at": 0, "insert": "word " * self.words}]}))
        self.waiting, self.typed_at, self.words = self.typed_at, None, 0

    async def run(self, rate: float, seconds: float, rng: random.Random) -> None:
        await asyncio.sleep(rng.uniform(0, 1 / rate))
        end = self.now() + seconds
        while self.now() < end:
            self.type()
            await asyncio.sleep(1 / rate)


@dataclass(frozen=True)
class CrowdRun:
    """What one design did under one load; per-object figures are the busiest object's."""

    design: str
    editors: int
    viewers: int
    objects: int
    offered: float  # words typed per second, all editors together
    handled: float  # edits the busiest object handled per second
    sent: float  # messages the busiest object sent per second
    p50_ms: float  # typing -> acknowledged
    p95_ms: float


def crowd(design: str = "one", *, editors: int = 50, viewers: int = 0, parts: int = 4, rate: float = 1.0,
          seconds: float = 5.0, cpu_per_event: float = 0.005, seed: int = 1) -> CrowdRun:
    """Run ``editors`` typists and ``viewers`` watchers on a document laid out as ``design``."""
    if design not in DESIGNS:
        raise ConfigError(f"design must be one of {', '.join(DESIGNS)}, got {design!r}")
    if not (isinstance(editors, int) and editors >= 1 and isinstance(viewers, int) and viewers >= 0
            and isinstance(parts, int) and parts >= 1):
        raise ConfigError(f"editors >= 1, viewers >= 0, parts >= 1 (ints), got {editors!r}, {viewers!r}, {parts!r}")
    if not (rate > 0 and seconds > 0):
        raise ConfigError(f"rate and seconds must be > 0, got {rate!r} and {seconds!r}")
    rng = random.Random(seed)
    objects: dict[str, type] = {"DOC": FollowedDocument if design == "followers" else Document, "FOLLOWER": Follower}
    with Lab(durable_objects=objects, cpu_per_event=cpu_per_event, seed=seed,
             vars={"FOLLOWERS": str(parts if design == "followers" else 0)}) as lab:
        sections = parts if design == "sections" else 1
        docs = [lab.env.DOC.getByName(f"doc-{s}") for s in range(sections)]
        where: dict[str, list[Any]] = {}  # object -> the client ends connected to it
        typists = []
        for i in range(editors):
            doc = f"doc-{i % sections}"
            ws = connect(lab, docs[i % sections], f"e{i}")
            where.setdefault(doc, []).append(ws)
            typists.append(Typist(ws, f"e{i}"))
        for v in range(viewers):
            if design == "followers":
                name = f"follower-{v % parts}"
                where.setdefault(name, []).append(connect(lab, lab.env.FOLLOWER.getByName(name), f"v{v}"))
            else:  # a viewer of a split document watches every section
                for s in range(sections):
                    where.setdefault(f"doc-{s}", []).append(connect(lab, docs[s], f"v{v}"))

        async def listen() -> None:
            for typist in typists:
                typist.listen()

        lab.run(listen())
        lab.advance(1.0)
        start, end = lab.now, lab.now + seconds

        async def everyone_types() -> None:
            await asyncio.gather(*(t.run(rate, seconds, rng) for t in typists))

        lab.run(everyone_types())
        lab.advance(1.0)

        def per_second(times: list[float]) -> float:  # in the typing window only
            return sum(start <= t < end for t in times) / seconds

        sent = {name: per_second([t for ws in sockets for t, _ in ws.arrivals]) for name, sockets in where.items()}
        acks = [per_second([t for i, ty in enumerate(typists) if i % sections == s for t in ty.acked])
                for s in range(sections)]
        if design == "followers":  # the document also calls every follower once per edit
            sent["doc-0"] += acks[0] * parts
        handled = max(acks)
        waits = [w * 1000 for t in typists for w in t.latencies]
        p95 = quantiles(waits, n=20)[-1] if len(waits) > 1 else (waits[0] if waits else float("nan"))
        return CrowdRun(design=design, editors=editors, viewers=viewers, objects=len(where),
                        offered=editors * rate, handled=handled, sent=max(sent.values()),
                        p50_ms=median(waits) if waits else float("nan"), p95_ms=p95)

