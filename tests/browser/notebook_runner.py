"""Driving a notebook in JupyterLab as a learner does: open it, wait for its kernel, Run All, wait for the end.

Shared by the browser tests; the fixtures (Lab, Chromium, a tab, the output folder) are in ``conftest.py``.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .conftest import JupyterLab

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


def code_cells(path: Path) -> tuple[int, list[int]]:
    """How many code cells the notebook has, and the indices of those allowed to raise."""
    nb = json.loads(path.read_text(encoding="utf-8"))  # plain JSON: validating is test_notebooks.py's job
    # Without a kernelspec Lab opens a "Select Kernel" dialog and the test would only time out.
    assert nb["metadata"].get("kernelspec", {}).get("name") == "python3", f"{path.name} needs a python3 kernelspec"
    cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    return len(cells), [i for i, c in enumerate(cells) if "raises-exception" in c.get("metadata", {}).get("tags", [])]


def menu(page: Any, menu: str, command: str) -> None:
    """Click ``menu`` in Lab's menu bar, then the item that runs ``command``."""
    page.locator(".lm-MenuBar-item", has_text=re.compile(f"^{menu}$")).click()
    page.locator(f".lm-Menu-item[data-command='{command}']").click()


def open_and_run_all(page: Any, lab: JupyterLab, name: str, phase: Callable[[str], None]) -> None:
    """Open ``name``, wait for its kernel, clear outputs, Run All; fail with the traceback if a cell raises."""
    from playwright.sync_api import expect

    notebook = lab.root_dir / name
    assert notebook.exists(), f"{name} is missing from the notebooks folder"
    expected_cells, may_raise = code_cells(notebook)
    page.goto(lab.url(f"lab/tree/{name}?reset"))
    # The status-bar item, not the toolbar dot: that one says idle before any kernel exists.
    kernel = page.locator(".jp-StatusBar-TextItem[title^='Change kernel']")
    expect(kernel).to_have_text(re.compile(r"\|\s*Idle$"), timeout=KERNEL_TIMEOUT)
    phase("kernel idle")

    menu(page, "Edit", "editmenu:clear-all")
    menu(page, "Run", "runmenu:run-all")
    progress = page.wait_for_function(_PROGRESS, arg=[expected_cells, may_raise], timeout=RUN_ALL_TIMEOUT)
    result = progress.json_value()
    if result["state"] == "error":
        pytest.fail(f"code cell {result['cell']} raised in the browser:\n{result['text']}")
    if result["state"] == "stopped":
        pytest.fail(f"Run All stopped before the end; prompts {result['prompts']}\n{result['text']}")
    phase(f"Run All done: {expected_cells} code cells")


def phase_printer() -> Callable[[str], None]:
    """``phase("what happened")`` prints it with the seconds since the test started."""
    started = time.monotonic()

    def phase(name: str) -> None:
        print(f"{time.monotonic() - started:5.1f} s  {name}")

    return phase


def save_images(page: Any, folder: Path, prefix: str) -> int:
    """A screenshot of every image in the notebook's outputs (charts, image widgets), for a person to look at.

    Lab draws only the cells near the viewport, so each image is scrolled into view first."""
    images = page.locator(".jp-OutputArea-output img")
    for i in range(images.count()):
        images.nth(i).scroll_into_view_if_needed()
        images.nth(i).screenshot(path=folder / f"{prefix}_image_{i}.png")
    print(f"{images.count()} image screenshots in {folder}")
    return int(images.count())
