"""Real HTTP and WebSocket clients in front of a lab's Worker: the ASGI application ``dolab serve`` runs.

Each request becomes a :class:`~dolab.runtime.fetch.Request` for the Worker's ``fetch``, as Cloudflare's
front line hands it to a Worker: an absolute URL, the method, the headers (a name sent twice is one
value joined with ", ", as the Fetch API's ``Headers`` does), the whole body. The Worker's
:class:`~dolab.runtime.fetch.Response` goes back with its status and headers; a streamed body (an async
iterable, dolab's stand-in for a ``ReadableStream``) is sent chunk by chunk as it is produced, which is
how server-sent events reach the client.

A WebSocket upgrade reaches ``fetch`` too. When the Worker (or the object it forwarded to) answers 101
with the client end of a ``WebSocketPair``, the real connection is accepted and joined to that end:
what the browser sends arrives at the object (``webSocketMessage`` with the Hibernation API, the
``message`` listeners with ``accept()``), what the object sends goes to the browser, and a close on
either side closes the other. Any other answer is sent to the client as the HTTP response it is.

Cloudflare's request limits are applied before the Worker runs (Workers platform limits): a URL over
16 KB gets 414, request headers over 128 KB in all 431, a body over the plan's limit (100 MB on the
Free and Pro plans) 413, and a WebSocket message over 32 MiB closes the connection with 1009. A
client that leaves before its request is whole never reaches the Worker, so nothing is stored from
half a request. Files of the ``assets`` folder answer GET and HEAD before the Worker, as Workers
Static Assets do.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Callable
from pathlib import Path
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.requests import Request as HttpRequest
from starlette.responses import PlainTextResponse
from starlette.responses import Response as HttpResponse
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket as RealWebSocket

from dolab.runtime.fetch import Request, Response
from dolab.runtime.lab import Lab
from dolab.runtime.websockets import MAX_MESSAGE, OPEN, WebSocket
from dolab.runtime.worker import WorkerEntrypoint

MAX_URL = 16 * 1024  # "URLs have a limit of 16 KB."
MAX_HEADERS = 128 * 1024  # "Request headers observe a total limit of 128 KB."
MAX_BODY = 100 * 1000 * 1000  # Free and Pro plans: 100 MB (Business 200 MB, Enterprise 500 MB), else 413
MAX_WS_MESSAGE = MAX_MESSAGE  # 32 MiB, a received message (workerd: 32u << 20)
NULL_BODY = frozenset({101, 103, 204, 205, 304})
NOT_AN_UPGRADE = ("Worker tried to return a WebSocket in a response to a request which did not request "
                  "WebSocket upgrade.")  # workerd's words
log = logging.getLogger("dolab.serve")


def fetch_headers(scope: Scope) -> dict[str, str]:
    """The request's headers as the Fetch API shows them: lower-case names, repeats joined with ", "."""
    merged: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        merged[name] = f"{merged[name]}, {value}" if name in merged else value
    return merged


def request_url(scope: Scope, headers: dict[str, str]) -> str:
    """The absolute URL a Worker sees: http(s), the Host header, the path as sent, the query string."""
    scheme = {"ws": "http", "wss": "https"}.get(scope["scheme"], scope["scheme"])
    server = scope.get("server") or ("localhost", None)
    host = headers.get("host") or (f"{server[0]}:{server[1]}" if server[1] else server[0])
    path = scope.get("raw_path") or scope["path"].encode()
    query = scope.get("query_string") or b""
    url = f"{scheme}://{host}{path.decode('latin-1')}"
    return f"{url}?{query.decode('latin-1')}" if query else url


