"""Every notebook runs top to bottom in a real kernel, follows the house rhythm, and is committed without outputs."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import nbformat
import pytest

from tests.exercises import execute, exercise_of, is_check, solutions_of, verdicts

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


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
    assert solutions_of(path) is not None, f"solutions/{path.stem}.py: every chapter's exercises are solved apart"
    text = "\n".join(sources)
    assert "<details>" in text[text.index("## Questionnaire"):], "questionnaire answers in <details> blocks"
    assert any(s.startswith("## Where dolab differs") for s in sources), "a 'Where dolab differs' section"
    assert "https://developers.cloudflare.com/" in text, "links to Cloudflare's docs"
    assert any(s.startswith("## Take it to production") for s in sources), "a 'Take it to production' section"


def _staged(path: Path) -> str | None:
    """The notebook as git stores it for the next commit (the index; in a fresh clone, HEAD), or None."""
    try:
        top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=ROOT, capture_output=True, text=True)
    except FileNotFoundError:
        return None
    if top.returncode:
        return None
    relative = path.resolve().relative_to(Path(top.stdout.strip()).resolve()).as_posix()
    blob = subprocess.run(["git", "show", f":{relative}"], cwd=ROOT, capture_output=True, text=True)
    return blob.stdout if blob.returncode == 0 else None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_committed_notebook_has_no_outputs(path: Path) -> None:
    """What git stores carries no outputs, whatever the working copy holds after an hour in the lab.

    The working copy may keep outputs: nbstripout, the git filter that dev.py registers (.gitattributes),
    strips them whenever git stores a notebook. This test reads git's copy, the index, which is what the next
    commit will hold and, in CI's fresh clone, exactly what was committed; so it also catches a notebook
    committed where the filter was not set up.
    """
    stored = _staged(path)
    if stored is None:
        reason = f"{path.name} is not in git (no git checkout, or not added yet): nothing committed to check"
        if os.environ.get("CI"):
            pytest.fail(reason + " (CI runs in a git clone: see .ci/run)")
        pytest.skip(reason)
    nb = json.loads(stored)
    dirty = [i for i, cell in enumerate(nb["cells"])
             if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)]
    assert not dirty, (
        f"{path.name} is committed with outputs in cells {dirty}. Run `python3 dev.py test` once (it registers "
        f"the nbstripout git filter), then `git add --renormalize {path.relative_to(ROOT).as_posix()}` and commit."
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_executes(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run All as a learner opening the chapter would: no cell fails, and every check of an
    exercise shipped unsolved says ✗ with what is missing (tests/test_exercises.py solves them)."""
    # Chapter 05 sweeps up to 30,000 users instead of 100,000 here: same code, smaller numbers.
    monkeypatch.setenv("DOLAB_QUICK", "1")
    nb = nbformat.read(path, as_version=4)
    # Only cells tagged raises-exception may raise; nbclient enforces that by default.
    execute(nb, path)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", f"cell failed: {cell.source[:80]}"
        if is_check(cell) and exercise_of(cell) is not None:
            lines = verdicts(cell)
            assert lines and all(line.startswith("✗") for line in lines), (
                f"exercise {exercise_of(cell)} ships unsolved, yet its check says: {lines or 'nothing'}")


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
