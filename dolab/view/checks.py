"""Exercise checks: run a learner's answer through a test and say ✓ or ✗, never raise.

A chapter's check cell calls :func:`check` with a function of plain ``assert`` statements::

    def test():
        given(reminders)                      # still the `...` placeholder? say so
        assert reminders == 3, f"expected 3 reminders in a week, got {reminders}"

    check("Exercise 1 · three reminders", test, hint="count the reminders in storage")

The cell prints one line starting with ``✓`` or ``✗``, and on ✗ what is wrong and the hint. It
never raises: JupyterLab's *Run All* stops at the first error, and one unsolved exercise must not
stop a learner from reading the rest of the chapter. An answer that is still the ``...``
placeholder, a name not defined yet, and an answer whose own code raised are each told apart,
so the message says what to do next. The test suite reads these lines (tests/test_exercises.py):
each chapter runs once as shipped (every check ✗) and once with the solutions in ``solutions/``
(every check ✓), and each check must reject a plausible wrong answer.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass

PASS, FAIL = "✓", "✗"


class Unsolved(Exception):  # noqa: N818 - read by learners: "Unsolved", not "UnsolvedError"
    """The answer is still the ``...`` placeholder."""


def given(*answers: object) -> None:
    """Refuse to check an answer that is still ``...`` (the placeholder the chapter ships with)."""
    if any(answer is Ellipsis for answer in answers):
        raise Unsolved


@dataclass(frozen=True)
class CheckResult:
    """What one check found: ``passed``, and the line it printed."""

    title: str
    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed


def evaluate(title: str, test: Callable[[], object], hint: str = "") -> CheckResult:
    """Run ``test()`` and describe the outcome (pure: nothing printed)."""
    try:
        detail = test()
    except Unsolved:
        why = "not answered yet: replace the `...` placeholder in the exercise cell with your answer"
    except AssertionError as exc:
        why = str(exc) or "the answer does not hold (the check's assertion failed)"
    except NameError as exc:
        why = f"{exc}: run the exercise cell above (and the cells before it) first"
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - a learner's answer may raise anything; report it
        if _about_ellipsis(exc):
            why = "not answered yet: the `...` placeholder is still in the code the check ran"
        else:
            where = traceback.extract_tb(exc.__traceback__)[-1]
            why = f"your code raised {type(exc).__name__}: {exc} (line {where.lineno} of {where.name})"
    else:
        message = f"{PASS} {title}" + (f": {detail}" if isinstance(detail, str) and detail else "")
        return CheckResult(title, True, message)
    message = f"{FAIL} {title}: {why}" + (f"\n  hint: {hint}" if hint else "")
    return CheckResult(title, False, message)


def check(title: str, test: Callable[[], object], hint: str = "") -> None:
    """Run ``test()``, print ``✓ title`` or ``✗ title: why`` (and the hint), and never raise.

    Returns nothing, so the cell shows only the printed line; :func:`evaluate` gives the result.
    """
    print(evaluate(title, test, hint).message)


def _about_ellipsis(exc: BaseException) -> bool:
    """An error caused by computing with ``...`` (e.g. ``... + 1``, ``len(...)``, ``....x``)."""
    return "ellipsis" in str(exc)