def over_limit(scope: Scope, url: str, max_body: int) -> tuple[int, str] | None:
    """(status, message) when the request breaks one of Cloudflare's request limits, before its body is read."""
    if len(url) > MAX_URL:
        return 414, f"URI Too Long: the URL has {len(url):,} characters; the limit is {MAX_URL:,} (16 KB)"
    size = sum(len(name) + len(value) for name, value in scope["headers"])
    if size > MAX_HEADERS:
        return 431, f"Request Header Fields Too Large: {size:,} bytes of headers; the limit is {MAX_HEADERS:,}"
    for name, value in scope["headers"]:
        if name.lower() == b"content-length":
            if not value.isdigit():
                return 400, f"Bad Request: Content-Length {value.decode('latin-1')!r} is not a number"
            if int(value) > max_body:
                return 413, (f"Payload Too Large: a body of {int(value):,} bytes; the limit is {max_body:,} "
                             "(100 MB on Cloudflare's Free and Pro plans)")
    return None


async def _disconnected(receive: Receive) -> None:
    """Returns when the client has gone (the request body was read before: nothing else comes)."""
    while (await receive())["type"] != "http.disconnect":
        pass


class WorkerApp:
    """The ASGI application: assets first (GET/HEAD), then the Worker, for HTTP and WebSockets alike."""

    def __init__(self, lab: Lab, worker: type[WorkerEntrypoint], *, assets: str | Path | None = None,
                 max_body: int = MAX_BODY) -> None:
        self.lab = lab
        self.worker = lab.worker(worker)
        self.assets = StaticFiles(directory=assets, html=True) if assets is not None else None
        self.max_body = max_body
        self.connected = 0  # WebSockets joined to a client end now

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self.websocket(scope, receive, send)

    # -- HTTP -----------------------------------------------------------------------------------------

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = fetch_headers(scope)
        url = request_url(scope, headers)
        refused = over_limit(scope, url, self.max_body)
        if refused is not None:
            # The body is not read: the connection closes after the answer instead of draining it.
            await PlainTextResponse(refused[1], refused[0], headers={"connection": "close"})(scope, receive, send)
            return
        if self.assets is not None and scope["method"] in ("GET", "HEAD") and await self._asset(scope, receive, send):
            return
        body = bytearray()
        try:
            async for chunk in HttpRequest(scope, receive).stream():
                body += chunk
                if len(body) > self.max_body:
                    message = f"Payload Too Large: the body is over the limit of {self.max_body:,} bytes"
                    await PlainTextResponse(message, 413, headers={"connection": "close"})(scope, receive, send)
                    return
        except ClientDisconnect:
            return  # the client left before its request was whole: the Worker never sees half of it
        has_body = bool(body) or scope["method"] not in ("GET", "HEAD")
        request = Request(url, method=scope["method"], headers=headers, body=bytes(body) if has_body else None)
        response = await self._fetch(request)
        if response.webSocket is not None:
            response = Response(NOT_AN_UPGRADE, status=500)
        await self._send(scope, response, receive, send)

    async def _asset(self, scope: Scope, receive: Receive, send: Send) -> bool:
        assert self.assets is not None
        try:
            found = await self.assets.get_response(self.assets.get_path(scope), scope)
        except HTTPException:
            return False  # not a file there: the Worker answers
        if found.status_code == 404:
            return False
        await found(scope, receive, send)
        return True

    async def _fetch(self, request: Request) -> Response:
        try:
            response: Response = await self.worker.fetch(request)
        except Exception as exc:  # noqa: BLE001 - the client gets a 500 naming it; the server goes on
            log.exception("the Worker's fetch() raised on %s %s", request.method, request.url)
            return Response(f"Worker threw exception: {type(exc).__name__}: {exc}", status=500)
        return response

    async def _send(self, scope: Scope, response: Response, receive: Receive, send: Send) -> None:
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()]
        streamed = response.streamed and response.status not in NULL_BODY
        if not streamed:
            data = b"" if response.status in NULL_BODY else await response.bytes()
            if "content-length" not in response.headers and response.status not in NULL_BODY:
                headers.append((b"content-length", str(len(data)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        if not streamed:
            await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else data})
            return
        chunks = response.body
        if chunks is None or scope["method"] == "HEAD":
            await send({"type": "http.response.body", "body": b""})
            return
        producing = asyncio.ensure_future(self._stream(scope, chunks, send))
        listening = asyncio.ensure_future(_disconnected(receive))
        try:
            await asyncio.wait({producing, listening}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            listening.cancel()
            if not producing.done():  # the client left: stop producing (the generator's finally runs)
                producing.cancel()
                await asyncio.gather(producing, return_exceptions=True)
            await chunks.aclose()

    async def _stream(self, scope: Scope, chunks: AsyncGenerator[bytes, None], send: Send) -> None:
        try:
            async for chunk in chunks:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except OSError:
            return  # the client left
        except Exception:  # noqa: BLE001 - headers are sent; all that is left is to end the body
            log.exception("the streamed body of %s failed", scope.get("path"))
        await send({"type": "http.response.body", "body": b""})

    # -- WebSockets -----------------------------------------------------------------------------------

    async def websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        real = RealWebSocket(scope, receive, send)
        headers = fetch_headers(scope)
        url = request_url(scope, headers)
        refused = over_limit(scope, url, self.max_body)
        if refused is not None:
            await real.send_denial_response(PlainTextResponse(refused[1], refused[0]))
            return
        response = await self._fetch(Request(url, method="GET", headers=headers))
        client = response.webSocket
        if response.status != 101 or client is None:
            # The Worker said no (404, 426, ...): the client gets exactly that response.
            body = b"" if response.status in NULL_BODY else await response.bytes()
            denial = HttpResponse(body, 500 if response.status == 101 else response.status,
                                  headers=dict(response.headers))
            await real.send_denial_response(denial)
            return
        await real.accept(subprotocol=response.headers.get("sec-websocket-protocol"))
        self.connected += 1
        try:
            await self._join(real, client)
        finally:
            self.connected -= 1

    async def _join(self, real: RealWebSocket, client: WebSocket) -> None:
        """Carry messages between the real connection and the client end until either side closes."""
        outbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

        def on_message(message: Any) -> None:
            outbox.put_nowait(("message", message))
            client.received.clear()  # relayed: the bridge keeps no copy
            client.arrivals.clear()

        for message in client.received:  # sent by the object before its fetch() returned
            outbox.put_nowait(("message", message))
        on_message_close: Callable[[Any], None] = lambda event: outbox.put_nowait(("close", event))  # noqa: E731
        client.received.clear()
        client.addEventListener("message", on_message)
        client.addEventListener("close", on_message_close)
        if client.readyState != OPEN:
            code, reason = client.close_info or (1000, "")
            outbox.put_nowait(("close", {"code": code, "reason": reason}))
        inbound = asyncio.ensure_future(self._inbound(real, client))
        outbound = asyncio.ensure_future(self._outbound(real, outbox))
        try:
            await asyncio.wait({inbound, outbound}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            inbound.cancel()
            outbound.cancel()
            if client.readyState == OPEN:  # the connection broke without a close: the object hears 1006
                client.close(1006, "")

    async def _inbound(self, real: RealWebSocket, client: WebSocket) -> None:
        while True:
            message: Message = await real.receive()
            if message["type"] == "websocket.disconnect":
                # uvicorn gives a close frame's code with its reason; a lost connection comes with no
                # reason at all, and is what RFC 6455 calls 1006 (the object sees wasClean False)
                code = int(message.get("code") or 1005) if "reason" in message else 1006
                if client.readyState == OPEN:
                    client.close(code, message.get("reason") or "")
                return
            data = message.get("text")
            if data is None:
                data = message.get("bytes") or b""
            if client.readyState == OPEN:
                client.send(data)

    async def _outbound(self, real: RealWebSocket, outbox: asyncio.Queue[tuple[str, Any]]) -> None:
        while True:
            kind, item = await outbox.get()
            try:
                if kind == "close":
                    await real.close(int(item.get("code") or 1000), item.get("reason") or "")
                    return
                if isinstance(item, str):
                    await real.send_text(item)
                else:
                    await real.send_bytes(bytes(item))
            except (OSError, RuntimeError):
                return  # the client is gone; the reading side sees its disconnect
