"""``Agent``: dolab's model of Cloudflare's Agents SDK, in Python names, on a plain Durable Object.

Cloudflare's Agents SDK (the ``agents`` npm package, TypeScript) gives a Durable Object four things,
and this module gives the same four to a Python class, built only on what ``ctx`` already offers:

- **state**: ``self.state`` and ``self.setState(state)``. The state is JSON, kept in the object's own
  SQLite (table ``cf_agents_state``), sent to every connected WebSocket client as
  ``{"type": "cf_agent_state", "state": ...}`` on connect and on every change, and settable by a
  client sending that same message. ``onStateUpdate(state, source)`` runs after each change
  (``source`` is ``"server"`` or the client's WebSocket).
- **schedules**: ``await self.schedule(when, "method_name", payload)`` with ``when`` a delay in seconds
  or a ``datetime``. Schedules are rows of ``cf_agents_schedules``; the object's **one alarm** is
  always set to the earliest, and ``alarm()`` runs every schedule that is due (oldest first), deletes
  it, and sets the alarm again. ``getSchedule``, ``getSchedules``, ``cancelSchedule``.
- **SQL for memory**: ``self.sql("SELECT ... WHERE id = ?", x)`` returns the rows as a list of dicts.
  (The SDK's ``this.sql`` is a tagged template, ``this.sql`SELECT ... ${x}```; bindings are the same.)
- **connections**: a WebSocket upgrade to ``fetch`` is accepted with the Hibernation API (the agent
  may sleep while clients stay connected); ``onConnect(connection, ctx)``, ``onMessage(connection,
  message)``, ``onClose(connection, code, reason, wasClean)``; ``broadcast(message)``. Any other
  request goes to ``onRequest(request)``.

Left out (the SDK has them): ``validateStateChange`` (a hook that can refuse a change; the SDK runs
``onStateUpdate`` in ``waitUntil``, and newer releases name it ``onStateChanged``), cron schedules
(``schedule("0 8 * * *", ...)``: a callback may schedule its next run itself), ``connection.id`` and
per-connection state, ``queue()``, workflows, the ``routeAgentRequest`` router and the ``useAgent``
React client, email handling, and MCP client connections. The state read from ``self.state`` is a
copy: change it with ``setState``.
A schedule's callback that raises is logged and its schedule removed (the alarm is not failed, so it
is not retried); a callback interrupted by an eviction or a crash runs again when the alarm is
retried, so side effects outside the object need an idempotency key. Do not override ``alarm``: the
schedules live on it.
"""

from __future__ import annotations

import datetime as _dt
import inspect
import json
import logging
import time
from typing import Any

from dolab.runtime.errors import ConfigError, SerializationError
from dolab.runtime.fetch import Request, Response
from dolab.runtime.objects import DurableObject, DurableObjectState
from dolab.runtime.websockets import WebSocket, WebSocketPair

log = logging.getLogger("dolab.agent")
STATE_MESSAGE = "cf_agent_state"  # the SDK's message type for state sync
STATE_ROW, SEQUENCE_ROW = "STATE", "SCHEDULE_SEQUENCE"
TABLES = (
    "CREATE TABLE IF NOT EXISTS cf_agents_state (id TEXT PRIMARY KEY NOT NULL, state TEXT);"
    "CREATE TABLE IF NOT EXISTS cf_agents_schedules (id TEXT PRIMARY KEY NOT NULL, callback TEXT NOT NULL,"
    " payload TEXT, type TEXT NOT NULL, time REAL NOT NULL, delayInSeconds REAL, created_at REAL NOT NULL)"
)
_UNREAD = object()


def _json(value: Any, what: str) -> str:
    """``value`` as JSON text, or a SerializationError naming ``what`` and the value's type."""
    try:
        return json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise SerializationError(f"{what} must be JSON (dict, list, str, number, bool, None): {exc}") from None


async def _settle(result: Any) -> Any:
    """A hook's result, awaited if the hook was ``async``."""
    return await result if inspect.isawaitable(result) else result


