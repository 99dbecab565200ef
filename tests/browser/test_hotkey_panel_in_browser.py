"""Chapter 05 in a real JupyterLab and a real Chromium: Run All draws its charts, its progress lines end
"done" (no bar frozen at 0 %), each shipped exercise's check says ✗, and the Zipf slider, moved with the
keyboard as a learner moves it, says it is busy at once and then redraws.

Screenshots of each chart, the panel before and after, and each check go to ``test-output/browser/<test>/``.
The times printed are wall-clock times in the browser; bench/bench_hotkey.py holds the goals.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from .conftest import JupyterLab
from .notebook_runner import open_and_run_all

pytestmark = pytest.mark.browser

NOTEBOOK = "05_scaling_thousands_of_objects.ipynb"
CHARTS = ["05_scaling", "05_queues", "05_hot_keys", "05_lifecycle", "05_cannot_hibernate", "05_costs"]


def test_scaling_chapter_and_its_zipf_slider(jupyter_lab: JupyterLab, page: Any, output_dir: Path) -> None:
    from playwright.sync_api import expect

    started = time.monotonic()

    def phase(name: str) -> None:
        print(f"{time.monotonic() - started:5.1f} s  {name}")

    page.set_viewport_size({"width": 1400, "height": 1200})
    try:
        open_and_run_all(page, jupyter_lab, NOTEBOOK, phase)
        images = page.locator(".jp-Notebook .jp-RenderedImage img")
        expect(images, "the chapter's charts (the slider's chart is a widget, not counted)").to_have_count(len(CHARTS))
        for i, name in enumerate(CHARTS):
            images.nth(i).scroll_into_view_if_needed()
            images.nth(i).screenshot(path=output_dir / f"{name}.png")
        progress = page.locator(".jp-OutputArea-output", has_text="scale sweep:")
        expect(progress, "the sweep's progress line ends saying it is done").to_contain_text("scale sweep: done")
        expect(page.locator(".jp-OutputArea-output", has_text="0%|"), "no tqdm bar frozen at 0 %").to_have_count(0)
        for number in ("1", "2", "3"):
            line = page.locator(".jp-OutputArea-output", has_text=f"✗ Exercise {number} ·")
            expect(line, f"exercise {number} ships unsolved: its check says ✗").to_have_count(1)
            line.scroll_into_view_if_needed()
            line.screenshot(path=output_dir / f"05_check_{number}.png")
        expect(page.locator(".jp-Notebook mjx-container"), "no prose typeset as math").to_have_count(0)
        phase("charts, progress lines and checks looked at")

        panel = page.locator(".jp-OutputArea-output .hot-key-panel")
        expect(panel, "chapter 05 shows exactly one Zipf slider").to_have_count(1)
        panel.scroll_into_view_if_needed()
        summary, status = panel.locator(".hot-key-summary"), panel.locator(".hot-key-status")
        expect(summary).to_contain_text("zipf 1.5: the busiest user sends")
        panel.screenshot(path=output_dir / "05_zipf_before.png")

        panel.locator(".noUi-handle").focus()
        moved = time.monotonic()
        page.keyboard.press("ArrowRight")  # one step: 1.5 → 1.75
        expect(status).to_contain_text("running zipf 1.75", timeout=2_000)
        busy = time.monotonic() - moved
        expect(summary).to_contain_text("zipf 1.75: the busiest user sends", timeout=10_000)
        done = time.monotonic() - moved
        expect(status).to_contain_text("simulated seconds")
        phase(f"slider 1.5 → 1.75: busy shown after {busy:.2f} s, redrawn after {done:.2f} s")
        assert busy < 1.0, f"the panel said it was busy only after {busy:.2f} s"
        panel.screenshot(path=output_dir / "05_zipf_after.png")
    finally:
        page.screenshot(path=output_dir / "notebook.png", full_page=True)
