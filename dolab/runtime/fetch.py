"""``Request`` and ``Response``, shaped like the Fetch API as Python Workers expose it.

Constructors and names follow the Python Workers SDK (``workers.Request``, ``workers.Response``;
tests/test_sdk_surface.py checks them against its source): ``Request(url, method=..., headers=...,
body=...)``, ``Response(body, status, status_text, headers, web_socket)``, ``Response.json(data)``
(also ``Response.from_json``), ``Response.redirect(url, status)``; a response's ``status_text``
and ``ok``, as Pyodide's ``FetchResponse`` has them.
"""

from __future__ import annotations

import json as _json
from collections.abc import AsyncGenerator, AsyncIterable, Iterator, Mapping
from typing import Any

from dolab.runtime.errors import FetchError


class Headers(Mapping[str, str]):
    """Case-insensitive, immutable header map."""

    def __init__(self, init: Mapping[str, str] | list[tuple[str, str]] | None = None) -> None:
        items = init.items() if isinstance(init, Mapping) else (init or [])
        self._items: dict[str, str] = {}
        for name, value in items:
            if not isinstance(name, str) or not isinstance(value, str):
                raise FetchError(f"header names and values must be str, got {name!r}: {value!r}")
            self._items[name.lower()] = value

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


def _typed(headers: Headers, body: Any) -> Headers:
    """A text body gets ``content-type: text/plain;charset=UTF-8`` unless one is given (the Fetch API's
    "extract a body": ``new Response("hi")`` on Cloudflare says so too)."""
    if isinstance(body, str) and "content-type" not in headers:
        return Headers([*headers.items(), ("content-type", "text/plain;charset=UTF-8")])
    return headers


def _body_bytes(body: Any) -> bytes | None:
    if body is None:
        return None
    if isinstance(body, str):
        return body.encode()
    if isinstance(body, bytes):
        return body
    raise FetchError(f"body must be str, bytes or None, got {type(body).__name__}")


async def _chunks(stream: AsyncIterable[Any]) -> AsyncGenerator[bytes, None]:
    try:
        async for chunk in stream:
            if isinstance(chunk, str):
                chunk = chunk.encode()
            if not isinstance(chunk, bytes):
                raise FetchError(f"a streamed body yields str or bytes chunks, got {type(chunk).__name__}")
            yield chunk
    finally:
        close = getattr(stream, "aclose", None)
        if close is not None:  # the reader stopped early (a client that left): stop the producer too
            await close()


class _Body:
    _body: bytes | None
    _stream: AsyncIterable[Any] | None = None

    @property
    def body(self) -> AsyncGenerator[bytes, None] | None:
        """The body as a stream of byte chunks (``async for chunk in response.body``), as the Fetch
        API's ``ReadableStream``; ``None`` when there is no body. A streamed body can be read once."""
        if self._stream is not None:
            stream, self._stream = self._stream, None
            self._body = b""  # read: what is left to read is nothing
            return _chunks(stream)
        if self._body is None:
            return None
        return _chunks(_one(self._body))

    @property
    def streamed(self) -> bool:
        """Whether the body is a stream not read yet (dolab's own; the Fetch API does not say)."""
        return self._stream is not None

    async def _read(self) -> bytes:
        if self._stream is not None:
            stream, self._stream = self._stream, None
            self._body = b"".join([chunk async for chunk in _chunks(stream)])
        return self._body or b""

    async def text(self) -> str:
        """The body decoded as UTF-8 (empty string for no body)."""
        return (await self._read()).decode()

    async def bytes(self) -> bytes:
        return await self._read()

    async def _parse_json(self) -> Any:
        return _json.loads((await self._read()).decode())


async def _one(data: bytes) -> AsyncGenerator[bytes, None]:
    yield data


class Request(_Body):
    """An HTTP request to an object's ``fetch`` handler: ``Request(url, method=..., headers=..., body=...)``."""

    url: str
    method: str
    headers: Headers

    def __init__(self, input: str | Request, *, method: str | None = None, headers: Any = None,  # noqa: A002 - the SDK's name
                 body: Any = None) -> None:
        if isinstance(input, Request):  # a copy, with any option given replacing the original's
            url = input.url
            method = method or input.method
            headers = input.headers if headers is None else headers
            body = input._body if body is None else body
        else:
            url = input
        if not isinstance(url, str) or "://" not in url:
            raise FetchError(f"Fetch API cannot load: {url!r} (need an absolute URL such as 'https://cart/add')")
        if method is not None and not isinstance(method, str):
            raise FetchError(f"Request method must be a str such as 'POST', got {method!r}")
        self.url = url
        self.method = (method or "GET").upper()
        self.headers = _typed(headers if isinstance(headers, Headers) else Headers(headers), body)
        self._body = _body_bytes(body)

    async def json(self) -> Any:
        """The body parsed as JSON."""
        return await self._parse_json()

    def clone(self) -> Request:
        """A copy whose body can be read again."""
        return Request(self)

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.url}>"


class _JsonFactoryOrParser:
    """``Response.json(data)`` builds a response; ``await response.json()`` parses one (as the SDK's
    ``Response.json`` does both)."""

    def __get__(self, instance: Response | None, owner: type[Response]) -> Any:
        if instance is None:
            return owner.from_json
        return instance._parse_json


class Response(_Body):
    """An HTTP response: ``Response("ok")``, ``Response("no", status=404)``, ``Response.json({...})``.

    The body may also be an async iterable of ``str``/``bytes`` chunks (an async generator), sent as it
    is produced (server-sent events under ``dolab serve``); on Cloudflare that is a ``ReadableStream``.
    """

    json = _JsonFactoryOrParser()

    def __init__(self, body: Any = None, status: int | None = None, status_text: str = "", headers: Any = None,
                 web_socket: Any = None) -> None:
        status = 200 if status is None else status
        if isinstance(status, bool) or not isinstance(status, int) or not 200 <= status <= 599 and status != 101:
            raise FetchError(f"Response status must be an int in 200..599, got {status!r}")
        if not isinstance(status_text, str):
            raise FetchError(f"Response status_text must be a str, got {status_text!r}")
        if hasattr(body, "__aiter__"):
            # dolab's stand-in for a ReadableStream body (on Cloudflare: a js.ReadableStream, e.g. the
            # readable side of a TransformStream): chunks go to the client as they are produced.
            self._stream, body = body, None
        self._body = _body_bytes(body)
        self.status = status
        self.status_text = status_text
        self.headers = _typed(headers if isinstance(headers, Headers) else Headers(headers), body)
        self.webSocket = web_socket  # the client end of a WebSocketPair, with status 101

    @staticmethod
    def from_json(data: Any, status: int = 200, status_text: str = "", headers: Any = None) -> Response:
        """A response whose body is ``data`` as JSON (``content-type: application/json`` unless given)."""
        merged = dict(Headers(headers))
        merged.setdefault("content-type", "application/json")
        return Response(_json.dumps(data), status=status, status_text=status_text, headers=merged)

    @staticmethod
    def redirect(url: str, status: int = 302) -> Response:
        """A redirect to ``url`` (status 301, 302, 303, 307 or 308)."""
        if status not in (301, 302, 303, 307, 308):
            raise FetchError(f"Response.redirect() needs a redirect status (301, 302, 303, 307, 308), got {status!r}")
        return Response(None, status=status, headers={"location": url})

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def __repr__(self) -> str:
        preview = (self._body or b"")[:40]
        return f"<Response {self.status} {preview!r}>"
