"""Chapter 11's editors panel in a real JupyterLab and a real Chromium, used as a learner uses it.

After Run All the first panel (the ordered document) shows what later cells typed, and a column for
Dave, who joined from a cell. Typing in Bob's box and pressing Enter shows his phrase on his screen at
once and on the others' only after **Let 1 s pass**; going offline and coming back is one button.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from .conftest import JupyterLab
from .notebook_runner import open_and_run_all

pytestmark = pytest.mark.browser

NOTEBOOK = "11_collaborative_document.ipynb"


def test_editors_panel_types_merges_and_goes_offline(jupyter_lab: JupyterLab, page: Any, output_dir: Path) -> None:
    from playwright.sync_api import expect

    full_page, panel_shot = output_dir / "notebook.png", output_dir / "11_collab_panel.png"
    started = time.monotonic()

    def phase(name: str) -> None:
        print(f"{time.monotonic() - started:5.1f} s  {name}")

    try:
        open_and_run_all(page, jupyter_lab, NOTEBOOK, phase)

        panels = page.locator(".jp-OutputArea-output .collab-panel")
        expect(panels, "chapter 11 shows two panels: ordered and CRDT").to_have_count(2)
        panel = panels.first
        panel.scroll_into_view_if_needed()
        alice, bob = panel.locator(".collab-text-alice"), panel.locator(".collab-text-bob")
        expect(alice, "typed by a later cell").to_contain_text("point 39.")
        expect(alice, "timed by a later cell").to_contain_text("saw “Budget. ” from bob after")
        expect(panel.locator(".collab-text-dave"), "Dave joined from a cell: a column for him").to_contain_text(
            "point 39.")
        phase("the panel shows what later cells did")

        box = panel.locator(".collab-input-bob input")
        box.fill("typed in the browser")
        box.press("Enter")
        expect(bob, "Bob sees his own typing at once").to_contain_text("typed in the browser")
        expect(box).to_have_value("")
        expect(alice, "no lab time has passed: Alice has not seen it yet").not_to_contain_text("typed in the browser")
        expect(panel.locator(".collab-status")).to_contain_text("the screens differ")
        panel.locator(".widget-button.collab-settle").click()
        expect(alice, "after a second of lab time it reached Alice").to_contain_text("typed in the browser")
        expect(panel.locator(".collab-status")).to_contain_text("every screen shows the same text")
        phase("Enter typed, and a second of lab time carried it")

        panel.locator(".widget-button.collab-offline-carol").click()
        expect(panel.locator(".widget-button.collab-offline-carol")).to_have_text("Come back")
        panel.locator(".collab-input-carol input").fill("from the tunnel")
        panel.locator(".widget-button.collab-type-carol").click()
        panel.locator(".widget-button.collab-settle").click()
        expect(alice, "Carol is offline: nothing reaches Alice").not_to_contain_text("from the tunnel")
        panel.locator(".widget-button.collab-offline-carol").click()
        expect(alice, "back online, Carol's edit merges").to_contain_text("from the tunnel")
        expect(panel.locator(".collab-status")).to_contain_text("every screen shows the same text")
        phase("offline and back")
        panel.screenshot(path=panel_shot)
        print(f"panel screenshot: {panel_shot}")
    finally:
        page.screenshot(path=full_page, full_page=True)
        print(f"full-page screenshot: {full_page}")
