#!/usr/bin/env python3
"""Derive data/workers_sdk_names.txt from a workers-runtime-sdk wheel.

Usage: python3 data/derive_workers_sdk_names.py PATH/TO/workers_runtime_sdk-1.9.5-py3-none-any.whl
Writes data/workers_sdk_names.txt: the names ``from workers import ...`` accepts (the ``__all__`` of
the wheel's ``workers/__init__.py``), sorted, one a line, under a header naming the wheel and its
SHA-256. Deterministic (same wheel, same bytes). See data/SOURCES.md.
"""

# Why: dolab export may write only names the real SDK has into ``from workers import``. The SDK
# imports Pyodide's ``js`` module at import time, so it is read with ``ast``, never imported.

import ast
import hashlib
import sys
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parent / "workers_sdk_names.txt"


def exported_names(init_source: str) -> list[str]:
    """The strings of the module-level ``__all__ = [...]`` assignment."""
    for node in ast.parse(init_source).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            value = ast.literal_eval(node.value)
            return sorted(set(value))
    raise ValueError("workers/__init__.py has no __all__")


def main(wheel: Path) -> None:
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    with zipfile.ZipFile(wheel) as z:
        names = exported_names(z.read("workers/__init__.py").decode("utf-8"))
    header = [
        f"# The names of `from workers import ...`: __all__ of workers/__init__.py in {wheel.name}",
        f"# (PyPI workers-runtime-sdk, MIT licence), sha256 {digest}.",
        "# Derived by data/derive_workers_sdk_names.py; see data/SOURCES.md.",
    ]
    OUT.write_text("\n".join(header + names) + "\n")
    print(f"wrote {OUT.name}: {len(names)} names")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