class Agent(DurableObject):
    """A Durable Object with synchronised state, schedules on its alarm, and SQL: see the module doc.

    Subclass it as you subclass ``DurableObject``; set ``initialState`` for the state an agent starts
    with, and override the ``on...`` hooks you need (each may be ``async``).
    """

    initialState: Any = None

    def __init__(self, ctx: DurableObjectState, env: Any) -> None:
        super().__init__(ctx, env)
        ctx.storage.sql.exec(TABLES)
        self._state: Any = _UNREAD

    @property
    def name(self) -> str | None:
        """The name this agent was reached by (``getByName(name)``); ``None`` for a unique id."""
        return self.ctx.id.name

    # -- SQL -------------------------------------------------------------------------------------

    def sql(self, query: str, *bindings: Any) -> list[dict[str, Any]]:
        """Run one SQL statement on the agent's own database; its rows as a list of dicts."""
        return [dict(row) for row in self.ctx.storage.sql.exec(query, *bindings).toArray()]

    # -- state -----------------------------------------------------------------------------------

    @property
    def state(self) -> Any:
        """The agent's state (a copy: change it with ``setState``); ``initialState`` until the first set."""
        if self._state is _UNREAD:
            rows = self.sql("SELECT state FROM cf_agents_state WHERE id = ?", STATE_ROW)
            self._state = json.loads(rows[0]["state"]) if rows else self.initialState
        return json.loads(json.dumps(self._state))

    def setState(self, state: Any) -> None:
        """Store ``state``, send it to every connected client, then call ``onStateUpdate(state, "server")``."""
        self._set_state(state, "server")

    def _set_state(self, state: Any, source: Any) -> None:
        text = _json(state, "an Agent's state")
        self.sql("INSERT OR REPLACE INTO cf_agents_state (id, state) VALUES (?, ?)", STATE_ROW, text)
        self._state = json.loads(text)
        message = json.dumps({"type": STATE_MESSAGE, "state": self._state})
        self.broadcast(message, without=[source] if isinstance(source, WebSocket) else None)
        result = self.onStateUpdate(json.loads(text), source)
        if inspect.isawaitable(result):
            self.ctx.waitUntil(result)

    def onStateUpdate(self, state: Any, source: Any) -> Any:
        """Called after every change of state; ``source`` is ``"server"`` or the client's WebSocket."""

    # -- connections -----------------------------------------------------------------------------

    async def fetch(self, request: Request) -> Response:
        """A WebSocket upgrade connects a client (it gets the state at once); anything else: ``onRequest``."""
        if request.headers.get("upgrade", "").lower() != "websocket":
            response: Response = await _settle(self.onRequest(request))
            return response
        client, server = WebSocketPair.new()
        self.ctx.acceptWebSocket(server)
        if self.state is not None:
            server.send(json.dumps({"type": STATE_MESSAGE, "state": self.state}))
        await _settle(self.onConnect(server, {"request": request}))
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws: WebSocket, message: str | bytes) -> None:
        if isinstance(message, str) and message.startswith("{"):
            try:
                parsed = json.loads(message)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict) and parsed.get("type") == STATE_MESSAGE and "state" in parsed:
                self._set_state(parsed["state"], ws)  # a client set the state: the others hear of it
                return
        await _settle(self.onMessage(ws, message))

    async def webSocketClose(self, ws: WebSocket, code: int, reason: str, wasClean: bool) -> None:  # noqa: N803
        await _settle(self.onClose(ws, code, reason, wasClean))

    def broadcast(self, message: str | bytes, without: list[Any] | None = None) -> None:
        """Send ``message`` to every connected client (except those in ``without``)."""
        for ws in self.ctx.getWebSockets():
            if ws not in (without or []):
                ws.send(message)

    def onConnect(self, connection: WebSocket, ctx: dict[str, Any]) -> Any:
        """A client connected (``ctx["request"]`` is its upgrade request)."""

    def onMessage(self, connection: WebSocket, message: str | bytes) -> Any:
        """A client sent a message that is not a state update."""

    def onClose(self, connection: WebSocket, code: int, reason: str, wasClean: bool) -> Any:  # noqa: N803
        """A client's connection closed."""

    def onRequest(self, request: Request) -> Any:
        """An HTTP request that is not a WebSocket upgrade (default: 404)."""
        return Response("Not found: this agent has no onRequest handler", status=404)

    # -- schedules -------------------------------------------------------------------------------

    async def schedule(self, when: float | _dt.datetime, callback: str, payload: Any = None) -> dict[str, Any]:
        """Run ``self.<callback>(payload, schedule)`` at ``when`` (seconds from now, or a datetime).

        Returns the schedule: ``{"id", "callback", "payload", "type", "time"}`` (``time`` in seconds
        since the epoch; ``type`` is ``"delayed"`` or ``"scheduled"``).
        """
        if not isinstance(callback, str) or not callable(getattr(self, callback, None)):
            raise ConfigError(f"schedule() takes the name of a method of {type(self).__name__}, got {callback!r}")
        now = time.time()
        delay: float | None = None
        if isinstance(when, _dt.datetime):
            kind, at = "scheduled", (when if when.tzinfo else when.replace(tzinfo=_dt.UTC)).timestamp()
        elif isinstance(when, (int, float)) and not isinstance(when, bool) and when >= 0:
            kind, delay, at = "delayed", float(when), now + float(when)
        elif isinstance(when, str):
            raise ConfigError(f"cron schedules ({when!r}) are left out of dolab's Agent: schedule a delay or a "
                              "datetime, and let the callback schedule its next run")
        else:
            raise ConfigError(f"schedule() takes seconds >= 0 or a datetime, got {when!r}")
        text = _json(payload, "a schedule's payload")
        rows = self.sql("SELECT state FROM cf_agents_state WHERE id = ?", SEQUENCE_ROW)
        number = (int(rows[0]["state"]) if rows else 0) + 1
        self.sql("INSERT OR REPLACE INTO cf_agents_state (id, state) VALUES (?, ?)", SEQUENCE_ROW, str(number))
        schedule_id = f"schedule-{number}"
        self.sql("INSERT INTO cf_agents_schedules (id, callback, payload, type, time, delayInSeconds, created_at)"
                 " VALUES (?, ?, ?, ?, ?, ?, ?)", schedule_id, callback, text, kind, at, delay, now)
        await self._arm()
        found = self.getSchedule(schedule_id)
        assert found is not None
        return found

    def getSchedule(self, schedule_id: str) -> dict[str, Any] | None:
        rows = self.sql("SELECT * FROM cf_agents_schedules WHERE id = ?", schedule_id)
        return self._schedule(rows[0]) if rows else None

    def getSchedules(self) -> list[dict[str, Any]]:
        """Every pending schedule, the soonest first."""
        return [self._schedule(row) for row in self.sql("SELECT * FROM cf_agents_schedules ORDER BY time, created_at")]

    async def cancelSchedule(self, schedule_id: str) -> bool:
        """Remove a pending schedule; ``False`` if there was none with that id."""
        if self.getSchedule(schedule_id) is None:
            return False
        self.sql("DELETE FROM cf_agents_schedules WHERE id = ?", schedule_id)
        await self._arm()
        return True

    @staticmethod
    def _schedule(row: dict[str, Any]) -> dict[str, Any]:
        found = {key: row[key] for key in ("id", "callback", "type", "time")}
        found["payload"] = json.loads(row["payload"]) if row["payload"] is not None else None
        if row["delayInSeconds"] is not None:
            found["delayInSeconds"] = row["delayInSeconds"]
        return found

    async def _arm(self) -> None:
        """Set the one alarm to the soonest schedule (or delete it when none is left)."""
        soonest = self.sql("SELECT min(time) AS at FROM cf_agents_schedules")[0]["at"]
        if soonest is None:
            await self.ctx.storage.deleteAlarm()
        else:
            await self.ctx.storage.setAlarm(soonest * 1000.0)

    async def alarm(self, alarm_info: Any = None) -> None:
        """Run every schedule that is due, the oldest first; then set the alarm for the next one."""
        for row in self.sql("SELECT * FROM cf_agents_schedules WHERE time <= ? ORDER BY time, created_at",
                            time.time()):
            schedule = self._schedule(row)
            try:
                await _settle(getattr(self, schedule["callback"])(schedule["payload"], schedule))
            except Exception:  # noqa: BLE001 - as the SDK does: log it, drop the schedule, run the others
                log.exception("%s: the scheduled callback %s (%s) raised", type(self).__name__,
                              schedule["callback"], schedule["id"])
            self.sql("DELETE FROM cf_agents_schedules WHERE id = ?", schedule["id"])
        await self._arm()

    # -- the end ---------------------------------------------------------------------------------

    async def destroy(self) -> None:
        """Delete the agent's alarm and every row it stored (state, schedules, your tables)."""
        await self.ctx.storage.deleteAlarm()
        await self.ctx.storage.deleteAll()
        self.ctx.storage.sql.exec(TABLES)  # empty again, and ready: the instance may still get calls
        self._state = _UNREAD
