"""Chapter 12's experiments: a scripted stand-in for a language model, and two messages that overlap.

:class:`ScriptedModel` is **not** a language model: it answers from a rule after a fixed delay on the
lab's clock, so every run is the same. What it keeps of a real model is the one thing the chapter is
about: the call is an ``await`` on something outside the object, and it takes seconds.

:func:`overlapping_chats` sends messages to one agent a little apart, while the first one's model call
is still running, and reports what the agent's history holds afterwards.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from dolab.runtime.lab import Lab


class ScriptedModel:
    """A deterministic stand-in for a chat model: ``await model.complete(messages)`` after ``latency`` s."""

    def __init__(self, latency: float = 2.0) -> None:
        self.latency = latency
        self.calls: list[list[dict[str, Any]]] = []  # the messages each call saw
        self.spans: list[tuple[float, float]] = []  # (start, end) of each call, in lab seconds

    async def complete(self, messages: list[dict[str, Any]]) -> str:
        self.calls.append([dict(m) for m in messages])
        start = asyncio.get_running_loop().time()  # the lab's clock, inside the lab
        await asyncio.sleep(self.latency)  # on the lab clock: the seconds a real model takes
        self.spans.append((start, asyncio.get_running_loop().time()))
        users = [m["content"] for m in messages if m["role"] == "user"]
        return f"re: {users[-1]} (I have seen {len(users)} of your messages)"


@dataclass
class ChatRun:
    """What happened when messages overlapped: the agent's history, each reply and when it came."""

    label: str
    sent: list[str]
    history: list[dict[str, Any]]
    replies: dict[str, str]
    answered_at: dict[str, float]  # seconds after the first message was sent
    model_saw: list[list[str]] = field(default_factory=list)  # the user messages each model call saw
    sent_at: dict[str, float] = field(default_factory=dict)  # seconds after the first message
    model_call: dict[str, tuple[float, float]] = field(default_factory=dict)  # message -> its model call

    @property
    def kept(self) -> int:
        """Messages of the user that are in the history."""
        return sum(1 for m in self.history if m["role"] == "user")

    def was_kept(self, text: str) -> bool:
        return any(m["role"] == "user" and m["content"] == text for m in self.history)

    @property
    def lost(self) -> int:
        return len(self.sent) - self.kept

    @property
    def turns(self) -> str:
        """The history as roles in order: ``"user, assistant, user, assistant"``."""
        return ", ".join(m["role"] for m in self.history)

    def summary(self) -> dict[str, Any]:
        return {"approach": self.label, "messages sent": len(self.sent), "kept": self.kept, "lost": self.lost,
                "history": self.turns, "last reply after (s)": round(max(self.answered_at.values()), 2)}


def overlapping_chats(cls: type, texts: list[str], *, gap: float = 0.5, latency: float = 2.0, seed: int = 1,
                      label: str | None = None) -> ChatRun:
    """Send ``texts`` to one ``cls`` agent ``gap`` seconds apart, each with ``await agent.chat(text)``.

    The agent finds the model at ``self.env.MODEL`` (a :class:`ScriptedModel` with ``latency``).
    """
    model = ScriptedModel(latency)
    with Lab(durable_objects={"AGENT": cls}, vars={"MODEL": model}, seed=seed) as lab:
        agent = lab.env.AGENT.getByName("alice")
        start = lab.now
        replies: dict[str, str] = {}
        answered: dict[str, float] = {}
        sent: dict[str, float] = {}

        async def send(i: int, text: str) -> None:
            await asyncio.sleep(i * gap)
            sent[text] = lab.now - start
            replies[text] = await lab.env.AGENT.getByName("alice").chat(text)
            answered[text] = lab.now - start

        async def everyone() -> None:
            await asyncio.gather(*(send(i, text) for i, text in enumerate(texts)))

        lab.run(everyone())
        state = lab.run(lab.run_in_durable_object(agent, lambda instance, ctx: instance.state))
    saw = [[m["content"] for m in call if m["role"] == "user"] for call in model.calls]
    # each call answers the last user message it was given; its span is when it ran
    calls = {users[-1]: (a - start, b - start) for users, (a, b) in zip(saw, model.spans, strict=False) if users}
    return ChatRun(label or cls.__name__, list(texts), list(state["messages"]), replies, answered, saw, sent, calls)
