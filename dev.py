#!/usr/bin/env python3
"""The project's two commands, with nothing but Python 3.11+ needed to start.

    python3 dev.py lab     set up .venv (first time or when pyproject.toml changes), open JupyterLab on notebooks/
    python3 dev.py test    set up .venv the same way, then run ruff, mypy and every test

Other verbs: ``check`` (ruff + mypy only), ``bench`` (the benchmarks in bench/).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".dolab-installed"


def sh(*args: str | Path) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    result = subprocess.run([str(a) for a in args], cwd=ROOT)
    if result.returncode:
        sys.exit(result.returncode)


def setup() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py itself may be run by an old Python
        sys.exit(f"dolab needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not PY.exists():
        print(f"creating virtual environment in {VENV.name}/", flush=True)
        venv.create(VENV, with_pip=True)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text() != wanted:
        sh(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
        sh(PY, "-m", "pip", "install", "--quiet", "-e", ".[dev]")
        STAMP.write_text(wanted)


def main(argv: list[str]) -> None:
    verb = argv[0] if argv else "help"
    if verb == "lab":
        setup()
        sh(BIN / "jupyter", "lab", "--notebook-dir", ROOT / "notebooks", *argv[1:])
    elif verb == "check":
        setup()
        sh(PY, "-m", "ruff", "check", "dolab", "tests", "bench", "data", "dev.py")
        sh(PY, "-m", "mypy")
    elif verb == "test":
        setup()
        sh(PY, "-m", "ruff", "check", "dolab", "tests", "bench", "data", "dev.py")
        sh(PY, "-m", "mypy")
        sh(PY, "-m", "pytest", *argv[1:])
    elif verb == "bench":
        setup()
        for script in sorted((ROOT / "bench").glob("bench_*.py")):
            sh(PY, script, *argv[1:])
    else:
        print(__doc__)
        sys.exit(0 if verb == "help" else 2)


if __name__ == "__main__":
    main(sys.argv[1:])
