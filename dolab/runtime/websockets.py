"""In-process WebSockets: ``WebSocketPair``, the standard ``accept()`` API and the Hibernation API.

A pair is two linked ends. The object keeps the *server* end and returns the *client* end in a
``101`` response; a notebook holds the client and calls ``send``. With the **Hibernation API**
(``ctx.acceptWebSocket(server, tags)``) messages arrive as ``webSocketMessage`` events, the
server end outlives the instance, and the object can hibernate while clients stay connected:
its constructor runs again on the next message. With the **standard API** (``server.accept()``
and ``addEventListener``) the object stays pinned in memory — and billed — while connected.

Delivery goes through the lab's loop (with network transit when the lab has a network), so a
message sent from a notebook arrives when the lab next runs (``lab.advance``, an awaited call).
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dolab.runtime.codec import decode, encode
from dolab.runtime.context import current_host, current_region
from dolab.runtime.errors import LabStateError, SerializationError, StorageRangeError, StorageTypeError
from dolab.runtime.values import to_wire

if TYPE_CHECKING:
    from dolab.runtime.engine import Engine
    from dolab.runtime.host import ObjectHost

CONNECTING, OPEN, CLOSING, CLOSED = 0, 1, 2, 3
MAX_SOCKETS = 32_768
MAX_TAGS = 10
MAX_TAG_LENGTH = 256
MAX_ATTACHMENT = 16 * 1024  # workerd since 2026-03-09; older docs say 2,048 bytes
MAX_MESSAGE = 32 << 20
MAX_AUTO_RESPONSE = 2_048
ABNORMAL_CLOSURE = 1006  # RFC 6455 7.4.1: the connection closed without a close frame


class WebSocketRequestResponsePair:
    """``ctx.setWebSocketAutoResponse(WebSocketRequestResponsePair("ping", "pong"))``."""

    def __init__(self, request: str, response: str) -> None:
        for name, text in (("request", request), ("response", response)):
            if not isinstance(text, str) or len(text) > MAX_AUTO_RESPONSE:
                raise StorageRangeError(
                    f"auto-response {name} must be a str of at most {MAX_AUTO_RESPONSE} characters, got {text!r:.60}"
                )
        self.request = request
        self.response = response

    @classmethod
    def new(cls, request: str, response: str) -> WebSocketRequestResponsePair:
        """Pyodide's spelling of a JS constructor call, as a Python Worker writes it
        (``WebSocketRequestResponsePair.new("ping", "pong")``): the same as calling the class."""
        return cls(request, response)


class WebSocket:
    """One end of a pair. Clients read ``received`` or ``await receive()``; both ends ``send``."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.peer: WebSocket | None = None
        self.readyState = OPEN
        self.received: list[Any] = []
        self.arrivals: list[tuple[float, Any]] = []  # (lab time, message) of everything received
        self._waiters: collections.deque[asyncio.Future[Any]] = collections.deque()
        self._listeners: dict[str, list[Callable[..., Any]]] = {}
        self._attachment: bytes | None = None
        self.host_key: tuple[str, bytes] | None = None  # set when accepted by ctx.acceptWebSocket
        self.tags: list[str] = []
        self.standard = False  # accepted with accept()
        self.standard_host: ObjectHost | None = None
        self.region: str | None = None
        self.close_info: tuple[int, str] | None = None
        self.auto_response_at: float | None = None  # lab time_ms of the last auto-response

    @property
    def is_client(self) -> bool:
        """The end a client holds (not accepted by any object)."""
        return self.host_key is None and not self.standard

    # -- sending -----------------------------------------------------------------------------------

    def send(self, message: str | bytes) -> None:
        """Send a text or binary message to the other end."""
        if not isinstance(message, (str, bytes)):
            raise StorageTypeError(f"WebSocket.send() takes str or bytes, got {type(message).__name__}")
        if len(message) > MAX_MESSAGE:
            raise StorageRangeError(f"WebSocket message of {len(message):,} bytes is over the 32 MiB limit")
        if self.readyState != OPEN or self.peer is None:
            raise LabStateError(f"WebSocket is not open (readyState={self.readyState})")
        if self._engine.thread.closed:
            raise LabStateError("this WebSocket belongs to a lab that is closed; open a new lab and connect again")
        self._engine.call_soon_anywhere(self._engine.sockets.deliver, self, self.peer, message, current_region.get())

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close both ends; the other side sees a close event."""
        if self.readyState in (CLOSING, CLOSED):
            return
        self.readyState = CLOSED
        if self.peer is not None:
            self._engine.call_soon_anywhere(self._engine.sockets.close_after_sent, self.peer, code, reason)

    # -- the standard API ---------------------------------------------------------------------------

    def accept(self) -> None:
        """Standard API: handle events with ``addEventListener``; pins the object in memory."""
        if self.host_key is not None:
            raise LabStateError("this WebSocket was accepted with ctx.acceptWebSocket(); do not call accept() too")
        host = current_host.get()
        if host is None:
            raise LabStateError("accept() a WebSocket inside the Durable Object that owns it")
        self.standard = True
        self.standard_host = host
        host.standard_sockets.add(self)

    def addEventListener(self, kind: str, listener: Callable[..., Any]) -> None:
        self._listeners.setdefault(kind, []).append(listener)

    # -- attachments ----------------------------------------------------------------------------------

    def serializeAttachment(self, value: Any) -> None:
        """Keep a copy of ``value`` with the socket; it survives hibernation.

        On Cloudflare the socket is a JavaScript object that Python code holds directly, so its
        argument is not converted by the SDK: a string, a number, a bool or ``None`` crosses, a
        ``dict`` or a ``list`` arrives as a proxy that cannot be stored. Store text
        (``json.dumps(value)``) and read it back with ``json.loads``.
        """
        if value is not None and type(value) not in (bool, int, float, str):
            error = SerializationError(f"{type(value).__name__} could not be cloned.")
            error.add_note(
                "dolab: on Cloudflare a Python dict or list reaches serializeAttachment() unconverted "
                "(a proxy), which cannot be stored; pass json.dumps(value) and json.loads() it back."
            )
            raise error
        blob = encode(to_wire(value))
        if len(blob) > MAX_ATTACHMENT:
            raise StorageRangeError(
                f"A WebSocket 'attachment' cannot be larger than {MAX_ATTACHMENT} bytes."
                f"'attachment' was {len(blob)} bytes."
            )
        self._attachment = blob

    def deserializeAttachment(self) -> Any:
        return None if self._attachment is None else decode(self._attachment)

    # -- the client's side ----------------------------------------------------------------------------

    def receive(self, timeout: float = 60.0) -> Any:
        """The next message that arrived at this end (waits on the lab clock).

        Awaitable from a notebook cell (``await ws.receive()``) and from code inside the lab.
        """
        return self._engine.enter(self._receive(timeout))

    async def _receive(self, timeout: float) -> Any:
        if self.received:
            return self.received.pop(0)
        future = self._engine.loop.create_future()
        self._waiters.append(future)
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            if future in self._waiters:  # timed out or cancelled: the next message is not lost
                self._waiters.remove(future)

    def _arrive(self, message: Any) -> None:
        self.arrivals.append((self._engine.now, message))
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(message)
                return
        self.received.append(message)
        for listener in self._listeners.get("message", []):
            listener(message)

    def __repr__(self) -> str:
        return f"<WebSocket state={self.readyState} tags={self.tags}>"


class WebSocketPair:
    """``client, server = WebSocketPair.new()`` inside an object's ``fetch``."""

    @staticmethod
    def new() -> tuple[WebSocket, WebSocket]:
        host = current_host.get()
        if host is None:
            raise LabStateError("create a WebSocketPair inside a Durable Object (in its fetch handler)")
        client, server = WebSocket(host.engine), WebSocket(host.engine)
        client.peer, server.peer = server, client
        client.region = current_region.get()  # the user who asked for the socket stands there
        server.region = host.region  # and the object lives here (simulation only)
        return client, server


