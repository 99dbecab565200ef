"""Chapter 07's chat room in two real Chromium tabs, through ``dolab serve``.

The room is the notebook's own ``ChatRoom``, behind the Worker ``dolab export`` generates for it, as
``python -m dolab serve notebooks/07_websockets_chat.ipynb --class ChatRoom --assets dolab/lessons/chat_page``
runs it. Two pages load the chat page from the server (a static asset), each opens a real WebSocket
to the same room object, one types, the other sees it: browser -> uvicorn -> Worker -> Durable
Object -> the other browser.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dolab.lessons.chatroom import CHAT_PAGE
from dolab.tools.runner import prepare
from dolab.tools.serve import Server, serve

CHAPTER = Path(__file__).resolve().parents[2] / "notebooks" / "07_websockets_chat.ipynb"

pytestmark = pytest.mark.browser


@pytest.fixture
def chat_server() -> Iterator[Server]:
    lab, worker, _ = prepare(str(CHAPTER), classes=["ChatRoom"])
    with serve(lab, worker, assets=CHAT_PAGE) as server:
        yield server
    lab.close()


def test_a_message_crosses_between_two_tabs(chat_server: Server, browser: Any, output_dir: Path) -> None:
    from playwright.sync_api import expect

    alice, bob = browser.new_page(), browser.new_page()
    try:
        for page, name in ((alice, "alice"), (bob, "bob")):
            page.set_default_timeout(15_000)
            page.goto(f"{chat_server.url}/?user={name}&room=lobby")
            expect(page.locator("#status")).to_have_text(f"connected to lobby as {name}")

        alice.fill("#message", "hello from the first tab")
        alice.click("#send")
        expect(bob.locator("#log li")).to_have_text(["alice: hello from the first tab"])
        expect(alice.locator("#log li")).to_have_text(["alice: hello from the first tab"])

        bob.fill("#message", "and back")
        bob.press("#message", "Enter")  # the form submits on Enter as well
        expect(alice.locator("#log li").last).to_have_text("bob: and back")

        bob.close()  # a tab closed: the room's webSocketClose tells the others
        expect(alice.locator("#log li").last).to_have_text("bob left")
        alice.screenshot(path=str(output_dir / "alice.png"))
    finally:
        for page in (alice, bob):
            if not page.is_closed():
                page.close()
