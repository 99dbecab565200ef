"""Chapter 07's chat panel in a real JupyterLab and a real Chromium, used as a learner uses it.

After Run All the panel already shows what later cells sent; typing in Bob's box and pressing Enter
(no button) sends his message through the room, and every inbox shows it with its latency.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from .conftest import JupyterLab
from .notebook_runner import open_and_run_all

pytestmark = pytest.mark.browser

NOTEBOOK = "07_websockets_chat.ipynb"


def test_chat_panel_shows_earlier_messages_and_enter_sends(
    jupyter_lab: JupyterLab, page: Any, output_dir: Path
) -> None:
    from playwright.sync_api import expect

    full_page, panel_shot = output_dir / "notebook.png", output_dir / "07_chat_panel.png"
    started = time.monotonic()

    def phase(name: str) -> None:
        print(f"{time.monotonic() - started:5.1f} s  {name}")

    try:
        open_and_run_all(page, jupyter_lab, NOTEBOOK, phase)

        panel = page.locator(".jp-OutputArea-output .chat-panel")
        expect(panel, "chapter 07 shows exactly one chat panel").to_have_count(1)
        panel.scroll_into_view_if_needed()
        alice_log, carol_log = panel.locator(".chat-log-alice"), panel.locator(".chat-log-carol")
        # Sent by cells below the panel, not through it: the panel must show them after Run All.
        expect(alice_log, "a message sent from a later cell").to_contain_text("g'day from Sydney")
        expect(alice_log).to_contain_text("carol: anyone still here?")
        expect(panel.locator(".chat-status")).to_contain_text("3 client(s) connected")
        phase("the panel shows what later cells sent")

        box = panel.locator(".chat-input-bob input")
        box.fill("typed in the browser")
        box.press("Enter")  # no click on Send
        expect(alice_log, "Enter sends Bob's message to Alice").to_contain_text("bob: typed in the browser")
        expect(carol_log).to_contain_text("bob: typed in the browser")
        expect(panel.locator(".chat-log-bob")).to_contain_text(" ms)")
        expect(box, "the box is cleared once the message is sent").to_have_value("")
        expect(panel.locator(".chat-status")).to_contain_text("in memory")  # the message woke the room
        phase("Enter sent a message to every inbox")

        carol_box = panel.locator(".chat-input-carol input")
        carol_box.fill("and the button")
        panel.locator(".widget-button.chat-send-carol").click()
        expect(alice_log).to_contain_text("carol: and the button")
        phase("the Send button works too")
        panel.screenshot(path=panel_shot)
        print(f"chat panel screenshot: {panel_shot}")
    finally:
        page.screenshot(path=full_page, full_page=True)
        print(f"full-page screenshot: {full_page}")
