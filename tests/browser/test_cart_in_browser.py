"""The cart notebook in a real JupyterLab and a real Chromium, clicked as a learner clicks it.

Clicks go browser → kernel → browser: the stateless worker forgets its count on every request,
the Durable Object keeps it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from .conftest import JupyterLab
from .notebook_runner import open_and_run_all

pytestmark = pytest.mark.browser

NOTEBOOK = "01_stateless_vs_stateful_cart.ipynb"


def test_stateless_cart_forgets_and_durable_object_cart_counts(
    jupyter_lab: JupyterLab, page: Any, output_dir: Path
) -> None:
    from playwright.sync_api import expect

    full_page, panel_shot = output_dir / "notebook.png", output_dir / "cart-panel.png"
    started = time.monotonic()

    def phase(name: str) -> None:
        print(f"{time.monotonic() - started:5.1f} s  {name}")

    try:
        open_and_run_all(page, jupyter_lab, NOTEBOOK, phase)

        panel = page.locator(".cart-panel").first
        add_stateless = panel.locator(".widget-button.cart-add-stateless")
        add_stateful = panel.locator(".widget-button.cart-add-stateful")
        count_stateless = panel.locator(".cart-count-stateless")
        count_stateful = panel.locator(".cart-count-stateful")
        panel.scroll_into_view_if_needed()
        expect(count_stateful).to_have_text("0")

        add_stateless.click()
        expect(count_stateless, "the stateless cart answers 1 to the first click").to_have_text("1")
        add_stateless.click()
        fresh = "the panel user's Durable Object cart must be empty after Run All (did a later cell add to it?)"
        add_stateful.click()
        expect(count_stateful, f"first click on the Durable Object cart: {fresh}").to_have_text("1")
        add_stateful.click()
        expect(count_stateful, "the Durable Object cart remembers: 2 after two clicks").to_have_text("2")
        # The kernel handles clicks in order, so the second stateless click has been answered by now.
        expect(count_stateless, "the stateless cart forgets: still 1 after two clicks").to_have_text("1")
        phase("four clicks answered")

        panel.screenshot(path=panel_shot)
        print(f"cart panel screenshot: {panel_shot}")
    finally:
        page.screenshot(path=full_page, full_page=True)
        print(f"full-page screenshot: {full_page}")
