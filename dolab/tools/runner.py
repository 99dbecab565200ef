"""``dolab serve SOURCE``: the classes of a source, running in a lab, behind the Worker export would deploy.

The source is read as ``dolab export`` reads it (a ``.py`` file, a notebook, a ``module[:Class]``), so
the binding names are the same ones the exported ``wrangler.jsonc`` declares. Then the classes run for
real: a ``.py`` file or a module is imported; from a notebook only the statements the classes need are
run (never the whole notebook: its experiments would run too).

Which Worker answers: ``--default CLASS``, else a class named ``Default``, else the ``Class`` of
``module:Class`` when it is a Worker, else the source's only ``WorkerEntrypoint`` subclass, else the
router that ``dolab export`` generates (``/<binding>/<name>/...`` to that object).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
import types
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dolab.runtime.lab import Lab
from dolab.runtime.worker import WorkerEntrypoint
from dolab.tools.export import ROUTER, routes
from dolab.tools.program import Program, ProgramError, build
from dolab.tools.source import load


def _import(program: Program, spec: str) -> types.ModuleType:
    """The source as a module: imported when it is one, else its needed statements run in a new one."""
    source = program.source
    path = Path(spec)
    if path.suffix == ".py" or (path.is_file() and path.suffix != ".ipynb"):
        name = f"dolab_serve_{source.name}"
        found = importlib.util.spec_from_file_location(name, path)
        if found is None or found.loader is None:
            raise ProgramError(f"{spec}: cannot be imported")
        module = importlib.util.module_from_spec(found)
        sys.modules[name] = module  # dataclasses and pickling look classes up here
        sys.path.insert(0, str(path.resolve().parent))  # its own imports of modules beside it
        found.loader.exec_module(module)
        return module
    if path.suffix != ".ipynb":
        return importlib.import_module(spec.partition(":")[0])
    module = types.ModuleType(f"dolab_serve_{source.name}")
    sys.modules[module.__name__] = module
    future = sorted({a.name for st in program.statements for n in st.chunk.tree.body
                     if isinstance(n, ast.ImportFrom) and n.module == "__future__" for a in n.names})
    head = f"from __future__ import {', '.join(future)}\n" if future else ""
    code = head + "\n\n".join(st.text for st in program.statements)
    exec(compile(code, source.label, "exec"), module.__dict__)
    return module


def _router(program: Program) -> type[WorkerEntrypoint]:
    """The ``Default`` Worker ``dolab export`` generates, run with dolab's names."""
    from urllib.parse import urlparse

    from dolab.runtime.fetch import Response

    rows = "".join(f"\n    {r.binding.lower()!r}: ({r.binding!r}, {r.has_fetch}, {r.methods!r}),"
                   for r in routes(program))
    namespace: dict[str, Any] = {"WorkerEntrypoint": WorkerEntrypoint, "Response": Response, "urlparse": urlparse,
                                 "__name__": "dolab_serve_router"}
    exec(compile(ROUTER.format(routes="{" + rows + "\n}"), "<dolab export's router>", "exec"), namespace)
    worker: type[WorkerEntrypoint] = namespace["Default"]
    return worker


def prepare(
    spec: str, *, classes: Sequence[str] = (), default: str | None = None, bindings: Mapping[str, str] | None = None,
    persist: str | Path | None = None, vars: Mapping[str, str] | None = None,
) -> tuple[Lab, type[WorkerEntrypoint], str]:
    """(a lab with the source's objects bound, the Worker class, why that one) for ``spec``; ``classes``
    chooses among the source's classes as ``dolab export --class`` does (default: all)."""
    program = build(load(spec), classes=classes, bindings=bindings)
    module = _import(program, spec)
    workers = [c.name for c in program.classes if c.kind == "worker"]
    if default is not None and default not in workers:
        raise ProgramError(f"--default {default}: not a WorkerEntrypoint subclass of {program.source.label} "
                           f"(found: {', '.join(workers) or 'none'})")
    attr = program.source.attr
    choices = [(default, "--default"), ("Default" if "Default" in workers else None, "the class named Default"),
               (attr if attr in workers else None, "named in module:Class"),
               (workers[0] if len(workers) == 1 else None, "the source's only WorkerEntrypoint subclass")]
    chosen, why = next(((name, why) for name, why in choices if name), (None, ""))
    if chosen is None and not program.bindings:
        raise ProgramError(f"{program.source.label}: no Durable Object to route to and no Worker to serve")
    worker = getattr(module, chosen) if chosen else _router(program)
    objects = {b.name: getattr(module, b.class_name) for b in program.bindings}
    lab = Lab(durable_objects=objects, persist=persist, vars=dict(vars or {}))
    return lab, worker, why or "the router dolab export generates: /<binding>/<name>/..."
