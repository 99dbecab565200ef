#!/usr/bin/env python3
"""The project's two commands, with nothing but Python 3.11+ needed to start.

    python3 dev.py lab     set up .venv (first time or when pyproject.toml changes), open JupyterLab on notebooks/
    python3 dev.py test    set up .venv the same way, then run ruff, mypy and every test

Other verbs: ``check`` (ruff + mypy only), ``bench`` (the benchmarks in bench/),
``nav`` (regenerate the Prev | Index | Next cells of every notebook; ``nav --check`` only checks).
"""

from __future__ import annotations

import hashlib
import json
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


def notebook_title(path: Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    first = "".join(cells[0]["source"]).splitlines()[0]
    return first.lstrip("# ").strip()


def nav_source(paths: list[Path], i: int) -> str:
    def link(j: int, arrow_left: bool) -> str:
        title = notebook_title(paths[j])
        return f"[← {title}]({paths[j].name})" if arrow_left else f"[{title} →]({paths[j].name})"

    parts = [link(i - 1, True) if i > 0 else "", f"[Index]({paths[0].name})",
             link(i + 1, False) if i + 1 < len(paths) else ""]
    return " | ".join(p for p in parts if p)


def nav(check: bool) -> int:
    """Put a generated navigation cell after the title and at the end of every notebook."""
    paths = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    stale = []
    for i, path in enumerate(paths):
        nb = json.loads(path.read_text())
        cells = [c for c in nb["cells"] if "nav" not in c.get("metadata", {}).get("tags", [])]
        source = nav_source(paths, i)

        def cell(where: str, source: str = source) -> dict[str, object]:
            return {"cell_type": "markdown", "id": f"nav-{where}", "metadata": {"tags": ["nav"]},
                    "source": [source]}

        nb["cells"] = cells[:1] + [cell("top")] + cells[1:] + [cell("bottom")]
        for c in nb["cells"]:
            if "chapters" in c.get("metadata", {}).get("tags", []):
                c["source"] = [f"{j:d}. [{notebook_title(p)}]({p.name})\n" for j, p in enumerate(paths) if j]
        text = json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
        if path.read_text() != text:
            stale.append(path.name)
            if not check:
                path.write_text(text)
    if stale:
        print(("stale navigation in: " if check else "updated navigation in: ") + ", ".join(stale))
    return 1 if stale and check else 0


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
    elif verb == "nav":
        sys.exit(nav(check="--check" in argv))
    elif verb == "bench":
        setup()
        for script in sorted((ROOT / "bench").glob("bench_*.py")):
            sh(PY, script, *argv[1:])
    else:
        print(__doc__)
        sys.exit(0 if verb == "help" else 2)


if __name__ == "__main__":
    main(sys.argv[1:])
