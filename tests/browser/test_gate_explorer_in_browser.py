"""Chapter 02's gate explorer in a real JupyterLab and a real Chromium: predict, then run, then read the lanes.

After Run All the explorer shows the run the chapter's cell made. A switch clears the prediction and
asks for a new one; Run refuses without it; with ``allowConcurrency`` the cart loses items and the
timeline is redrawn; with a failing write the reply is dropped and the prediction of 11 is right.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from .conftest import JupyterLab
from .notebook_runner import open_and_run_all, phase_printer, save_images

pytestmark = pytest.mark.browser

NOTEBOOK = "02_concurrency_and_consistency.ipynb"
VIEWPORT = {"width": 1400, "height": 1400}  # the explorer with its timeline is ~1000 px high

# The timeline's src once the browser has decoded it, and not while it still shows ``old``.
_TIMELINE = """([explorer, old]) => {
    const img = explorer.querySelector('.gate-timeline');
    if (!img || !img.src || img.src === old || !img.complete || img.naturalWidth === 0) return null;
    return {src: img.src, size: `${img.naturalWidth}×${img.naturalHeight}`};
}"""


def test_gate_explorer_predict_then_run(jupyter_lab: JupyterLab, page: Any, output_dir: Path) -> None:
    from playwright.sync_api import expect

    full_page = output_dir / "notebook.png"
    phase = phase_printer()

    page.set_viewport_size(VIEWPORT)
    try:
        open_and_run_all(page, jupyter_lab, NOTEBOOK, phase)

        explorer = page.locator(".jp-OutputArea-output .gate-explorer")
        expect(explorer, "chapter 02 shows exactly one gate explorer").to_have_count(1)
        explorer.scroll_into_view_if_needed()
        result = explorer.locator(".gate-result")
        prediction = explorer.locator(".gate-prediction input")
        run = explorer.locator(".widget-button.gate-run")
        handle = explorer.element_handle()
        # The cell after the explorer predicted 12 and ran it: the panel shows that run.
        expect(result).to_contain_text("you predicted 12; the cart holds 12 after 12 adds")
        first = page.wait_for_function(_TIMELINE, arg=[handle, ""]).json_value()
        explorer.screenshot(path=output_dir / "02_explorer_after_run_all.png")
        phase(f"explorer shows the chapter's run, timeline {first['size']}")

        explorer.locator(".gate-allow-concurrency").click()
        expect(prediction, "a new switch asks for a new prediction").to_have_value("")
        expect(result).to_contain_text("Settings changed")
        run.click()
        expect(result, "Run refuses without a prediction").to_contain_text("Predict first")
        prediction.fill("12")
        prediction.press("Enter")
        run.click()
        expect(result).to_contain_text("✗ not quite")
        kept = int(re.search(r"the cart holds (\d+)", result.inner_text()).group(1))  # type: ignore[union-attr]
        assert kept < 12, f"with allowConcurrency the adds overwrite each other: {result.inner_text()}"
        racy = page.wait_for_function(_TIMELINE, arg=[handle, first["src"]]).json_value()
        expect(run).to_have_text("Run")  # no longer busy
        explorer.screenshot(path=output_dir / "02_explorer_allow_concurrency.png")
        phase(f"allowConcurrency: {kept} of 12 kept, timeline redrawn")

        explorer.locator(".gate-allow-concurrency").click()
        explorer.locator(".gate-fail-write").click()
        prediction.fill("11")
        prediction.press("Enter")
        run.click()
        expect(result).to_contain_text("✓ right")
        expect(result).to_contain_text("got 1 error(s)")
        page.wait_for_function(_TIMELINE, arg=[handle, racy["src"]])
        explorer.screenshot(path=output_dir / "02_explorer_failed_write.png")
        phase("a failed write: 11 kept, the reply dropped, prediction right")

        save_images(page, output_dir, "02")
    finally:
        page.screenshot(path=full_page, full_page=True)
        print(f"full-page screenshot: {full_page}")
