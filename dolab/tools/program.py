"""What would be exported: the chosen classes, their bindings, and every statement they need.

The classes are the ``DurableObject`` and ``WorkerEntrypoint`` subclasses of the source (directly or
through another class of the source). When a name is defined more than once, as notebooks do when a
cell is run again in a new form, the last definition counts: it is the one a kernel ends with. The
statements a class needs are found by following the global names it reads, transitively.

Binding names come, in this order, from ``--binding NAME=Class``, from the source (the first
``Lab(durable_objects={"CART": Cart})`` or ``lab.bind("CART", Cart)`` naming the class whose
binding name is still free), or from the class name in UPPER_SNAKE (``PricedCart`` -> ``PRICED_CART``).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from dolab.tools.sdk import DOLAB_MODULE, WORKERS_MODULE
from dolab.tools.source import BUILTIN_NAMES, Chunk, Source, Statement

KINDS = {"DurableObject": "durable object", "WorkerEntrypoint": "worker"}


class ProgramError(Exception):
    """The classes or bindings asked for do not fit the source."""


class NoClassesError(ProgramError):
    """The source defines no DurableObject or WorkerEntrypoint subclass at all."""


@dataclass(frozen=True)
class ClassInfo:
    name: str
    kind: str  # "durable object" or "worker"
    statement: Statement


@dataclass(frozen=True)
class Binding:
    name: str  # CART
    class_name: str  # Cart
    origin: str  # "option", "source" or "derived"


@dataclass(frozen=True)
class Program:
    """The exported code, before it is written: classes, bindings and the statements they need."""

    source: Source
    classes: tuple[ClassInfo, ...]
    bindings: tuple[Binding, ...]
    statements: tuple[Statement, ...]  # in an order that defines each name before a class needs it
    needed: frozenset[str]  # the top-level names the exported code reads
    origins: Mapping[str, str]  # imported name -> "module.original", for the names of the source
    undefined: tuple[tuple[str, Statement], ...]  # read but defined nowhere (not a builtin either)
    vars: frozenset[str]
    lab_names: frozenset[str]  # top-level names the source binds to a Lab(...)

    @property
    def declared(self) -> frozenset[str]:
        """What ``env.X`` may name on Cloudflare: the bindings and the declared vars."""
        return frozenset(b.name for b in self.bindings) | self.vars

    def where(self, chunk: Chunk, line: int) -> str:
        return self.source.where(chunk, line)


def dotted(node: ast.expr) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = dotted(node.value)
        return None if head is None else f"{head}.{node.attr}"
    return None


def import_origins(statements: Iterable[Statement]) -> dict[str, str]:
    """Every name a top-level import binds -> ``module.original`` (``import a.b`` binds ``a`` -> ``a``)."""
    origins: dict[str, str] = {}
    for st in statements:
        node = st.node
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    origins[alias.asname] = alias.name
                else:
                    head = alias.name.split(".")[0]
                    origins[head] = head
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            for alias in node.names:
                origins[alias.asname or alias.name] = f"{module}.{alias.name}"
    return origins


def from_dolab(origin: str) -> bool:
    return origin.split(".")[0] == DOLAB_MODULE


def _base_kind(base: ast.expr, origins: Mapping[str, str], kinds: Mapping[str, str]) -> str | None:
    name = dotted(base)
    if name is None:
        return None
    if name in kinds:
        return kinds[name]
    head, _, rest = name.partition(".")
    origin = f"{origins[head]}.{rest}" if head in origins and rest else origins.get(name, "")
    package, _, last = origin.rpartition(".")
    if package.split(".")[0] in (DOLAB_MODULE, WORKERS_MODULE) and last in KINDS:
        return KINDS[last]
    return None


def find_classes(source: Source) -> dict[str, ClassInfo]:
    """The Durable Object and Worker classes of the source, last definition of each name."""
    origins = import_origins(source.statements)
    kinds: dict[str, str] = {}
    found: dict[str, ClassInfo] = {}
    for st in source.statements:
        if isinstance(st.node, ast.ClassDef):
            kind = next((k for b in st.node.bases if (k := _base_kind(b, origins, kinds))), None)
            kinds.pop(st.node.name, None)
            found.pop(st.node.name, None)
            if kind:
                kinds[st.node.name] = kind
                found[st.node.name] = ClassInfo(st.node.name, kind, st)
    return found


def bindings_in_source(source: Source) -> list[tuple[str, str]]:
    """(binding, class name) pairs, in source order, from ``durable_objects={...}`` and ``.bind(...)``."""
    pairs = []
    for chunk in source.chunks:
        for node in ast.walk(chunk.tree):
            if not isinstance(node, ast.Call):
                continue
            for kw in node.keywords:
                if kw.arg == "durable_objects" and isinstance(kw.value, ast.Dict):
                    for key, value in zip(kw.value.keys, kw.value.values, strict=True):
                        if isinstance(key, ast.Constant) and isinstance(key.value, str) and isinstance(value, ast.Name):
                            pairs.append((key.value, value.id))
            args = node.args
            if (isinstance(node.func, ast.Attribute) and node.func.attr == "bind" and len(args) == 2
                    and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str)
                    and isinstance(args[1], ast.Name)):  # fmt: skip
                pairs.append((args[0].value, args[1].id))
    return pairs


def upper_snake(name: str) -> str:
    """``PricedCart`` -> ``PRICED_CART``, ``HTTPRoom`` -> ``HTTP_ROOM``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).upper()