class SocketHub:
    """The lab's router for WebSocket messages (lab thread only)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.auto: dict[tuple[str, bytes], WebSocketRequestResponsePair] = {}
        self.by_object: dict[tuple[str, bytes], list[WebSocket]] = {}
        self.messages = 0
        self.auto_responses = 0
        self._in_flight: dict[WebSocket, asyncio.Future[None]] = {}  # each end's latest message, until it lands

    def accept(self, host: ObjectHost, ws: WebSocket, tags: list[str] | None) -> None:
        if ws.standard:
            raise LabStateError("this WebSocket was accept()ed already; ctx.acceptWebSocket() cannot take it")
        tags = list(dict.fromkeys(tags or []))
        if len(tags) > MAX_TAGS or any(not isinstance(t, str) or len(t) > MAX_TAG_LENGTH for t in tags):
            raise StorageRangeError(
                f"at most {MAX_TAGS} tags of at most {MAX_TAG_LENGTH} characters each, got {tags!r:.80}"
            )
        key = (host.ns.binding, host.raw)
        sockets = self.by_object.setdefault(key, [])
        if len(sockets) >= MAX_SOCKETS:
            raise StorageRangeError(f"an object can accept at most {MAX_SOCKETS:,} WebSockets")
        ws.host_key, ws.tags = key, tags
        sockets.append(ws)

    def sockets(self, host: ObjectHost, tag: str | None = None) -> list[WebSocket]:
        live = [ws for ws in self.by_object.get((host.ns.binding, host.raw), []) if ws.readyState != CLOSED]
        return [ws for ws in live if tag is None or tag in ws.tags]

    def deliver(self, sender: WebSocket, target: WebSocket, message: Any, region: str | None) -> None:
        # A message in flight belongs to no object: sending one must not count as a task of the
        # sender's (which would keep it from hibernating, or reset its idle clock when it lands).
        # One socket is one ordered stream (TCP under it): a message never overtakes the one sent
        # before it, however the network's jitter draws their transit times. Each delivery waits for
        # its predecessor on the same end to land.
        previous = self._in_flight.get(sender)
        landed: asyncio.Future[None] = self.engine.loop.create_future()
        self._in_flight[sender] = landed
        _outside_objects().run(
            self.engine.loop.create_task, self._deliver(sender, target, message, region, previous, landed)
        )

    async def _deliver(self, sender: WebSocket, target: WebSocket, message: Any, region: str | None,
                       previous: asyncio.Future[None] | None = None,
                       landed: asyncio.Future[None] | None = None) -> None:
        try:
            await self._travel(sender, target, region)
            if previous is not None and not previous.done():
                await asyncio.shield(previous)  # head-of-line: the earlier message lands first
        finally:
            if landed is not None:
                if not landed.done():
                    landed.set_result(None)
                if self._in_flight.get(sender) is landed:
                    del self._in_flight[sender]
        await self._arrived(sender, target, message)

    async def _travel(self, sender: WebSocket, target: WebSocket, region: str | None) -> None:
        network = self.engine.network
        src = sender.region or region
        dst = target.region or region
        if network is not None and src and dst:
            # A client end sits behind the user's last mile; the hop between regions comes from the
            # latency model (the same-region value when both are in one region).
            model = getattr(network, "latency", None)
            mile = model.last_mile_ms if model is not None else 0.0
            hops = sender.is_client + target.is_client
            await network.transit(src, dst, "network", "websocket")
            if hops and mile:
                await network.transit(dst, dst, "last_mile", "websocket", rtt_ms=mile * hops)

    async def _arrived(self, sender: WebSocket, target: WebSocket, message: Any) -> None:
        if target.readyState != OPEN:
            return
        if target.is_client:
            target._arrive(message)  # a client end
            return
        self.messages += 1
        pair = self.auto.get(target.host_key) if target.host_key else None
        if pair is not None and message == pair.request:
            self.auto_responses += 1  # answered by the runtime: the object is not woken
            target.auto_response_at = self.engine.time_ms
            self.deliver(target, sender, pair.response, None)
            return
        if target.standard and target.standard_host is not None:
            await self._run_listeners(target.standard_host, target, "message", {"data": message})
            return
        host = self._host_of(target)
        if host is not None:
            await host.call("ws_message", "webSocketMessage", (target, message), None)

    def close_after_sent(self, target: WebSocket, code: int, reason: str) -> None:
        """A close travels behind the messages sent before it (``send("bye"); close()`` delivers "bye"):
        each delivery is a task, and tasks start in the order they were made."""
        async def close() -> None:
            self.closed(target, code, reason)

        _outside_objects().run(self.engine.loop.create_task, close())

    def closed(self, target: WebSocket, code: int, reason: str) -> None:
        target.readyState = CLOSED
        target.close_info = (code, reason)
        # 1006 is never sent: it says the connection broke without a close frame (a client that vanished).
        clean = code != ABNORMAL_CLOSURE
        if target.is_client:  # whoever holds the client end (a real connection under dolab serve) hears it
            for listener in target._listeners.get("close", []):
                listener({"code": code, "reason": reason, "wasClean": clean})
        host = self._host_of(target) if target.host_key else None
        if host is not None:
            _outside_objects().run(self.engine.loop.create_task,
                                   host.call("ws_close", "webSocketClose", (target, code, reason, clean), None))
        if target.standard_host is not None:
            if target._listeners.get("close"):  # the standard API's close event, inside the object
                event = {"code": code, "reason": reason, "wasClean": clean}
                _outside_objects().run(self.engine.loop.create_task,
                                       self._run_listeners(target.standard_host, target, "close", event))
            target.standard_host.standard_sockets.discard(target)

    async def _run_listeners(self, host: ObjectHost, ws: WebSocket, kind: str, event: dict[str, Any]) -> None:
        """Call ``ws``'s ``kind`` listeners as one event inside the object that accept()ed it."""
        listeners = list(ws._listeners.get(kind, []))

        async def run_listeners(instance: Any, ctx: Any) -> None:
            for listener in listeners:
                result = listener(event)
                if hasattr(result, "__await__"):
                    await result

        await host.call("callback", kind, run_listeners, None)

    def _host_of(self, ws: WebSocket) -> ObjectHost | None:
        if ws.host_key is None:
            return None
        return self.engine.host_of(*ws.host_key)


def _outside_objects() -> contextvars.Context:
    """The current context (caller's region, traced request) with no object's code running."""
    context = contextvars.copy_context()
    context.run(current_host.set, None)
    return context
