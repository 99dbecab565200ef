#!/usr/bin/env python3
"""Chapters as a learner and as CI run them: chapter 05 in full, and every chapter in CI's quick mode.

Each chapter runs top to bottom in a fresh kernel (nbclient, as tests/test_notebooks.py runs them),
timed on the wall clock from the first cell to the last; kernel start-up is included, as a learner
waits for it too. Chapter 05 runs in full (to 100,000 users, the learner's default: no
``DOLAB_QUICK``); the suite runs every chapter with ``DOLAB_QUICK=1``, as CI does.

Goals (issue: performance): chapter 05 in full within 60 s; the notebooks of the suite within 3 minutes.

Usage: python bench/bench_chapters.py [--only-05]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def run(path: Path, quick: bool) -> float:
    """Wall seconds to execute ``path`` top to bottom in a fresh kernel."""
    if quick:
        os.environ["DOLAB_QUICK"] = "1"
    else:
        os.environ.pop("DOLAB_QUICK", None)  # the kernel inherits this process's environment
    nb = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    NotebookClient(nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only-05", action="store_true", help="skip the quick run of every chapter")
    parser.add_argument("--quick", action="store_true", help="(dev.py bench --quick) the same as --only-05")
    args = parser.parse_args()
    full = run(NOTEBOOKS / "05_scaling_thousands_of_objects.ipynb", quick=False)
    print(f"GOAL chapter05_full_s {full:.0f} <=60 {'PASS' if full <= 60 else 'MISS'}")
    if args.only_05 or args.quick:
        return
    times = {path.stem: run(path, quick=True) for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))}
    for name, seconds in times.items():
        print(f"  {name}: {seconds:.1f} s")
    total = sum(times.values())
    print(f"GOAL notebooks_quick_total_s {total:.0f} <=180 {'PASS' if total <= 180 else 'MISS'}")


if __name__ == "__main__":
    main()
