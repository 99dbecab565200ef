"""Chapter 06's needs: an object knows its name when an alarm or a message wakes it, time in object
code follows the lab, and the timeline chart puts object times and the alarm log on one axis."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from dolab import DurableObject, Lab, Response, WebSocketPair


class Named(DurableObject):
    async def remind(self, seconds: float) -> str:
        await self.ctx.storage.setAlarm(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds))
        return dt.datetime.now(dt.UTC).isoformat()

    async def alarm(self, alarm_info: Any = None) -> None:
        await self.ctx.storage.put("woken as", [self.ctx.id.name, dt.datetime.now(dt.UTC).isoformat()])

    async def fetch(self, request: Any) -> Response:
        client, server = WebSocketPair.new()
        self.ctx.acceptWebSocket(server)
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws: Any, message: Any) -> None:
        ws.send(json.dumps([self.ctx.id.name, message]))

    async def woken(self) -> Any:
        return await self.ctx.storage.get("woken as")


def test_an_object_woken_by_its_alarm_or_a_message_knows_its_name() -> None:
    with Lab(durable_objects={"N": Named}) as lab:
        alice = lab.env.N.getByName("alice")
        set_at = lab.run(alice.remind(3600))
        lab.advance(4000)  # evicted long before its alarm: the alarm constructs it from its id alone
        assert lab.statistics().constructed == 2
        name, when = lab.run(alice.woken())
        assert name == "alice"
        assert dt.datetime.fromisoformat(when) - dt.datetime.fromisoformat(set_at) == dt.timedelta(hours=1)

        ws = lab.run(lab.env.N.getByName("bob").fetch("https://n/ws")).webSocket
        lab.advance(30)  # hibernated; the message wakes it
        ws.send("hi")
        lab.advance(1)
        assert json.loads(ws.received[-1]) == ["bob", "hi"]
        unique = lab.env.N.newUniqueId()
        lab.run(lab.env.N.get(unique).remind(10))
        lab.advance(20)
        assert lab.run(lab.env.N.get(unique).woken())[0] is None  # a unique id has no name


def test_the_timeline_puts_object_times_and_the_alarm_log_on_the_lab_clock(tmp_path: Path) -> None:
    from dolab.view.alarm_timeline import as_datetime, lab_start, plot_alarm_timeline

    with Lab(durable_objects={"N": Named}) as lab:
        lab.advance(7200)
        stub = lab.env.N.getByName("alice")
        first = lab.run(stub.remind(3600))
        lab.advance(600)
        second = lab.run(stub.remind(3600))  # replaces the first
        lab.advance(7200)
        start = lab_start(lab)
        assert (as_datetime(first) - start).total_seconds() == 7200
        assert as_datetime(lab.time_ms) - start == dt.timedelta(seconds=lab.now)
        due = [as_datetime(first) + dt.timedelta(hours=1), as_datetime(second) + dt.timedelta(hours=1)]
        fig = plot_alarm_timeline(lab, list(zip([first, second], due, strict=True)), [], lab.alarm_log)
        ax = fig.axes[0]
        ran = [line for line in ax.lines if line.get_marker() == "$✓$"][0]
        assert list(ran.get_xdata()) == pytest.approx([2 + 10 / 60 + 1])  # the second alarm, at 3 h 10 min
        bars = [line for line in ax.lines if line.get_linewidth() == 5]
        assert list(bars[0].get_xdata()) == pytest.approx([2, 2 + 10 / 60])  # the first ends where it was replaced
        assert list(bars[1].get_xdata()) == pytest.approx([2 + 10 / 60, 3 + 10 / 60])  # the second ran
        (would,) = [line for line in ax.lines if line.get_linestyle() == ":"]
        assert list(would.get_xdata()) == pytest.approx([2 + 10 / 60, 3])  # where the first would have run
        assert [t.get_text() for t in ax.get_yticklabels()] == ["cart changed", "alarm set", "alarm ran"]
        fig.savefig(tmp_path / "timeline.png")
    assert (tmp_path / "timeline.png").stat().st_size > 5000
    with pytest.raises(ValueError, match="unit must be one of"):
        plot_alarm_timeline(lab, unit="weeks")
