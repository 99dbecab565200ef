"""``dolab check-port``: what in a class works in dolab but would not on Cloudflare.

The checks run on the code ``dolab export`` would write (the classes and what they need, see
``program``), never on the notebook around them: ``lab.run(...)`` in a cell is fine, inside a
method it is not. ``RULES`` is the table: an id, a severity and a check. An error stops the export
(unless ``--force``); a warning is printed and lets it through. ``time.time()`` and
``datetime.now()`` are fine: Cloudflare has real clocks.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from dolab.tools.program import Program, dotted, from_dolab
from dolab.tools.sdk import DOLAB_MODULE, JS_GLOBALS, SDK_NAMES, WORKERS_MODULE, hint_for
from dolab.tools.source import Chunk, Statement

ERROR, WARNING = "error", "warning"

# Lab methods with no other meaning; any other attribute counts only on a name bound to a Lab.
LAB_ONLY_ATTRS = frozenset({
    "run_in_durable_object", "fail_next", "evict_all", "run_durable_object_alarm", "list_durable_object_ids",
    "gate_statistics",
})  # fmt: skip
ENV_HINTS = {
    "clock_ms": "Date.now() on the lab's clock, set by the notebook; on Cloudflare use int(time.time() * 1000)",
    "now": "the lab's clock, set by the notebook; on Cloudflare use time.time()",
    "epoch_ms": "a notebook helper for the lab's clock; on Cloudflare use time.time() * 1000",
    "outbox": "a list the notebook set on lab.env; send real messages (a Queue, an e-mail binding)",
    "JOURNAL": "a lesson's recorder set on lab.env; it has no Cloudflare counterpart",
    "DB": "a dolab ExternalDatabase set on lab.env; declare a real database binding (D1, Hyperdrive)",
}
ENV_DEFAULT = "declare it as a binding in wrangler.jsonc or as a var (--var NAME)"
# Methods Cloudflare calls itself; any other public method of a Durable Object answers RPC.
HANDLERS = frozenset({"fetch", "alarm", "webSocketMessage", "webSocketClose", "webSocketError"})
BAD_VALUES = {
    "tuple": "the Python Workers SDK refuses tuples over RPC and in storage: send a list",
    "bytearray": "the Python Workers SDK refuses bytearrays over RPC and in storage: send bytes",
    "frozenset": "a frozenset cannot cross (only a set becomes a JS Set): send a set or a sorted list",
}

Hit = tuple[str, str]  # (place, message)


@dataclass(frozen=True)
class Finding:
    where: str
    rule: str
    severity: str
    message: str

    def __str__(self) -> str:
        level = "warning: " if self.severity == WARNING else ""
        return f"{self.where}: {level}{self.message} [{self.rule}]"


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    what: str
    check: Callable[[Program], Iterator[Hit]]


def _code(program: Program) -> Iterator[tuple[Statement, ast.AST]]:
    """Every node of the exported statements other than top-level imports (those become new lines)."""
    for st in program.statements:
        if not isinstance(st.node, ast.Import | ast.ImportFrom):
            for node in ast.walk(st.node):
                yield st, node


def _at(program: Program, chunk: Chunk, node: ast.AST | int) -> str:
    return program.where(chunk, node if isinstance(node, int) else getattr(node, "lineno", 1))


def _functions(node: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    yield from (n for n in ast.walk(node) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef))


def dolab_imports(program: Program) -> Iterator[Hit]:
    for st in program.statements:
        node = st.node
        if isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                origin = program.origins.get(local, "")
                if local not in program.needed or not from_dolab(origin):
                    continue
                if isinstance(node, ast.Import):
                    yield _at(program, st.chunk, alias), f"`import {alias.name}`: there is no dolab on Cloudflare"
                elif alias.name not in SDK_NAMES and alias.name not in JS_GLOBALS:
                    yield _at(program, st.chunk, alias), f"`{alias.name}` comes from dolab: {hint_for(alias.name)}"
    for st, inner in _code(program):
        if isinstance(inner, ast.ImportFrom) and (inner.module or "").split(".")[0] == DOLAB_MODULE or (
                isinstance(inner, ast.Import) and any(a.name.split(".")[0] == DOLAB_MODULE for a in inner.names)):
            yield (_at(program, st.chunk, inner), "an import from dolab inside the code: import SDK names at the "
                   "top (export turns them into `from workers import ...`); others have no Cloudflare counterpart")


def lab_helpers(program: Program) -> Iterator[Hit]:
    for st, node in _code(program):
        if not isinstance(node, ast.Attribute):
            continue
        on_lab = isinstance(node.value, ast.Name) and node.value.id in program.lab_names
        if node.attr in LAB_ONLY_ATTRS or on_lab:
            shown = f"{node.value.id}.{node.attr}" if isinstance(node.value, ast.Name) else f".{node.attr}"
            yield _at(program, st.chunk, node), f"`{shown}` is a lab helper; there is no lab on Cloudflare"


def _env_reads(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[tuple[ast.AST, str]]:
    """(node, name) for ``self.env.NAME``, ``env.NAME`` (``env`` a parameter) and ``getattr(self.env, "NAME")``."""
    params = {a.arg for a in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]}

    def is_env(node: ast.expr) -> bool:
        return dotted(node) in ({"self.env"} | ({"env"} if "env" in params else set()))

    for node in ast.walk(fn):
        if isinstance(node, ast.Attribute) and is_env(node.value):
            yield node, node.attr
        elif isinstance(node, ast.Call) and dotted(node.func) == "getattr" and len(node.args) >= 2:
            target, name = node.args[0], node.args[1]
            if is_env(target) and isinstance(name, ast.Constant) and isinstance(name.value, str):
                yield node, name.value


def env_names(program: Program) -> Iterator[Hit]:
    seen: set[tuple[int, int, str]] = set()
    for st in program.statements:
        for fn in _functions(st.node):
            for node, name in _env_reads(fn):
                key = (id(st), getattr(node, "lineno", 0), name)
                if name not in program.declared and key not in seen:
                    seen.add(key)
                    why = ENV_HINTS.get(name, ENV_DEFAULT)
                    yield _at(program, st.chunk, node), f"`env.{name}` is not a binding or declared var: {why}"


def bad_value(node: ast.expr) -> str | None:
    """The kind of value that may not cross RPC or enter storage, if ``node`` builds one (at any depth)."""
    if isinstance(node, ast.Tuple):
        return "tuple"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in BAD_VALUES:
        return node.func.id
    children: list[ast.expr | None] = []
    if isinstance(node, ast.List):
        children = list(node.elts)
    elif isinstance(node, ast.Dict):
        children = [*node.keys, *node.values]
    return next((kind for c in children if c is not None and (kind := bad_value(c))), None)


def _is_stub(node: ast.expr, stubs: set[str]) -> bool:
    """A stub: ``<...>.getByName(...)``, ``<env>.X.get(...)`` or a local name assigned one of those."""
    if isinstance(node, ast.Name):
        return node.id in stubs
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        on_env = (dotted(node.func.value) or "").startswith(("self.env.", "env."))
        return node.func.attr == "getByName" or (node.func.attr == "get" and on_env)
    return False


def unserializable(program: Program) -> Iterator[Hit]:
    for st in program.statements:
        for fn in _functions(st.node):
            stubs = {t.id for n in ast.walk(fn) if isinstance(n, ast.Assign) and _is_stub(n.value, set())
                     for t in n.targets if isinstance(t, ast.Name)}
            for node in ast.walk(fn):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                    continue
                receiver = dotted(node.func.value) or ""
                stored = node.func.attr == "put" and receiver.split(".")[-1] == "storage"
                if stored or _is_stub(node.func.value, stubs):
                    for arg in [*node.args, *(k.value for k in node.keywords)]:
                        if kind := bad_value(arg):
                            where = "stored" if stored else f"sent over RPC to .{node.func.attr}()"
                            yield _at(program, st.chunk, arg), f"a {kind} {where}: {BAD_VALUES[kind]}"
    for info in program.classes:
        if info.kind != "durable object":
            continue
        assert isinstance(info.statement.node, ast.ClassDef)
        for method in info.statement.node.body:
            if isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef) and not method.name.startswith("_") \
                    and method.name not in HANDLERS:
                for node in _own_returns(method):
                    if node.value is not None and (kind := bad_value(node.value)):
                        yield (_at(program, info.statement.chunk, node),
                               f"RPC method {method.name}() returns a {kind}: {BAD_VALUES[kind]}")


def _own_returns(fn: ast.AST) -> Iterator[ast.Return]:
    """``return`` statements of ``fn`` itself, not of functions nested in it."""
    for child in ast.iter_child_nodes(fn):
        if isinstance(child, ast.Return):
            yield child
        if not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            yield from _own_returns(child)


def sleep_timers(program: Program) -> Iterator[Hit]:
    sleeps = {name for name, origin in program.origins.items() if origin == "asyncio.sleep"}
    modules = {name for name, origin in program.origins.items() if origin == "asyncio"}
    for info in program.classes:
        if info.kind != "durable object":
            continue
        for node in ast.walk(info.statement.node):
            name = dotted(node.func) if isinstance(node, ast.Call) else None
            if name and (name in sleeps or (name.endswith(".sleep") and name[: -len(".sleep")] in modules)):
                yield (_at(program, info.statement.chunk, node), "asyncio.sleep in a Durable Object keeps it awake "
                       "(billed) and is lost if it is evicted; if a timer is meant, use ctx.storage.setAlarm")


def _top_imports(program: Program) -> Iterator[tuple[Statement, ast.Import | ast.ImportFrom, str]]:
    """Needed top-level imports: (statement, node, top-level module name) for each one."""
    for st in program.statements:
        node = st.node
        if isinstance(node, ast.Import | ast.ImportFrom):
            locals_ = [a.asname or a.name.split(".")[0] for a in node.names]
            if any(n in program.needed for n in locals_):
                module = node.names[0].name if isinstance(node, ast.Import) else (node.module or "")
                yield st, node, module.split(".")[0]


def relative_imports(program: Program) -> Iterator[Hit]:
    for st, node, _ in _top_imports(program):
        if isinstance(node, ast.ImportFrom) and node.level:
            yield _at(program, st.chunk, node), "a relative import: export writes one file; import absolutely"


def outside_imports(program: Program) -> Iterator[Hit]:
    known = sys.stdlib_module_names | {DOLAB_MODULE, WORKERS_MODULE, "js", "__future__"}
    for st, node, module in _top_imports(program):
        if module and module not in known and not (isinstance(node, ast.ImportFrom) and node.level):
            yield (_at(program, st.chunk, node), f"`{module}` is not in the standard library: add it to "
                   "dependencies in the exported pyproject.toml, if Python Workers can install it")


def undefined_names(program: Program) -> Iterator[Hit]:
    for name, st in program.undefined:
        node = next((n for n in ast.walk(st.node) if isinstance(n, ast.Name) and n.id == name), st.node)
        yield _at(program, st.chunk, node), f"`{name}` is used but defined nowhere in the source"


def skipped_cells(program: Program) -> Iterator[Hit]:
    for cell, why in program.source.skipped:
        where = f"{program.source.label}#cell{cell}:1"
        yield where, f"cell not read, {why}: a class in it is neither checked nor exported"


def js_constructors(program: Program) -> Iterator[Hit]:
    built = {name for name, origin in program.origins.items()
             if from_dolab(origin) and JS_GLOBALS.get(origin.rsplit(".", 1)[-1], False)}
    for st, node in _code(program):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in built:
            yield (_at(program, st.chunk, node), f"`{node.func.id}(...)` is built with `.new(...)` on Cloudflare "
                   "(a JS class in Pyodide); export writes that for you")


RULES: tuple[Rule, ...] = (
    Rule("dolab-import", ERROR, "a dolab name with no Python Workers counterpart", dolab_imports),
    Rule("lab-helper", ERROR, "lab.run, lab.advance, lab.evict, fail_next... in the exported code", lab_helpers),
    Rule("env-undeclared", ERROR, "env.X that is neither a Durable Object binding nor a declared var", env_names),
    Rule("unserializable", ERROR, "a tuple, frozenset or bytearray sent or returned over RPC, or stored",
         unserializable),
    Rule("relative-import", ERROR, "a relative import (export writes a single file)", relative_imports),
    Rule("sleep-timer", WARNING, "asyncio.sleep in a Durable Object, where an alarm may be meant", sleep_timers),
    Rule("package-import", WARNING, "an import from outside the standard library", outside_imports),
    Rule("undefined-name", WARNING, "a name used but defined nowhere in the source", undefined_names),
    Rule("skipped-cell", WARNING, "a notebook cell that is not Python (a cell magic, or it does not parse)",
         skipped_cells),
    Rule("js-constructor", WARNING, "a JS class called directly; Pyodide spells it .new(...)", js_constructors),
)


def check(program: Program) -> list[Finding]:
    """Every finding of every rule, in order of place."""
    found = {Finding(where, rule.id, rule.severity, message)
             for rule in RULES for where, message in rule.check(program)}
    return sorted(found, key=lambda f: (_place_key(f.where), f.rule, f.message))


def _place_key(where: str) -> tuple[str, int, int]:
    head, _, line = where.rpartition(":")
    label, _, cell = head.partition("#cell")
    return label, int(cell or 0), int(line or 0)


def errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == ERROR]
