"""An MCP server whose every session is one Durable Object: chapter 12's plumbing, after Cloudflare's ``McpAgent``.

Two halves, as on Cloudflare:

- :func:`streamable_http` is the Worker's side of the MCP Streamable HTTP transport (what
  ``McpAgent.serve("/mcp")`` builds in the ``agents`` package): it checks the HTTP request, parses the
  body into JSON-RPC messages with the official ``mcp`` package's types, and routes each session to its
  own object, ``namespace.getByName("streamable-http:" + session_id)``. A request that initializes gets
  a fresh session id (``newUniqueId()``); every later request must carry it in ``Mcp-Session-Id``.
  Errors are the ones ``McpAgent`` answers with (JSON-RPC error objects, ``"id": null``).
- :class:`McpAgent` is the object's side: an :class:`~dolab.runtime.agent.Agent` that answers
  ``initialize``, ``ping``, ``tools/list`` and ``tools/call``. A tool is a method marked with
  :func:`tool`; its input schema comes from its signature (through pydantic, as the ``mcp`` package's
  own servers do), and its arguments are checked against it before it runs.

What is left out: server-to-client messages (a GET stream gets 405, which the protocol allows),
resources, prompts, sampling, elicitation, progress, the legacy SSE transport, the 2026-07-28
stateless protocol revision, authorization. Replies go back as one server-sent event per request.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import json
import weakref
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx2
import mcp.types as types
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, LATEST_HANDSHAKE_VERSION
from pydantic import BaseModel, ValidationError, create_model

from dolab.runtime.agent import Agent
from dolab.runtime.fetch import Request, Response
from dolab.runtime.lab import Lab
from dolab.runtime.namespace import DurableObjectNamespace
from dolab.runtime.worker import WorkerEntrypoint
from dolab.tools.serve import serve

T = TypeVar("T")
SESSION_HEADER = "mcp-session-id"
PREFIX = "streamable-http:"  # McpAgent's object names: "streamable-http:<session id>"
_TABLES: weakref.WeakKeyDictionary[type, dict[str, tuple[str, type[BaseModel]]]] = weakref.WeakKeyDictionary()


def tool(description: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark an ``McpAgent`` method as an MCP tool: ``@tool("Add a note")``."""
    def mark(method: Callable[..., Any]) -> Callable[..., Any]:
        method.__mcp_tool__ = description  # type: ignore[attr-defined]
        return method
    return mark


def _arguments_model(method: Callable[..., Any]) -> type[BaseModel]:
    """A pydantic model of a tool's parameters (its JSON schema is the tool's input schema)."""
    fields: dict[str, Any] = {}
    for name, parameter in list(inspect.signature(method).parameters.items())[1:]:  # after self
        annotation = Any if parameter.annotation is inspect.Parameter.empty else parameter.annotation
        default = ... if parameter.default is inspect.Parameter.empty else parameter.default
        fields[name] = (annotation, default)
    return create_model(f"{method.__name__}_arguments", **fields)


def _error(message_id: Any, code: int, message: str) -> dict[str, Any]:
    error = types.JSONRPCError(jsonrpc="2.0", id=message_id, error=types.ErrorData(code=code, message=message))
    return error.model_dump(by_alias=True, mode="json", exclude_none=True) | {"id": message_id}  # null stays


def _result(message_id: Any, result: BaseModel) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": message_id,
            "result": result.model_dump(by_alias=True, mode="json", exclude_none=True)}


