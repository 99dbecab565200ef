"""The five layers, checked by folder: arrows point down only (runtime <- sim <- tools <- lessons <- view).

Every module of the package lives in one layer's folder; a module may import its own layer and
the layers below it; only the view layer imports presentation libraries; no module reaches into
another layer's private names; the runtime's modules import each other without a circle (imports
made only for type checking do not count); and modules stay small.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "dolab"
LAYERS = ("runtime", "sim", "tools", "lessons", "view")  # bottom to top
# The package root holds only its front door and ``python -m dolab``, which starts the command.
ROOT_MODULES = {"__init__", "__main__"}
PRESENTATION_LIBS = {"pandas", "matplotlib", "ipywidgets", "tqdm", "IPython"}
# Names a learner's own objects may use on another layer's values: none start with "_" except these
# dunder protocols.
ALLOWED_PRIVATE = {"__name__", "__qualname__", "__module__", "__doc__", "__dict__", "__class__", "__init__"}


def modules() -> dict[str, Path]:
    """Dotted name (``runtime.lab``) -> path, for every module below the package root."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).with_suffix("")
        found[".".join(rel.parts)] = path
    return found


def layer_of(module: str) -> str | None:
    head = module.split(".")[0]
    return head if head in LAYERS else None


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path, *, type_only: bool = True) -> set[str]:
    """Every module ``path`` imports (function-local imports too; ``if TYPE_CHECKING:`` ones only
    when ``type_only``)."""
    tree = ast.parse(path.read_text())
    skipped: set[int] = set()
    if not type_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and _is_type_checking(node):
                skipped.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if node.module in ("dolab", *(f"dolab.{layer}" for layer in LAYERS)):
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def dolab_targets(names: set[str]) -> set[str]:
    """The package modules among imported names, as ``layer.module``."""
    known = modules()
    out = set()
    for name in names:
        if name.startswith("dolab."):
            rest = name[len("dolab."):]
            while rest and rest not in known and "." in rest:
                rest = rest.rsplit(".", 1)[0]
            out.add(rest)
    return out


def test_every_module_lives_in_a_layer_folder() -> None:
    outside = [m for m in modules() if m not in ROOT_MODULES and layer_of(m) is None]
    assert not outside, f"modules outside {', '.join(f'{layer}/' for layer in LAYERS)}: {outside}"
    assert {p.name for p in PACKAGE.iterdir() if p.is_dir() and not p.name.startswith("__")} == set(LAYERS)


def test_python_m_dolab_only_starts_the_command() -> None:
    """``dolab/__main__.py`` sits outside the layers, so it may do nothing but hand over to tools/."""
    assert imports_of(modules()["__main__"]) == {"dolab.tools.cli"}


@pytest.mark.parametrize("layer", LAYERS)
def test_each_layer_says_what_lives_there_and_what_it_may_import(layer: str) -> None:
    doc = ast.get_docstring(ast.parse((PACKAGE / layer / "__init__.py").read_text()))
    assert doc and len(doc.splitlines()) >= 3, f"dolab/{layer}/__init__.py needs a docstring of a few lines"
    assert "import" in doc, f"dolab/{layer}/__init__.py should say what it may import"


@pytest.mark.parametrize("module", [m for m in modules() if layer_of(m)])
def test_arrows_point_down_only(module: str) -> None:
    layer = layer_of(module)
    assert layer is not None
    allowed = set(LAYERS[: LAYERS.index(layer) + 1])
    path = modules()[module]
    names = imports_of(path)
    upward = {t for t in dolab_targets(names) if t != "__init__" and layer_of(t) not in allowed}
    assert not upward, f"{module} ({layer}) imports from a layer above it: {sorted(upward)}"
    assert "dolab" not in names, f"{module} imports the package front door; import the module itself"
    if layer != "view":
        libs = {n.split(".")[0] for n in names} & PRESENTATION_LIBS
        assert not libs, f"{module} ({layer}) imports presentation libraries {libs}; only view/ may"


@pytest.mark.parametrize("module", [m for m in modules() if layer_of(m) in ("sim", "tools", "lessons", "view")])
def test_no_reads_of_another_layers_private_names(module: str) -> None:
    """Above the runtime, code uses public names: ``lab.now``, not ``lab._loop.time()``."""
    tree = ast.parse(modules()[module].read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.endswith("__"):  # __traceback__ is public
            continue
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and node.attr not in ALLOWED_PRIVATE:
            owner = node.value
            if not (isinstance(owner, ast.Name) and owner.id in ("self", "cls")):
                found.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("dolab."):
            target = dolab_targets({node.module})
            if any(layer_of(t) != layer_of(module) for t in target):
                found += [f"line {node.lineno}: import {a.name}" for a in node.names if a.name.startswith("_")]
    assert not found, f"{module} reaches into private names: {found}"


def test_the_runtime_has_no_circle_of_imports() -> None:
    """Type-only imports (``if TYPE_CHECKING:``) may point anywhere; real imports form no circle."""
    graph = {
        m: {t for t in dolab_targets(imports_of(p, type_only=False)) if layer_of(t) == "runtime" and t != m}
        for m, p in modules().items() if layer_of(m) == "runtime"
    }
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt):] + [nxt]
                raise AssertionError("circle of imports: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_modules_stay_small() -> None:
    sizes = {m: len(p.read_text().splitlines()) for m, p in modules().items()}
    big = {m: n for m, n in sizes.items() if n > 500}
    assert not big, f"modules over 500 lines: {big}"
