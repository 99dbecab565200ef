"""Chapters, their exercises and their solutions, as the notebook tests read them.

An exercise cell carries ``{"dolab": {"exercise": "N"}}`` in its metadata and the tag
``exercise``; the check cell that tests it carries the same ``exercise`` number and the tag
``check``. ``solutions/<chapter>.py`` holds, for each exercise, a section ``# %% exercise N``
(a right answer, which replaces the exercise cell) and one or more sections
``# %% exercise N wrong: why`` (plausible wrong answers the check must reject).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
_SECTION = re.compile(r"^# %% exercise (\w+)(?: wrong: (.+))?$")


@dataclass
class Solutions:
    right: dict[str, str] = field(default_factory=dict)
    wrong: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


def solutions_of(notebook: Path) -> Solutions | None:
    """The parsed ``solutions/<stem>.py`` of a chapter, or None if it has none."""
    path = SOLUTIONS / f"{notebook.stem}.py"
    if not path.exists():
        return None
    found = Solutions()
    current: tuple[str, str | None] | None = None
    lines: list[str] = []

    def flush() -> None:
        if current is None:
            return
        source = "\n".join(lines).strip("\n") + "\n"
        number, why = current
        if why is None:
            assert number not in found.right, f"{path.name}: two right answers for exercise {number}"
            found.right[number] = source
        else:
            found.wrong.setdefault(number, []).append((why, source))

    for line in path.read_text(encoding="utf-8").splitlines():
        match = _SECTION.match(line)
        if match:
            flush()
            current, lines = (match.group(1), match.group(2)), []
        elif current is not None:
            lines.append(line)
    flush()
    return found


def exercise_of(cell: Any) -> str | None:
    number = cell.get("metadata", {}).get("dolab", {}).get("exercise")
    return None if number is None else str(number)


def is_check(cell: Any) -> bool:
    return cell.cell_type == "code" and "check" in cell.metadata.get("tags", [])


def is_exercise(cell: Any) -> bool:
    return cell.cell_type == "code" and "exercise" in cell.metadata.get("tags", [])


def execute(nb: Any, path: Path, timeout: int = 300) -> Any:
    """Run every cell of ``nb`` in a fresh kernel in the chapter's folder; an error fails the test."""
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    return nb


def printed(cell: Any) -> str:
    """Everything a cell printed or displayed as text."""
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output.get("text", ""))
        elif "data" in output and "text/plain" in output["data"]:
            parts.append(output["data"]["text/plain"])
    return "".join(parts)


def verdicts(cell: Any) -> list[str]:
    """The ✓/✗ lines a check cell printed."""
    return [line for line in printed(cell).splitlines() if line.startswith(("✓", "✗"))]


def with_solutions(nb: Any, solutions: Solutions) -> tuple[Any, list[tuple[str, str, int]]]:
    """A copy of ``nb`` with every exercise solved and, right after each check, each wrong answer
    followed by a copy of the check and then the right answer again (so the chapter goes on from
    a solved state). Returns the notebook and, for each copied check, (exercise, why, cell index).
    """
    original = nbformat.reads(nbformat.writes(nb), as_version=4)
    cells: list[Any] = []
    wrong_checks = []
    for cell in original.cells:
        number = exercise_of(cell)
        if number is not None and is_exercise(cell):
            cell.source = solutions.right[number]
        cells.append(cell)
        if number is not None and is_check(cell):
            for why, source in solutions.wrong.get(number, []):
                cells.append(nbformat.v4.new_code_cell(source))
                cells.append(nbformat.v4.new_code_cell(cell.source))
                wrong_checks.append((number, why, len(cells) - 1))
                cells.append(nbformat.v4.new_code_cell(solutions.right[number]))
    original.cells = cells
    return original, wrong_checks
