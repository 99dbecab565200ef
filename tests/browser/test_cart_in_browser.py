"""The cart notebook in a real JupyterLab and a real Chromium, clicked as a learner clicks it.

Clicks go browser → kernel → browser: the stateless worker forgets its count on every request,
the Durable Object keeps it.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from .conftest import JupyterLab

pytestmark = pytest.mark.browser

NOTEBOOK = "01_stateless_vs_stateful_cart.ipynb"
RUN_ALL_TIMEOUT = 180_000  # ms, for every cell of the notebook
KERNEL_TIMEOUT = 60_000  # ms, for the kernel to start

# Done when every code cell's prompt reads [n]:; stopped when no cell is queued or running but some
# never ran (Lab stops a Run All at an error). Tracebacks in cells tagged raises-exception are expected.
_PROGRESS = """([expected, mayRaise]) => {
    const cells = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')];
    if (cells.length !== expected) return null;
    for (const [i, cell] of cells.entries()) {
        if (mayRaise.includes(i)) continue;
        for (const out of cell.querySelectorAll('.jp-OutputArea-output')) {
            if (out.textContent.includes('Traceback')) return {state: 'error', cell: i, text: out.textContent};
        }
    }
    const prompts = cells.map(c => c.querySelector('.jp-InputPrompt').textContent.trim());
    if (prompts.every(p => /^\\[\\d+\\]:$/.test(p))) return {state: 'done', prompts};
    if (!prompts.includes('[*]:') && prompts.some(p => /^\\[\\d+\\]:$/.test(p))) {
        const text = [...document.querySelectorAll('.jp-Notebook .jp-OutputArea-output')]
            .map(o => o.textContent).filter(t => /Error|Exception/.test(t)).join('\\n---\\n');
        return {state: 'stopped', prompts, text};
    }
    return null;
}"""


def _code_cells(path: Path) -> tuple[int, list[int]]:
    """How many code cells the notebook has, and the indices of those allowed to raise."""
    nb = json.loads(path.read_text(encoding="utf-8"))  # plain JSON: validating is test_notebooks.py's job
    # Without a kernelspec Lab opens a "Select Kernel" dialog and the test would only time out.
    assert nb["metadata"].get("kernelspec", {}).get("name") == "python3", f"{path.name} needs a python3 kernelspec"
    cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    return len(cells), [i for i, c in enumerate(cells) if "raises-exception" in c.get("metadata", {}).get("tags", [])]


def _menu(page: Any, menu: str, command: str) -> None:
    page.locator(".lm-MenuBar-item", has_text=re.compile(f"^{menu}$")).click()
    page.locator(f".lm-Menu-item[data-command='{command}']").click()


def test_stateless_cart_forgets_and_durable_object_cart_counts(
    jupyter_lab: JupyterLab, page: Any, output_dir: Path
) -> None:
    from playwright.sync_api import expect

    notebook = jupyter_lab.root_dir / NOTEBOOK
    assert notebook.exists(), f"{NOTEBOOK} is missing from the notebooks folder"
    expected_cells, may_raise = _code_cells(notebook)
    full_page, panel_shot = output_dir / "notebook.png", output_dir / "cart-panel.png"
    started = time.monotonic()

    def phase(name: str) -> None:
        print(f"{time.monotonic() - started:5.1f} s  {name}")

    try:
        page.goto(jupyter_lab.url(f"lab/tree/{NOTEBOOK}?reset"))
        # The status-bar item, not the toolbar dot: that one says idle before any kernel exists.
        kernel = page.locator(".jp-StatusBar-TextItem[title^='Change kernel']")
        expect(kernel).to_have_text(re.compile(r"\|\s*Idle$"), timeout=KERNEL_TIMEOUT)
        phase("kernel idle")

        _menu(page, "Edit", "editmenu:clear-all")
        _menu(page, "Run", "runmenu:run-all")
        progress = page.wait_for_function(_PROGRESS, arg=[expected_cells, may_raise], timeout=RUN_ALL_TIMEOUT)
        result = progress.json_value()
        if result["state"] == "error":
            pytest.fail(f"code cell {result['cell']} raised in the browser:\n{result['text']}")
        if result["state"] == "stopped":
            pytest.fail(f"Run All stopped before the end; prompts {result['prompts']}\n{result['text']}")
        phase(f"Run All done: {expected_cells} code cells")

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
