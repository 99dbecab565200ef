"""The three layers, checked: arrows point down only (runtime <- simulation <- presentation)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "dolab"

RUNTIME = {"__init__", "alarms", "context", "database", "errors", "fetch", "host", "ids", "lab", "lifecycle", "loop",
           "namespace", "objects", "sql", "storage", "values", "websockets", "worker"}
SIMULATION = {"cartdemo", "chatdemo", "concurrency", "designs", "explorer", "externaldb", "fixes", "geo", "latency",
              "network", "pricing", "sweep",
              "simulate", "trace", "workload"}
PRESENTATION = {"maps", "plots", "report", "scaleplots", "widgets"}
PRESENTATION_LIBS = {"pandas", "matplotlib", "ipywidgets", "tqdm", "IPython"}


def imports_of(module: str) -> set[str]:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def dolab_modules(names: set[str]) -> set[str]:
    return {n.split(".")[1] for n in names if n.startswith("dolab.")}


def test_every_module_is_in_a_layer() -> None:
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    assert modules == RUNTIME | SIMULATION | PRESENTATION


def test_runtime_imports_only_runtime() -> None:
    for module in RUNTIME - {"__init__"}:
        names = imports_of(module)
        assert dolab_modules(names) <= RUNTIME, (module, dolab_modules(names) - RUNTIME)
        assert not {n.split(".")[0] for n in names} & PRESENTATION_LIBS, module


def test_simulation_imports_no_presentation() -> None:
    for module in SIMULATION:
        names = imports_of(module)
        assert dolab_modules(names) <= RUNTIME | SIMULATION, (module, dolab_modules(names) - RUNTIME - SIMULATION)
        assert not {n.split(".")[0] for n in names} & PRESENTATION_LIBS, module


def test_modules_stay_small() -> None:
    sizes = {p.stem: len(p.read_text().splitlines()) for p in PACKAGE.glob("*.py")}
    assert max(sizes.values()) <= 500, sizes
