"""An MCP server with one Durable Object per session, on a real localhost server, driven by the official client.

Every test serves a fresh lab with ``dolab serve`` (uvicorn on 127.0.0.1, a free port) and talks to it
with the ``mcp`` package's client or, for malformed requests, with ``httpx2`` (the HTTP client ``mcp``
itself uses).
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest
from mcp.shared.exceptions import MCPError

from dolab import Lab
from dolab.lessons.mcp import McpAgent, connect, streamable_http, tool, with_server

ACCEPT = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
INIT = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}


class Notes(McpAgent):
    server_name = "notes"

    def __init__(self, ctx: Any, env: Any) -> None:
        super().__init__(ctx, env)
        self.sql("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")

    @tool("Add a note")
    def add_note(self, text: str) -> str:
        self.sql("INSERT INTO notes (text) VALUES (?)", text)
        return "noted"

    @tool("List the notes")
    def list_notes(self) -> list[str]:
        return [row["text"] for row in self.sql("SELECT text FROM notes ORDER BY id")]

    @tool("Add n to a counter")
    async def bump(self, n: int = 1) -> dict[str, int]:
        count = (await self.ctx.storage.get("count") or 0) + n
        await self.ctx.storage.put("count", count)
        return {"count": count}

    @tool("Always fails")
    def explode(self) -> str:
        raise ValueError("out of paper")


def text(result: Any) -> str:
    return str(result.content[0].text)


def rpc(method: str, params: Any = None, id: int | None = 1) -> dict[str, Any]:  # noqa: A002
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params or {}}
    return message if id is None else message | {"id": id}


def error_of(response: httpx2.Response) -> dict[str, Any]:
    body = response.text
    if body.startswith("event:"):
        body = body.split("data: ", 1)[1]
    parsed: dict[str, Any] = json.loads(body)
    assert parsed["jsonrpc"] == "2.0" and "result" not in parsed, parsed
    return dict(parsed["error"]) | {"id": parsed["id"], "status": response.status_code}


def test_tools_are_listed_with_schemas_and_a_call_writes_the_sessions_sql() -> None:
    async def work(url: str, lab: Lab) -> Any:
        async with connect(url) as session:
            listed = (await session.client.list_tools()).tools
            added = await session.client.call_tool("add_note", {"text": "milk"})
            bumped = await session.client.call_tool("bump", {"n": 2})
            default = await session.client.call_tool("bump", {})
            notes = await session.client.call_tool("list_notes", {})
            names = [i.name for i in lab.list_durable_object_ids("MCP")]
            return session.init, listed, added, bumped, default, notes, names

    init, listed, added, bumped, default, notes, names = with_server(Notes, work)
    assert init.server_info.name == "notes" and init.protocol_version == "2025-11-25"
    schemas = {t.name: t.input_schema for t in listed}
    assert list(schemas) == ["add_note", "list_notes", "bump", "explode"]
    assert schemas["add_note"]["properties"]["text"]["type"] == "string" and schemas["add_note"]["required"] == ["text"]
    assert schemas["bump"]["properties"]["n"] == {"default": 1, "title": "N", "type": "integer"}
    assert [t.description for t in listed][:2] == ["Add a note", "List the notes"]
    assert text(added) == "noted" and not added.is_error
    assert json.loads(text(bumped)) == {"count": 2} and json.loads(text(default)) == {"count": 3}
    assert json.loads(text(notes)) == ["milk"]
    assert len(names) == 1 and names[0].startswith("streamable-http:") and len(names[0]) == len("streamable-http:") + 64


def test_a_session_resumed_after_eviction_finds_its_state_and_sessions_are_isolated() -> None:
    async def work(url: str, lab: Lab) -> Any:
        async with connect(url) as alice, connect(url) as bob:
            await alice.client.call_tool("add_note", {"text": "a1"})
            await bob.client.call_tool("add_note", {"text": "b1"})
            assert alice.id != bob.id
        evicted = lab.evict_all()
        async with connect(url, resume=alice) as again:
            alice_notes = json.loads(text(await again.client.call_tool("list_notes", {})))
            await again.client.call_tool("add_note", {"text": "a2"})
        async with connect(url, resume=bob) as again:
            bob_notes = json.loads(text(await again.client.call_tool("list_notes", {})))
        async with connect(url, resume=alice) as again:
            alice_after = json.loads(text(await again.client.call_tool("list_notes", {})))
        return evicted, alice_notes, bob_notes, alice_after, len(lab.list_durable_object_ids("MCP"))

    evicted, alice_notes, bob_notes, alice_after, objects = with_server(Notes, work)
    assert evicted == 2
    assert alice_notes == ["a1"] and bob_notes == ["b1"] and alice_after == ["a1", "a2"]
    assert objects == 2  # one object per session, and a resumed session made none


def test_unknown_tools_bad_arguments_and_failing_tools_leave_the_state_intact() -> None:
    async def work(url: str, lab: Lab) -> Any:
        async with connect(url) as session:
            await session.client.call_tool("add_note", {"text": "keep me"})
            errors = []
            for name, arguments in [("delete_everything", {}), ("add_note", {}), ("add_note", {"text": 5}),
                                    ("bump", {"n": "many"})]:
                with pytest.raises(MCPError) as raised:
                    await session.client.call_tool(name, arguments)
                errors.append((raised.value.error.code, raised.value.error.message))
            failed = await session.client.call_tool("explode", {})
            notes = json.loads(text(await session.client.call_tool("list_notes", {})))
            return errors, failed, notes

    errors, failed, notes = with_server(Notes, work)
    assert [code for code, _ in errors] == [-32602] * 4
    assert "Unknown tool: 'delete_everything'" in errors[0][1] and "add_note, list_notes, bump, explode" in errors[0][1]
    assert errors[1][1] == "Invalid arguments for tool 'add_note': text: Field required"
    assert "text" in errors[2][1] and "n" in errors[3][1]
    assert failed.is_error and text(failed) == "ValueError: out of paper"
    assert notes == ["keep me"]


def test_malformed_requests_get_json_rpc_errors_before_any_session_runs() -> None:
    async def work(url: str, lab: Lab) -> Any:
        async with connect(url) as session:
            await session.client.call_tool("add_note", {"text": "keep me"})
        sid = {"mcp-session-id": session.id}
        answers: dict[str, Any] = {}
        async with httpx2.AsyncClient() as http:
            async def post(what: str, body: Any, headers: dict[str, str] | None = None) -> None:
                content = body if isinstance(body, str) else json.dumps(body)
                answers[what] = await http.post(url, headers=ACCEPT | (headers or {}), content=content)

            await post("not json", "{nope")
            await post("not json-rpc", {"hello": "world"})
            await post("wrong version", {"jsonrpc": "1.0", "id": 1, "method": "ping"})
            await post("empty batch", [])
            await post("no session", rpc("tools/list"))
            await post("unknown session", rpc("tools/list"), {"mcp-session-id": "f" * 64})
            await post("initialize with session", rpc("initialize", INIT), sid)
            await post("initialize in a batch", [rpc("initialize", INIT), rpc("ping", id=2)])
            await post("unknown method", rpc("tools/destroy"), sid)
            await post("bad initialize params", rpc("tools/call", {"arguments": {}}), sid)
            answers["no accept"] = await http.post(url, headers={"content-type": "application/json"},
                                                   content=json.dumps(rpc("ping")))
            answers["form body"] = await http.post(url, headers={"accept": ACCEPT["accept"],
                                                                 "content-type": "text/plain"}, content="x")
            answers["get"] = await http.get(url, headers={"accept": "text/event-stream"} | sid)
            answers["put"] = await http.put(url, headers=ACCEPT | sid, content="{}")
            answers["notification"] = await http.post(url, headers=ACCEPT | sid,
                                                      content=json.dumps(rpc("notifications/initialized", id=None)))
            answers["ping"] = await http.post(url, headers=ACCEPT | sid, content=json.dumps(rpc("ping", id=7)))
        async with connect(url, resume=session) as again:
            notes = json.loads(text(await again.client.call_tool("list_notes", {})))
        return answers, notes, len(lab.list_durable_object_ids("MCP"))

    answers, notes, objects = with_server(Notes, work)
    expected = {
        "not json": (400, -32700, "Parse error: Invalid JSON"),
        "not json-rpc": (400, -32700, "Parse error: Invalid JSON-RPC message"),
        "wrong version": (400, -32700, "Parse error: Invalid JSON-RPC message"),
        "empty batch": (400, -32600, "Invalid Request: an empty batch"),
        "no session": (400, -32000, "Bad Request: Mcp-Session-Id header is required"),
        "unknown session": (404, -32001, "Session not found"),
        "initialize with session": (400, -32600,
                                    "Invalid Request: Initialization requests must not include a sessionId"),
        "initialize in a batch": (400, -32600, "Invalid Request: Only one initialization request is allowed"),
        "unknown method": (200, -32601, "Method not found: tools/destroy"),
        "no accept": (406, -32000, "Not Acceptable: Client must accept both application/json and text/event-stream"),
        "form body": (415, -32000, "Unsupported Media Type: Content-Type must be application/json"),
        "put": (405, -32000, "Method Not Allowed: PUT (use POST, or DELETE to end a session)"),
    }
    for what, (status, code, message) in expected.items():
        error = error_of(answers[what])
        assert (error["status"], error["code"], error["message"]) == (status, code, message), what
        assert error["id"] == (1 if status == 200 else None), what
    bad = error_of(answers["bad initialize params"])
    assert bad["code"] == -32602 and "name: Field required" in bad["message"]
    assert answers["get"].status_code == 405
    assert answers["notification"].status_code == 202 and answers["notification"].text == ""
    ping = answers["ping"]
    assert ping.headers["content-type"] == "text/event-stream" and ping.headers["mcp-session-id"]
    assert json.loads(ping.text.split("data: ", 1)[1]) == {"jsonrpc": "2.0", "id": 7, "result": {}}
    assert notes == ["keep me"]
    # The probe with an unknown session id woke an object of its own (getByName reaches any name) and its
    # constructor's CREATE TABLEs keep it; it holds no session: every later request to it is refused.
    assert objects == 2


def test_delete_ends_a_session_and_its_state() -> None:
    async def work(url: str, lab: Lab) -> Any:
        async with connect(url) as session:
            await session.client.call_tool("add_note", {"text": "gone soon"})
        sid = {"mcp-session-id": session.id}
        async with httpx2.AsyncClient() as http:
            first = await http.delete(url, headers=sid)
            second = await http.delete(url, headers=sid)
            after = await http.post(url, headers=ACCEPT | sid, content=json.dumps(rpc("tools/list")))
            missing = await http.delete(url)
        return first.status_code, error_of(second), error_of(after), error_of(missing)

    first, second, after, missing = with_server(Notes, work)
    assert first == 204
    assert (second["status"], second["code"]) == (404, -32001)
    assert (after["status"], after["message"]) == (404, "Session not found")
    assert (missing["status"], missing["code"]) == (400, -32000)


def test_streamable_http_routes_with_a_route_of_your_own() -> None:
    # The routing is a parameter: every session in one object is the mistake exercise 3 warns about.
    from dolab import WorkerEntrypoint
    from dolab.lessons.mcp import run_apart
    from dolab.tools.serve import serve

    class SharedWorker(WorkerEntrypoint):
        async def fetch(self, request: Any) -> Any:
            return await streamable_http(request, self.env.MCP, route=lambda sid: self.env.MCP.getByName("everyone"))

    async def work(url: str) -> Any:
        async with connect(url) as alice, connect(url) as bob:
            await alice.client.call_tool("add_note", {"text": "alice's"})
            return json.loads(text(await bob.client.call_tool("list_notes", {})))

    with Lab(durable_objects={"MCP": Notes}, seed=1) as lab, serve(lab, SharedWorker) as server:
        seen = run_apart(work(server.url + "/mcp"))
        names = [i.name for i in lab.list_durable_object_ids("MCP")]
    assert seen == ["alice's"] and names == ["everyone"]


def test_serving_a_class_puts_nothing_on_it() -> None:
    # Chapter 12's exercise 3 rejects a class that keeps a list, dict or set on itself (state every session
    # shares); the server's own bookkeeping must not put one there.
    before = dict(vars(Notes))

    async def work(url: str, lab: Lab) -> Any:
        async with connect(url) as session:
            return (await session.client.list_tools()).tools

    assert len(with_server(Notes, work)) == 4
    assert dict(vars(Notes)) == before
