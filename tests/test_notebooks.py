"""Every notebook runs top to bottom in a real kernel, and follows the house rhythm."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, "notebooks/ holds no notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_structure(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name), "name must be NN_slug.ipynb"
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), "first cell is the title"
    assert "You will learn" in first.source, "the title cell lists what you will learn"
    sources = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert any(s.startswith("## Exercises") for s in sources), "an Exercises section"
    assert any(s.startswith("## Questionnaire") for s in sources), "a Questionnaire section"
    checks = [c for c in nb.cells if c.cell_type == "code" and "check" in c.metadata.get("tags", [])]
    assert checks, "at least one check cell (tagged 'check')"
    assert all("assert" in c.source for c in checks), "check cells assert real outcomes"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, "commit notebooks without outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_executes(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Chapter 05 sweeps up to 30,000 users instead of 100,000 here: same code, smaller numbers.
    monkeypatch.setenv("DOLAB_QUICK", "1")
    nb = nbformat.read(path, as_version=4)
    # Only cells tagged raises-exception may raise; nbclient enforces that by default.
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", f"cell failed: {cell.source[:80]}"


def test_navigation_is_generated_and_up_to_date() -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, "dev.py", "nav", "--check"], cwd=root, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr + "\nrun: python3 dev.py nav"
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        assert "nav" in nb.cells[1].metadata.get("tags", []), f"{path.name}: no navigation after the title"
        assert "nav" in nb.cells[-1].metadata.get("tags", []), f"{path.name}: no navigation at the end"
        nbformat.validate(nb)
