"""The cart notebook in a real JupyterLab and a real Chromium, clicked as a learner clicks it.

After Run All the panel shows what the chapter's later cells did (it follows clicks made in code).
Then clicks go browser → kernel → browser: the stateless Worker forgets its count on every
request, the Durable Object keeps it, and an eviction shows "not in memory" until the next click.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import JupyterLab
from .notebook_runner import open_and_run_all, phase_printer, save_images

pytestmark = pytest.mark.browser

NOTEBOOK = "01_stateless_vs_stateful_cart.ipynb"


def test_stateless_cart_forgets_and_durable_object_cart_counts(
    jupyter_lab: JupyterLab, page: Any, output_dir: Path
) -> None:
    from playwright.sync_api import expect

    full_page = output_dir / "notebook.png"
    phase = phase_printer()

    try:
        open_and_run_all(page, jupyter_lab, NOTEBOOK, phase)

        panel = page.locator(".cart-panel").first
        user = panel.locator(".cart-user select")
        count_stateless = panel.locator(".cart-count-stateless")
        count_stateful = panel.locator(".cart-count-stateful")
        memory = panel.locator(".cart-memory-stateful")
        panel.scroll_into_view_if_needed()
        # The chapter's last click in code was Bob's first add: the panel shows it, not a blank cart.
        expect(user, "after Run All the panel follows the cells' clicks").to_have_value("bob")
        expect(count_stateful).to_have_text("1")
        expect(memory).to_contain_text("in memory")
        expect(panel.locator("table.cart-log")).to_contain_text("carol")
        panel.screenshot(path=output_dir / "01_panel_after_run_all.png")
        phase("panel shows the cells' clicks")

        user.select_option("alice")  # nobody clicked as Alice in code: her carts are new
        expect(count_stateful).to_have_text("0")
        expect(memory).to_contain_text("not created yet")
        add_stateless = panel.locator(".widget-button.cart-add-stateless")
        add_stateful = panel.locator(".widget-button.cart-add-stateful")
        newest = panel.locator("table.cart-log tr").nth(1).locator("td").first  # the log's newest click, its #
        clicks = int(newest.inner_text())

        def click(button: Any) -> None:
            # The panel disables its buttons while a click is on its way (its busy state): a learner, and
            # this test, click again once the previous click is in the log.
            nonlocal clicks
            button.click()
            clicks += 1
            expect(newest, f"click #{clicks} answered").to_have_text(str(clicks))

        click(add_stateless)
        expect(count_stateless, "the stateless cart answers 1 to the first click").to_have_text("1")
        click(add_stateless)
        click(add_stateful)
        expect(count_stateful, "first click on Alice's Durable Object cart").to_have_text("1")
        click(add_stateful)
        expect(count_stateful, "the Durable Object cart remembers: 2 after two clicks").to_have_text("2")
        expect(count_stateless, "the stateless cart forgets: still 1 after two clicks").to_have_text("1")
        expect(memory).to_contain_text("● in memory")
        phase("four clicks answered")

        panel.locator(".widget-button.cart-evict").click()
        expect(memory, "an evicted object says so until the next click").to_contain_text("not in memory")
        expect(panel.locator(".cart-status")).to_contain_text("was evicted")
        panel.screenshot(path=output_dir / "01_panel_evicted.png")
        add_stateful.click()
        expect(count_stateful, "storage outlived the eviction").to_have_text("3")
        expect(memory).to_contain_text("● in memory")
        panel.screenshot(path=output_dir / "01_panel.png")
        phase("evicted, then woken by a click with the count kept")

        save_images(page, output_dir, "01")
    finally:
        page.screenshot(path=full_page, full_page=True)
        print(f"full-page screenshot: {full_page}")
