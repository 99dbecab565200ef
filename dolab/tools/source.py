"""Read a learner's source without running it: its top-level statements, what each defines and uses.

A SOURCE is a ``.py`` file, a notebook (its code cells parsed one by one, never executed) or an
importable ``module`` / ``module:attr`` (found with importlib and read as a file; finding it imports
the parent packages, not the module). Places are written ``file:line``; in a notebook
``file#cellN:line``, where cell N is the N-th code cell, the one numbered ``[N]`` after Run All.
"""

from __future__ import annotations

import ast
import builtins
import importlib.util
import json
import symtable
from dataclasses import dataclass, field
from pathlib import Path

BUILTIN_NAMES = frozenset(dir(builtins))


class SourceError(Exception):
    """The SOURCE cannot be read: missing, not Python, or not a notebook."""


@dataclass(frozen=True)
class Chunk:
    """One parsed piece of the source: a whole file, or one code cell of a notebook."""

    text: str
    tree: ast.Module
    cell: int | None  # the n-th code cell of a notebook; None for a file

    def lines(self, first: int, last: int) -> str:
        """Lines ``first``..``last`` (1-based, inclusive) exactly as written."""
        return "\n".join(self.text.splitlines()[first - 1 : last])


@dataclass(frozen=True, eq=False)
class Statement:
    """A top-level statement with the module-level names it binds and the global names it reads."""

    node: ast.stmt
    chunk: Chunk
    defines: frozenset[str]
    uses: frozenset[str]

    @property
    def first_line(self) -> int:
        """Where the statement starts, decorators included."""
        decorators: list[ast.expr] = getattr(self.node, "decorator_list", [])
        return min([self.node.lineno, *(d.lineno for d in decorators)])

    @property
    def last_line(self) -> int:
        return self.node.end_lineno or self.node.lineno

    @property
    def text(self) -> str:
        return self.chunk.lines(self.first_line, self.last_line)


@dataclass(frozen=True)
class Source:
    """What ``load`` read: where from, the parsed chunks and their top-level statements."""

    label: str  # the file as given, or the module's file
    name: str  # file stem or module name: the default name of an exported Worker
    chunks: tuple[Chunk, ...]
    statements: tuple[Statement, ...]
    attr: str | None = None  # the ``attr`` of ``module:attr``
    skipped: tuple[tuple[int, str], ...] = field(default=())  # (cell, why) for cells that do not parse

    def where(self, chunk: Chunk, line: int) -> str:
        """``file:line``, or ``file#cellN:line`` in a notebook."""
        cell = "" if chunk.cell is None else f"#cell{chunk.cell}"
        return f"{self.label}{cell}:{line}"


def _names(node: ast.stmt) -> tuple[frozenset[str], frozenset[str]]:
    """(names bound at module level, global names read anywhere inside), by the compiler's own scoping.

    ``symtable`` sees what Python sees: a method's parameters and locals are not globals, and a name
    a method reads from its class body is (class scopes do not enclose methods).
    """
    table = symtable.symtable(ast.unparse(node), "<statement>", "exec")
    defines = {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported()}
    uses: set[str] = set()
    stack = [table]
    while stack:
        t = stack.pop()
        uses.update(s.get_name() for s in t.get_symbols() if s.is_global() and s.is_referenced())
        stack.extend(t.get_children())
    return frozenset(defines), frozenset(uses - defines)


def _statements(chunks: tuple[Chunk, ...]) -> tuple[Statement, ...]:
    out = []
    for chunk in chunks:
        for node in chunk.tree.body:
            defines, uses = _names(node)
            out.append(Statement(node, chunk, defines, uses))
    return tuple(out)


def _parse(text: str, label: str) -> ast.Module:
    # Notebooks await at top level; the flag lets the parser accept it as the kernel does.
    flags = ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    tree = compile(text, label, "exec", flags=flags, dont_inherit=True)
    assert isinstance(tree, ast.Module)
    return tree


def _without_magics(text: str) -> str:
    """IPython's ``%line`` magics and ``!shell`` lines blanked (same line numbers)."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in text.splitlines())


def _notebook(path: Path, label: str) -> tuple[tuple[Chunk, ...], tuple[tuple[int, str], ...]]:
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    except (ValueError, KeyError, TypeError) as error:
        raise SourceError(f"{label}: not a notebook ({error})") from None
    chunks, skipped = [], []
    number = 0
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        number += 1
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else str(source)
        if text.lstrip().startswith("%%"):
            skipped.append((number, "a cell magic"))
            continue
        text = _without_magics(text)
        try:
            chunks.append(Chunk(text, _parse(text, f"{label}#cell{number}"), number))
        except SyntaxError as error:
            skipped.append((number, f"does not parse: {error.msg} (line {error.lineno})"))
    return tuple(chunks), tuple(skipped)


def _module_file(module: str) -> Path:
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError) as error:
        raise SourceError(f"cannot find module {module!r}: {error}") from None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        raise SourceError(f"cannot find a Python file for module {module!r}")
    return Path(spec.origin)


def _shown(path: Path) -> str:
    """The path relative to the working directory when it is below it (messages stay short)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load(spec: str) -> Source:
    """Read ``path.py``, ``path.ipynb``, ``module`` or ``module:attr``; never runs it."""
    path = Path(spec)
    attr = None
    if path.suffix in (".py", ".ipynb") or path.exists():
        if not path.is_file():
            raise SourceError(f"{spec}: no such file")
        label, name = spec, path.stem
    else:
        module, _, attr_text = spec.partition(":")
        attr = attr_text or None
        path = _module_file(module)
        label, name = _shown(path), module.rsplit(".", 1)[-1]
    if path.suffix == ".ipynb":
        chunks, skipped = _notebook(path, label)
    else:
        try:
            text = path.read_text(encoding="utf-8")
            chunks, skipped = (Chunk(text, _parse(text, label), None),), ()
        except (SyntaxError, UnicodeDecodeError) as error:
            raise SourceError(f"{label}: not Python ({error})") from None
    return Source(label, name, chunks, _statements(chunks), attr, skipped)
