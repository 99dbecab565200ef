"""``dolab.Agent``: state synchronised to clients, schedules on the one alarm, SQL, hooks; and the chat race."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

import pytest

from dolab import Agent, ConfigError, Lab, SerializationError
from dolab.lessons.agents import overlapping_chats


class Planner(Agent):
    initialState = {"stops": []}

    def __init__(self, ctx: Any, env: Any) -> None:
        super().__init__(ctx, env)
        self.sql("CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY, text TEXT)")

    async def add(self, stop: str) -> Any:
        self.setState({"stops": self.state["stops"] + [stop]})
        return self.state

    async def later(self, when: Any, callback: str = "note", payload: Any = None) -> Any:
        return await self.schedule(when, callback, payload)

    def note(self, payload: Any, schedule: dict[str, Any]) -> None:
        self.sql("INSERT INTO log (text) VALUES (?)", f"{schedule['id']}:{payload}")

    def explode(self, payload: Any, schedule: dict[str, Any]) -> None:
        raise RuntimeError("the callback failed")

    def onStateUpdate(self, state: Any, source: Any) -> None:
        self.sql("INSERT INTO log (text) VALUES (?)", f"update from {'server' if source == 'server' else 'client'}")

    def onMessage(self, connection: Any, message: Any) -> None:
        connection.send(f"echo {message}")

    async def log(self) -> list[str]:
        return [row["text"] for row in self.sql("SELECT text FROM log ORDER BY id")]

    async def mutate_copy(self) -> Any:
        self.state["stops"].append("sneaky")
        return self.state

    async def bad_state(self) -> None:
        self.setState({"when": dt.datetime(2026, 1, 1)})

    async def wipe(self) -> None:
        await self.destroy()


@pytest.fixture
def lab() -> Any:
    with Lab(durable_objects={"PLANNER": Planner}, seed=1) as lab:
        yield lab


def connect(lab: Lab, stub: Any) -> Any:
    return lab.run(stub.fetch("https://agent/ws", headers={"Upgrade": "websocket"})).webSocket


def test_state_starts_as_initial_state_and_survives_eviction(lab: Lab) -> None:
    stub = lab.env.PLANNER.getByName("a")
    assert lab.run(stub.add("Sintra")) == {"stops": ["Sintra"]}
    assert lab.evict(stub)
    assert lab.run(stub.add("Porto")) == {"stops": ["Sintra", "Porto"]}
    other = lab.env.PLANNER.getByName("b")
    assert lab.run(other.add("Faro")) == {"stops": ["Faro"]}  # another agent, its own state


def test_state_is_a_copy_and_must_be_json(lab: Lab) -> None:
    stub = lab.env.PLANNER.getByName("a")
    assert lab.run(stub.mutate_copy()) == {"stops": []}
    with pytest.raises(Exception, match="must be JSON") as raised:
        lab.run(stub.bad_state())
    assert "datetime is not JSON serializable" in str(raised.value)  # names the value's type
    assert issubclass(SerializationError, TypeError)  # what crossed RPC as a TypeError


def test_state_reaches_every_client_and_a_client_can_set_it(lab: Lab) -> None:
    stub = lab.env.PLANNER.getByName("a")
    phone, laptop = connect(lab, stub), connect(lab, stub)
    lab.run(stub.add("Sintra"))
    lab.advance(1)
    expected = [{"stops": []}, {"stops": ["Sintra"]}]
    for ws in (phone, laptop):
        assert [json.loads(m) for m in ws.received] == [{"type": "cf_agent_state", "state": s} for s in expected]
    phone.received.clear()
    laptop.received.clear()
    phone.send(json.dumps({"type": "cf_agent_state", "state": {"stops": ["Cascais"]}}))
    lab.advance(1)
    assert phone.received == []  # the client that set it is not told its own change
    assert [json.loads(m)["state"] for m in laptop.received] == [{"stops": ["Cascais"]}]
    assert lab.run(stub.add("Lisbon")) == {"stops": ["Cascais", "Lisbon"]}
    assert lab.run(stub.log()) == ["update from server", "update from client", "update from server"]


def test_other_messages_go_to_on_message_and_plain_requests_to_on_request(lab: Lab) -> None:
    stub = lab.env.PLANNER.getByName("a")
    phone = connect(lab, stub)
    phone.send("hello")
    phone.send("{not json")
    lab.advance(1)
    assert phone.received[1:] == ["echo hello", "echo {not json"]
    assert lab.run(stub.fetch("https://agent/")).status == 404


def test_schedules_run_in_time_order_on_one_alarm_and_survive_eviction(lab: Lab) -> None:
    stub = lab.env.PLANNER.getByName("a")
    late = lab.run(stub.later(60, "note", "late"))
    soon = lab.run(stub.later(30, "note", "soon"))
    at = lab.run(stub.later(dt.datetime.fromtimestamp(lab.run(stub.later(0.5, "note", "first"))["time"] + 89.5,
                                                      dt.UTC), "note", "at 90"))
    assert (late["type"], soon["delayInSeconds"], at["type"]) == ("delayed", 30.0, "scheduled")
    assert [s["payload"] for s in lab.run(stub.getSchedules())] == ["first", "soon", "late", "at 90"]
    lab.evict(stub)
    lab.advance(45)
    assert lab.run(stub.log()) == ["schedule-3:first", "schedule-2:soon"]
    lab.advance(100)
    assert lab.run(stub.log())[2:] == ["schedule-1:late", "schedule-4:at 90"]
    assert lab.run(stub.getSchedules()) == []
    runs = [round(entry["at"], 1) for entry in lab.alarm_log]
    assert runs == [0.5, 30.0, 60.0, 90.0], f"one alarm run per distinct time, got {runs}"


def test_cancel_schedule_moves_the_alarm(lab: Lab) -> None:
    stub = lab.env.PLANNER.getByName("a")
    first = lab.run(stub.later(10, "note", "cancelled"))
    lab.run(stub.later(50, "note", "kept"))
    assert lab.run(stub.cancelSchedule(first["id"])) is True
    assert lab.run(stub.cancelSchedule(first["id"])) is False
    lab.advance(100)
    assert lab.run(stub.log()) == ["schedule-2:kept"]
    assert [round(entry["at"]) for entry in lab.alarm_log] == [50]


def test_a_failing_callback_is_logged_and_the_others_still_run(lab: Lab, caplog: Any) -> None:
    stub = lab.env.PLANNER.getByName("a")
    lab.run(stub.later(5, "explode"))
    lab.run(stub.later(5, "note", "after"))
    with caplog.at_level(logging.ERROR, logger="dolab.agent"):
        lab.advance(10)
    assert lab.run(stub.log()) == ["schedule-2:after"]
    assert lab.run(stub.getSchedules()) == []
    assert "explode" in caplog.text and "the callback failed" in caplog.text


@pytest.mark.parametrize(("when", "callback", "words"), [
    ("0 8 * * *", "note", "cron schedules"),
    (-5, "note", "seconds >= 0"),
    (10, "no_such_method", "name of a method"),
])
def test_schedule_refuses_what_it_cannot_do(lab: Lab, when: Any, callback: str, words: str) -> None:
    stub = lab.env.PLANNER.getByName("a")
    with pytest.raises(Exception, match=words):
        lab.run(stub.later(when, callback))
    assert lab.run(stub.getSchedules()) == []


def test_destroy_forgets_state_and_schedules(lab: Lab) -> None:
    stub = lab.env.PLANNER.getByName("a")
    lab.run(stub.add("Sintra"))
    lab.run(stub.later(10, "note", "never"))
    lab.run(stub.wipe())
    assert lab.run(stub.getSchedules()) == []
    lab.advance(20)
    assert lab.run(stub.log()) == []
    assert lab.run(stub.add("Porto")) == {"stops": ["Porto"]}


def test_config_error_is_the_error_for_a_bad_schedule() -> None:
    with Lab(durable_objects={"PLANNER": Planner}, seed=1) as lab:
        stub = lab.env.PLANNER.getByName("a")
        box: list[BaseException] = []

        def inside(instance: Any, ctx: Any) -> Any:
            async def go() -> None:
                try:
                    await instance.schedule("@daily", "note")
                except ConfigError as exc:
                    box.append(exc)
            return go()

        lab.run(lab.run_in_durable_object(stub, inside))
    assert box and "cron" in str(box[0])


# -- the chat race (chapter 12): a model call is an outside await ---------------------------------------


class ChatAgent(Agent):
    initialState = {"messages": []}

    async def chat(self, text: str) -> str:
        messages = self.state["messages"] + [{"role": "user", "content": text}]
        reply = await self.env.MODEL.complete(messages)
        self.setState({"messages": messages + [{"role": "assistant", "content": reply}]})
        return str(reply)


class LockedChat(ChatAgent):
    async def chat(self, text: str) -> str:
        return str(await self.ctx.blockConcurrencyWhile(lambda: ChatAgent.chat(self, text)))


@pytest.mark.parametrize("gap", [0.1, 0.5, 1.9])
def test_a_message_during_a_model_call_is_lost_unless_the_turn_holds_the_gate(gap: float) -> None:
    texts = ["one", "two"]
    race = overlapping_chats(ChatAgent, texts, gap=gap, latency=2.0)
    assert race.lost == 1 and [m["content"] for m in race.history][0] == "two"
    locked = overlapping_chats(LockedChat, texts, gap=gap, latency=2.0)
    assert locked.lost == 0 and locked.turns == "user, assistant, user, assistant"
    assert locked.answered_at["two"] == pytest.approx(4.0)  # it waited for the first model call
    assert locked.model_saw == [["one"], ["one", "two"]]


def test_messages_further_apart_than_the_model_call_do_not_race() -> None:
    run = overlapping_chats(ChatAgent, ["one", "two"], gap=2.5, latency=2.0)
    assert run.lost == 0 and run.turns == "user, assistant, user, assistant"


def test_the_turns_chart_shows_each_message_wait_model_call_and_fate() -> None:
    import matplotlib

    matplotlib.use("Agg")
    from dolab.view.agentplots import plot_turns

    runs = [overlapping_chats(cls, ["one", "two"], gap=0.5, latency=2.0) for cls in (ChatAgent, LockedChat)]
    fig = plot_turns(runs)
    race, locked = fig.axes[:2]
    assert [t.get_text() for t in race.texts] == ["lost", "kept"]
    assert [t.get_text() for t in locked.texts] == ["kept", "kept"]
    waits = [(round(p.get_x(), 2), round(p.get_width(), 2)) for p in locked.patches]
    assert (0.5, 1.5) in waits and (2.0, 2.0) in waits  # "two" waits 1.5 s, then its model call runs 2 s
