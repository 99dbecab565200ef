"""Exercises are real: shipped unsolved, checked helpfully, solved apart, and each check has teeth.

Every chapter runs as shipped in tests/test_notebooks.py (each check prints ✗ and says what is
missing); here it runs again with ``solutions/<chapter>.py`` filled in (each check prints ✓), and
right after each check, every wrong answer listed for it runs and the check must print ✗.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from dolab.view.checks import FAIL, PASS, evaluate, given
from tests.exercises import (
    execute,
    exercise_of,
    is_check,
    is_exercise,
    solutions_of,
    verdicts,
    with_solutions,
)

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CHAPTERS = [p for p in NOTEBOOKS if solutions_of(p) is not None]
# A wrong answer must be rejected by the check's own assertions, not because it crashed.
NOT_A_REJECTION = ("your code raised", "not answered yet", "is not defined")


def test_a_check_says_pass_fail_placeholder_and_crash_apart_and_never_raises() -> None:
    answer = 3
    assert evaluate("t", lambda: None).passed
    assert evaluate("t", lambda: "3 of 3").message == f"{PASS} t: 3 of 3"

    def wrong() -> None:
        assert answer == 4, f"expected 4, got {answer}"

    result = evaluate("ex 1", wrong, hint="add one")
    # (pytest appends its own explanation to an assert's message in test files; a notebook does not)
    assert not result.passed and result.message.startswith(f"{FAIL} ex 1: expected 4, got 3\n")
    assert result.message.endswith("\n  hint: add one")
    assert "replace the `...` placeholder" in evaluate("t", lambda: given(...)).message
    assert "placeholder" in evaluate("t", lambda: (...) + 1).message  # type: ignore[operator]
    assert "run the exercise cell above" in evaluate("t", lambda: undefined_name).message  # type: ignore[name-defined]  # noqa: F821
    crashed = evaluate("t", lambda: {}["missing"])
    assert not crashed.passed and "your code raised KeyError: 'missing'" in crashed.message
    with pytest.raises(KeyboardInterrupt):  # Ctrl-C still stops a check
        evaluate("t", lambda: (_ for _ in ()).throw(KeyboardInterrupt))


def test_every_chapter_with_exercises_has_solutions() -> None:
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        if any(exercise_of(c) is not None for c in nb.cells):
            assert path in CHAPTERS, f"{path.name} has exercises but no solutions/{path.stem}.py"


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_exercises_ship_unsolved_with_a_check_a_solution_and_a_wrong_answer(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    solutions = solutions_of(path)
    assert solutions is not None
    exercises = [exercise_of(c) for c in nb.cells if is_exercise(c)]
    checks = [exercise_of(c) for c in nb.cells if is_check(c)]
    assert exercises, f"{path.name}: no exercise cells (tag 'exercise', metadata dolab.exercise)"
    assert None not in exercises and None not in checks, "every exercise and check cell names its exercise"
    assert len(set(exercises)) == len(exercises), "one exercise cell per exercise"
    assert sorted(set(checks)) == sorted(exercises), "each exercise has a check cell, each check an exercise"
    for cell in nb.cells:
        if is_exercise(cell):
            assert "..." in cell.source, f"exercise {exercise_of(cell)} ships solved: no `...` placeholder"
    assert sorted(solutions.right) == sorted(exercises), "solutions/ answers exactly the chapter's exercises"
    missing = [n for n in exercises if not solutions.wrong.get(n)]
    assert not missing, f"no wrong answer to prove the checks of exercises {missing} can fail"


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_solved_chapter_passes_every_check_and_rejects_every_wrong_answer(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOLAB_QUICK", "1")
    solutions = solutions_of(path)
    assert solutions is not None
    solved, wrong_checks = with_solutions(nbformat.read(path, as_version=4), solutions)
    execute(solved, path)
    copies = {index for _, _, index in wrong_checks}
    for index, cell in enumerate(solved.cells):
        if is_check(cell) and index not in copies:
            lines = verdicts(cell)
            assert lines and all(line.startswith(PASS) for line in lines), (
                f"exercise {exercise_of(cell)} solved, yet its check says: {lines or 'nothing'}")
    for number, why, index in wrong_checks:
        lines = verdicts(solved.cells[index])
        assert lines and any(line.startswith(FAIL) for line in lines), (
            f"exercise {number}: the check accepts a wrong answer ({why}): {lines or 'nothing printed'}")
        reason = " ".join(lines)
        assert not any(s in reason for s in NOT_A_REJECTION), (
            f"exercise {number}: the wrong answer ({why}) crashed instead of being rejected: {reason}")
