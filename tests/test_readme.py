"""The README's examples run exactly as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_quick_start_runs() -> None:
    text = README.read_text()
    section = text.split("## Quick start", 1)[1]
    block = re.search(r"```python\n(.*?)```", section, re.S)
    assert block is not None, "README has no python block under Quick start"
    namespace: dict[str, object] = {"__name__": "readme_quick_start"}
    exec(compile(block.group(1), "README.md", "exec"), namespace)
    assert namespace["lab"].now >= 15  # type: ignore[attr-defined]


def test_every_readme_python_block_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) >= 2
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {"__name__": "readme"})