class McpAgent(Agent):
    """One MCP session: an Agent whose ``@tool`` methods are MCP tools. Set ``server_name`` and ``version``."""

    server_name = "dolab-mcp"
    version = "0.1.0"
    instructions: str | None = None

    @classmethod
    def _tools(cls) -> dict[str, tuple[str, type[BaseModel]]]:
        """name -> (description, arguments model) of every ``@tool`` method, in the order they are defined."""
        if cls in _TABLES:  # built once per class (pydantic models are not cheap to make)
            return dict(_TABLES[cls])
        found: dict[str, tuple[str, type[BaseModel]]] = {}
        for klass in reversed(cls.__mro__):
            for name, member in vars(klass).items():
                if callable(member) and hasattr(member, "__mcp_tool__"):
                    found[name] = (member.__mcp_tool__, _arguments_model(member))
        _TABLES[cls] = found  # beside the class, not on it: vars(cls) shows only what its author wrote
        return dict(found)

    # -- the session's lifecycle (the names McpAgent uses) -------------------------------------------

    async def setInitializeRequest(self, message: dict[str, Any]) -> None:
        await self.ctx.storage.put("initializeRequest", message)

    async def getInitializeRequest(self) -> Any:
        return await self.ctx.storage.get("initializeRequest")

    # -- JSON-RPC --------------------------------------------------------------------------------

    async def handle(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Answer a POST's JSON-RPC messages: one reply per request; notifications and responses get none."""
        replies = []
        for raw in messages:
            message = types.jsonrpc_message_adapter.validate_python(raw)
            if isinstance(message, types.JSONRPCRequest):
                replies.append(await self._answer(message))
        return replies

    async def _answer(self, request: types.JSONRPCRequest) -> dict[str, Any]:
        params = request.params or {}
        try:
            if request.method == "initialize":
                asked = types.InitializeRequestParams.model_validate(params).protocol_version
                version = asked if asked in HANDSHAKE_PROTOCOL_VERSIONS else LATEST_HANDSHAKE_VERSION
                return _result(request.id, types.InitializeResult(
                    protocol_version=version,
                    capabilities=types.ServerCapabilities(tools=types.ToolsCapability(list_changed=False)),
                    server_info=types.Implementation(name=self.server_name, version=self.version),
                    instructions=self.instructions))
            if request.method == "ping":
                return {"jsonrpc": "2.0", "id": request.id, "result": {}}
            if request.method == "tools/list":
                listed = [types.Tool(name=name, description=description, input_schema=model.model_json_schema())
                          for name, (description, model) in self._tools().items()]
                return {"jsonrpc": "2.0", "id": request.id,
                        "result": {"tools": [t.model_dump(by_alias=True, mode="json", exclude_none=True)
                                             for t in listed]}}
            if request.method == "tools/call":
                return _result(request.id, await self._call(types.CallToolRequestParams.model_validate(params)))
        except ValidationError as exc:
            return _error(request.id, types.INVALID_PARAMS, f"Invalid params for {request.method}: {_first(exc)}")
        except LookupError as exc:
            return _error(request.id, types.INVALID_PARAMS, str(exc.args[0]))
        return _error(request.id, types.METHOD_NOT_FOUND, f"Method not found: {request.method}")

    async def _call(self, params: types.CallToolRequestParams) -> types.CallToolResult:
        tools = self._tools()
        if params.name not in tools:
            raise LookupError(f"Unknown tool: {params.name!r} (this server has {', '.join(tools) or 'no tools'})")
        model = tools[params.name][1]
        try:
            arguments = model.model_validate(params.arguments or {})
        except ValidationError as exc:
            raise LookupError(f"Invalid arguments for tool {params.name!r}: {_first(exc)}") from None
        try:
            given = {name: getattr(arguments, name) for name in type(arguments).model_fields}
            value = getattr(self, params.name)(**given)
            if inspect.isawaitable(value):
                value = await value
        except Exception as exc:  # noqa: BLE001 - a tool's failure is a result the model reads (isError)
            return types.CallToolResult(content=[types.TextContent(text=f"{type(exc).__name__}: {exc}")], is_error=True)
        text = value if isinstance(value, str) else json.dumps(value)
        return types.CallToolResult(content=[types.TextContent(text=text)])


def _first(exc: ValidationError) -> str:
    """The first problem pydantic found, as one line: ``text: Field required``."""
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "(the arguments)"
    return f"{where}: {error['msg']}" + (f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else "")


def _refuse(status: int, code: int, message: str) -> Response:
    return Response(json.dumps(_error(None, code, message)), status=status,
                    headers={"content-type": "application/json"})


def _events(replies: list[dict[str, Any]]) -> str:
    return "".join(f"event: message\ndata: {json.dumps(reply)}\n\n" for reply in replies)


async def streamable_http(request: Request, namespace: DurableObjectNamespace,
                          route: Callable[[str], Any] | None = None) -> Response:
    """Answer one Streamable HTTP request (POST, GET or DELETE) as ``McpAgent.serve`` does.

    ``route(session_id)`` gives the stub of the session's object; by default
    ``namespace.getByName("streamable-http:" + session_id)``.
    """
    session = request.headers.get(SESSION_HEADER)
    stub_for = route or (lambda sid: namespace.getByName(PREFIX + sid))
    if request.method == "GET":  # no server-initiated messages: the protocol lets a server say 405
        return Response("Method Not Allowed: this server sends no messages of its own", status=405,
                        headers={"allow": "POST, DELETE"})
    if request.method == "DELETE":
        if not session:
            return _refuse(400, -32000, "Bad Request: Mcp-Session-Id header is required")
        stub = stub_for(session)
        if not await stub.getInitializeRequest():
            return _refuse(404, -32001, "Session not found")
        await stub.destroy()  # the session ends: its object forgets everything
        return Response(None, status=204)
    if request.method != "POST":
        return _refuse(405, -32000, f"Method Not Allowed: {request.method} (use POST, or DELETE to end a session)")
    accept = request.headers.get("accept", "")
    if "application/json" not in accept or "text/event-stream" not in accept:
        return _refuse(406, -32000, "Not Acceptable: Client must accept both application/json and text/event-stream")
    if not request.headers.get("content-type", "").startswith("application/json"):
        return _refuse(415, -32000, "Unsupported Media Type: Content-Type must be application/json")
    try:
        raw = json.loads(await request.text())
    except ValueError:
        return _refuse(400, types.PARSE_ERROR, "Parse error: Invalid JSON")
    batch = raw if isinstance(raw, list) else [raw]
    try:
        messages = [types.jsonrpc_message_adapter.validate_python(item) for item in batch]
    except ValidationError:
        return _refuse(400, types.PARSE_ERROR, "Parse error: Invalid JSON-RPC message")
    if not messages:
        return _refuse(400, types.INVALID_REQUEST, "Invalid Request: an empty batch")
    initialize = [m for m in messages if isinstance(m, types.JSONRPCRequest) and m.method == "initialize"]
    if initialize and session:
        return _refuse(400, types.INVALID_REQUEST,
                       "Invalid Request: Initialization requests must not include a sessionId")
    if initialize and len(messages) > 1:
        return _refuse(400, types.INVALID_REQUEST, "Invalid Request: Only one initialization request is allowed")
    if not initialize and not session:
        return _refuse(400, -32000, "Bad Request: Mcp-Session-Id header is required")
    session = session or namespace.newUniqueId().toString()
    stub = stub_for(session)
    wire = [m.model_dump(by_alias=True, mode="json", exclude_none=True) for m in messages]
    if initialize:
        await stub.setInitializeRequest(wire[0])
    elif not await stub.getInitializeRequest():
        return _refuse(404, -32001, "Session not found")
    replies = list(await stub.handle(wire))
    if not replies:  # only notifications or responses: accepted, nothing to say
        return Response(None, status=202, headers={SESSION_HEADER: session})
    return Response(_events(replies), headers={"content-type": "text/event-stream", "cache-control": "no-cache",
                                               SESSION_HEADER: session})


# -- the client's side: the official SDK's client, kept to one session id -----------------------------


@dataclass
class McpSession:
    """A connected MCP client (``client``: the ``mcp`` package's ``ClientSession``) and its session's id."""

    client: ClientSession
    id: str
    init: types.InitializeResult  # what the server answered to initialize (kept to resume the session)


@asynccontextmanager
async def connect(url: str, resume: McpSession | None = None) -> AsyncIterator[McpSession]:
    """Open an MCP session on ``url`` with the official client, or ``resume`` one on a new connection.

    A new session sends ``initialize``. A resumed one sends its ``Mcp-Session-Id`` on every request and
    adopts the first handshake's result instead (``McpAgent`` refuses an ``initialize`` that carries a
    session id). Leaving does not end the session (no DELETE): its object keeps its state.
    """
    seen: dict[str, str] = {}

    async def remember(response: httpx2.Response) -> None:
        if SESSION_HEADER in response.headers:
            seen["id"] = response.headers[SESSION_HEADER]

    headers = {SESSION_HEADER: resume.id} if resume is not None else {}
    async with (httpx2.AsyncClient(headers=headers, event_hooks={"response": [remember]}, timeout=30) as http,
                streamable_http_client(url, http_client=http, terminate_on_close=False) as (read, write),
                ClientSession(read, write) as client):
        if resume is not None:
            client.adopt(resume.init)
            yield McpSession(client, resume.id, resume.init)
        else:
            init = await client.initialize()
            yield McpSession(client, seen["id"], init)


def run_apart(work: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end on a loop of its own, in another thread (for a check cell, whose
    test is a plain function while the notebook's loop is busy running the cell)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, work).result()


def with_server(cls: type, work: Callable[[str, Lab], Coroutine[Any, Any, T]], *, seed: int = 1) -> T:
    """Serve a fresh lab whose ``MCP`` binding is ``cls`` (each session one object) on localhost, run
    ``work(url, lab)`` with the client on a loop of its own, stop the server, and return what it returned."""
    class McpWorker(WorkerEntrypoint):
        async def fetch(self, request: Request) -> Response:
            return await streamable_http(request, self.env.MCP)

    with Lab(durable_objects={"MCP": cls}, seed=seed) as lab, serve(lab, McpWorker) as server:
        return run_apart(work(server.url + "/mcp", lab))
