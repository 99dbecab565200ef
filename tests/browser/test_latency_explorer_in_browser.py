"""Chapter 04 in a real JupyterLab and a real Chromium: its charts, its tables, its checks, and the latency
explorer changed as a learner changes it.

Choices go browser → kernel → browser: moving the database next to the Sydney users makes the external
database's p50 collapse in the summary table, picking another design redraws the waterfall, and ticking
"new users" makes the object's p99 pay the first-use check. Every chart, the cost table (which must fit
the page) and each shipped exercise's ✗ are screenshot to ``test-output/browser/<test>/``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from .conftest import JupyterLab
from .notebook_runner import open_and_run_all

pytestmark = pytest.mark.browser

NOTEBOOK = "04_latency_external_db_vs_colocated.ipynb"
DESIGNS = ["external-db", "cached-db", "do-per-user"]
SYDNEY = "Australia East (australiaeast)"  # the <option>'s value is the Python option's label
# Taller than conftest's 1000 px: the explorer with the external-db waterfall is ~900 px high, and a
# screenshot of an element taller than Lab's notebook area shows Lab's toolbars over its ends.
VIEWPORT = {"width": 1400, "height": 1400}

# The summary table as {design: [p50, p95, p99]}; null until the HTML widget holds one.
_TABLE = """(explorer) => {
    const table = explorer.querySelector('table.latency-table');
    if (!table) return null;
    const rows = [...table.querySelectorAll('tr')].slice(1).map(tr => [...tr.cells].map(c => c.textContent.trim()));
    return Object.fromEntries(rows.map(([design, ...ms]) => [design, ms.map(Number)]));
}"""

# The waterfall's src once the browser has decoded it, and not while it still shows ``old``.
_WATERFALL = """([explorer, old]) => {
    const img = explorer.querySelector('img');
    if (!img || !img.src || img.src === old || !img.complete || img.naturalWidth === 0) return null;
    const shown = img.getBoundingClientRect();
    return {src: img.src, size: `${img.naturalWidth}×${img.naturalHeight}`,
            shown: `${Math.round(shown.width)}×${Math.round(shown.height)}`};
}"""

# The external database's p50, once it is below ``limit``.
_P50_BELOW = """([explorer, limit]) => {
    const row = [...explorer.querySelectorAll('table.latency-table tr')]
        .find(tr => tr.cells[0] && tr.cells[0].textContent.trim() === 'external-db');
    const p50 = row ? Number(row.cells[1].textContent) : NaN;
    return p50 < limit ? p50 : null;
}"""


# The object's p99, once it is above ``limit``.
_DO_P99_ABOVE = """([explorer, limit]) => {
    const row = [...explorer.querySelectorAll('table.latency-table tr')]
        .find(tr => tr.cells[0] && tr.cells[0].textContent.trim() === 'do-per-user');
    const p99 = row ? Number(row.cells[3].textContent.replace(/,/g, '')) : NaN;
    return p99 > limit ? p99 : null;
}"""

CHARTS = ["04_percentiles", "04_waterfalls", "04_first_click", "04_map_database", "04_map_objects"]


def _look_at_the_chapter(page: Any, output_dir: Path, phase: Any) -> None:
    """Screenshot every chart, the cost table and each check; the cost table must fit its output area."""
    from playwright.sync_api import expect

    images = page.locator(".jp-Notebook .jp-RenderedImage img")
    expect(images, "the chapter's charts (the explorer's waterfall is a widget, not counted)").to_have_count(
        len(CHARTS))
    for i, name in enumerate(CHARTS):
        images.nth(i).scroll_into_view_if_needed()
        images.nth(i).screenshot(path=output_dir / f"{name}.png")
    costs = page.locator(".jp-Notebook table.dataframe", has_text="Workers Paid minimum")
    expect(costs).to_have_count(1)
    costs.scroll_into_view_if_needed()
    fits = costs.evaluate("""t => {
        const area = t.closest('.jp-OutputArea-output');
        return {table: Math.round(t.getBoundingClientRect().width), area: Math.round(area.clientWidth)};
    }""")
    assert fits["table"] <= fits["area"], f"the cost table overflows its output area: {fits}"
    costs.screenshot(path=output_dir / "04_cost_table.png")
    for number in ("1", "2", "3"):
        line = page.locator(".jp-OutputArea-output", has_text=f"✗ Exercise {number} ·")
        expect(line, f"exercise {number} ships unsolved: its check says ✗").to_have_count(1)
        line.scroll_into_view_if_needed()
        line.screenshot(path=output_dir / f"04_check_{number}.png")
    expect(page.locator(".jp-Notebook mjx-container"), "no prose typeset as math").to_have_count(0)
    phase(f"charts, cost table ({fits}) and checks screenshot")


def test_latency_explorer_moves_the_database_and_redraws_the_waterfall(
    jupyter_lab: JupyterLab, page: Any, output_dir: Path
) -> None:
    from playwright.sync_api import expect

    full_page = output_dir / "notebook.png"
    before_shot, after_shot = output_dir / "04_explorer_before.png", output_dir / "04_explorer_after.png"
    started = time.monotonic()

    def phase(name: str) -> None:
        print(f"{time.monotonic() - started:5.1f} s  {name}")

    page.set_viewport_size(VIEWPORT)
    try:
        open_and_run_all(page, jupyter_lab, NOTEBOOK, phase)

        explorer = page.locator(".jp-OutputArea-output .latency-explorer")
        expect(explorer, "chapter 04 shows exactly one latency explorer").to_have_count(1)
        explorer.scroll_into_view_if_needed()
        summary = explorer.locator(".explorer-summary")
        expect(summary).to_contain_text("3 round trips australiaeast ⇄ eastus cannot take less than")
        handle = explorer.element_handle()
        first = page.wait_for_function(_WATERFALL, arg=[handle, ""]).json_value()

        before = explorer.evaluate(_TABLE)
        assert before is not None and list(before) == DESIGNS, f"the table's rows are the three designs: {before}"
        for design, (p50, p95, p99) in before.items():
            assert 0 < p50 <= p95 <= p99, f"{design}: p50 ≤ p95 ≤ p99 in ms, got {before[design]}"
        db_p50, do_p50 = before["external-db"][0], before["do-per-user"][0]
        assert db_p50 > 5 * do_p50, f"Sydney users, database in Virginia: external-db p50 {db_p50} vs DO {do_p50}"
        expect(explorer.locator(".widget-toggle-button.mod-active")).to_have_text("external-db")
        phase(f"explorer rendered: {before}, waterfall {first['size']} shown {first['shown']}")
        explorer.screenshot(path=before_shot)
        print(f"explorer before: {before_shot}")

        database = explorer.get_by_label("Database in")
        database.select_option(value=SYDNEY)
        p50 = page.wait_for_function(_P50_BELOW, arg=[handle, db_p50 / 5]).json_value()
        expect(summary).to_contain_text("the database is in the user's region (australiaeast)")
        moved = page.wait_for_function(_WATERFALL, arg=[handle, first["src"]]).json_value()
        phase(f"database in Sydney: external-db p50 {db_p50:.0f} → {p50:.0f} ms; waterfall redrawn")

        explorer.locator(".widget-toggle-button", has_text="do-per-user").click()
        expect(explorer.locator(".widget-toggle-button.mod-active")).to_have_text("do-per-user")
        final = page.wait_for_function(_WATERFALL, arg=[handle, moved["src"]]).json_value()
        after = explorer.evaluate(_TABLE)
        assert after is not None and after["external-db"][0] == p50, "choosing a design leaves the table alone"
        assert after["do-per-user"][0] < 100, f"the object is in Sydney with its user: {after}"
        phase(f"do-per-user drawn: {after}, waterfall {final['size']} shown {final['shown']}")

        explorer.screenshot(path=after_shot)
        print(f"explorer after: {after_shot}")

        explorer.get_by_text("new users: each one's first click").click()
        page.wait_for_function(_DO_P99_ABOVE, arg=[handle, 150])
        expect(explorer.locator(".explorer-status")).to_contain_text("new users in australiaeast")
        explorer.screenshot(path=output_dir / "04_explorer_new_users.png")
        phase("new users: the object's p99 pays the uniqueness check")

        _look_at_the_chapter(page, output_dir, phase)
    finally:
        page.screenshot(path=full_page, full_page=True)
        print(f"full-page screenshot: {full_page}")