def assign_bindings(names: list[str], source: Source, overrides: Mapping[str, str]) -> tuple[Binding, ...]:
    """One binding per Durable Object class, the binding names all different."""
    taken: dict[str, str] = {}
    chosen: dict[str, Binding] = {}
    for binding, cls in overrides.items():
        if cls not in names:
            raise ProgramError(f"--binding {binding}={cls}: {cls} is not an exported Durable Object class")
        if cls in chosen:
            raise ProgramError(f"--binding: {cls} is given two binding names")
        chosen[cls], taken[binding] = Binding(binding, cls, "option"), cls
    for binding, cls in bindings_in_source(source):
        if cls in names and cls not in chosen and binding not in taken:
            chosen[cls], taken[binding] = Binding(binding, cls, "source"), cls
    for cls in names:
        if cls not in chosen:
            binding = upper_snake(cls)
            if binding in taken:
                raise ProgramError(f"{cls} would be bound as {binding}, already {taken[binding]}'s; "
                                   f"give it another with --binding NAME={cls}")
            chosen[cls], taken[binding] = Binding(binding, cls, "derived"), cls
    return tuple(chosen[cls] for cls in names)


def _definition_time_names(st: Statement) -> set[str]:
    """The global names a statement needs while it runs: not those read later, in function bodies."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            parts: list[ast.AST] = [*getattr(node, "decorator_list", []), *node.args.defaults]
            parts += [d for d in node.args.kw_defaults if d is not None]
            for part in parts:
                visit(part)
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            found.add(node.id)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(st.node)
    return found & st.uses


def _ordered(needed: list[Statement], source: Source, definition: Mapping[str, Statement]) -> tuple[Statement, ...]:
    """Source order, except that a statement moves after those it needs at definition time (a class
    after its base, when a notebook redefined the base later). A circle keeps source order."""
    order = {id(st): i for i, st in enumerate(source.statements)}
    position = {id(st): order[id(st)] for st in needed}
    deps = {id(st): {id(definition[n]) for n in _definition_time_names(st) if n in definition} & set(position)
            for st in needed}
    out: list[Statement] = []
    done: set[int] = set()
    pending = sorted(needed, key=lambda st: position[id(st)])
    while pending:
        ready = next((st for st in pending if deps[id(st)] - {id(st)} <= done), pending[0])
        pending.remove(ready)
        out.append(ready)
        done.add(id(ready))
    return tuple(out)


def build(source: Source, *, classes: Iterable[str] = (), bindings: Mapping[str, str] | None = None,
          vars: Iterable[str] = ()) -> Program:
    """The program of ``classes`` (all Durable Object and Worker classes of the source by default)."""
    found = find_classes(source)
    wanted = list(dict.fromkeys([*classes, *([source.attr] if source.attr else [])]))
    unknown = [c for c in wanted if c not in found]
    if unknown:
        raise ProgramError(f"{source.label}: no DurableObject or WorkerEntrypoint subclass named "
                           f"{', '.join(unknown)} (found: {', '.join(found) or 'none'})")
    if not found:
        raise NoClassesError(f"{source.label}: no DurableObject or WorkerEntrypoint subclass found")
    chosen = sorted((found[c] for c in wanted) if wanted else found.values(),
                    key=lambda c: source.statements.index(c.statement))
    definition = {name: st for st in source.statements for name in st.defines}
    needed: list[Statement] = []
    names: set[str] = set()
    undefined: list[tuple[str, Statement]] = []
    todo = [c.statement for c in chosen]
    seen = {id(st) for st in todo}
    while todo:
        st = todo.pop(0)
        needed.append(st)
        for name in sorted(st.uses):
            if name in definition:
                names.add(name)
                if id(definition[name]) not in seen:
                    seen.add(id(definition[name]))
                    todo.append(definition[name])
            elif name not in BUILTIN_NAMES:
                undefined.append((name, st))
    do_names = [c.name for c in chosen if c.kind == "durable object"]
    lab_names = frozenset(n for st in source.statements for n in st.defines if _assigned_a_lab(st.node, n))
    return Program(
        source=source,
        classes=tuple(chosen),
        bindings=assign_bindings(do_names, source, bindings or {}),
        statements=_ordered(needed, source, definition),
        needed=frozenset(names),
        origins=import_origins(source.statements),
        undefined=tuple(undefined),
        vars=frozenset(vars),
        lab_names=lab_names | {"lab"},
    )


def _assigned_a_lab(node: ast.stmt, name: str) -> bool:
    """``name = Lab(...)`` or ``with Lab(...) as name``."""
    if isinstance(node, ast.Assign):
        pairs = [(t, node.value) for t in node.targets]
    elif isinstance(node, ast.With):
        pairs = [(i.optional_vars, i.context_expr) for i in node.items if i.optional_vars is not None]
    else:
        return False
    return any(isinstance(t, ast.Name) and t.id == name and isinstance(v, ast.Call)
               and dotted(v.func) in ("Lab", "dolab.Lab") for t, v in pairs)
