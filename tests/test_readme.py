"""The README's and the docs' examples run exactly as written."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))


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


def test_every_docs_python_block_runs() -> None:
    ran = 0
    for page in DOCS:
        for block in re.findall(r"```python\n(.*?)```", page.read_text(), re.S):
            exec(compile(block, str(page.name), "exec"), {"__name__": "docs"})
            ran += 1
    assert ran >= 2


def test_docs_links_point_at_files_that_exist() -> None:
    for page in [README, *DOCS]:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text()):
            assert (page.parent / target).exists(), f"{page.name} links to {target}, which does not exist"
