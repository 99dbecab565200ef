"""Chapter 09 in a real JupyterLab and a real Chromium: Run All draws its two charts, shows its tables,
every shipped exercise's check says ✗ with what is missing, and its dollar amounts are not typeset as TeX.

Screenshots of each chart and table go to ``test-output/browser/<test>/`` for a person to look at.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from .conftest import JupyterLab
from .notebook_runner import open_and_run_all

pytestmark = pytest.mark.browser

NOTEBOOK = "09_storage.ipynb"

# Each chart once the browser has decoded it: its natural size and the size Lab shows it at.
_CHARTS = """() => [...document.querySelectorAll('.jp-Notebook .jp-RenderedImage img')].map(img => {
    const shown = img.getBoundingClientRect();
    return img.complete && img.naturalWidth > 0
        ? {natural: [img.naturalWidth, img.naturalHeight], shown: [Math.round(shown.width), Math.round(shown.height)]}
        : null;
})"""


def test_storage_chapter_draws_its_charts_and_tables(jupyter_lab: JupyterLab, page: Any, output_dir: Path) -> None:
    from playwright.sync_api import expect

    started = time.monotonic()

    def phase(name: str) -> None:
        print(f"{time.monotonic() - started:5.1f} s  {name}")

    full_page = output_dir / "notebook.png"
    try:
        open_and_run_all(page, jupyter_lab, NOTEBOOK, phase)
        images = page.locator(".jp-Notebook .jp-RenderedImage img")
        expect(images, "the lifecycle timeline and the bill").to_have_count(2)
        charts = page.wait_for_function(f"(() => {{ const c = ({_CHARTS})(); return c.every(x => x) ? c : null; }})")
        sizes = charts.json_value()
        for size in sizes:
            assert size["shown"][0] >= 0.6 * size["natural"][0], f"a chart is drawn much smaller than it is: {size}"
        phase(f"charts decoded: {sizes}")
        for i, name in enumerate(["09_lifecycle.png", "09_bill.png"]):
            images.nth(i).scroll_into_view_if_needed()
            images.nth(i).screenshot(path=output_dir / name)
        tables = page.locator(".jp-Notebook .jp-RenderedHTMLCommon table.dataframe")
        expect(tables, "the bill as a table").to_have_count(1)
        expect(tables.first).to_contain_text("with an index on at")
        tables.first.scroll_into_view_if_needed()
        tables.first.screenshot(path=output_dir / "09_bill_table.png")
        verdicts = page.locator(".jp-OutputArea-output", has_text="Exercise")
        for number in ("1", "2", "3"):
            line = verdicts.filter(has_text=f"✗ Exercise {number} ·")
            expect(line, f"exercise {number} ships unsolved: its check says ✗").to_have_count(1)
            line.scroll_into_view_if_needed()
            line.screenshot(path=output_dir / f"09_check_{number}.png")
        # A pair of "$" in one paragraph is typeset as TeX by Lab: the chapter's money must read as money.
        expect(page.locator(".jp-Notebook mjx-container"), "no prose typeset as math").to_have_count(0)
        expect(page.locator(".jp-Notebook .jp-MarkdownOutput", has_text="some $623 beyond")).to_have_count(1)
        phase("tables and checks shown")
    finally:
        page.screenshot(path=full_page, full_page=True)
        print(f"full-page screenshot: {full_page}")
