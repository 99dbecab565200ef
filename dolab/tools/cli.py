"""The ``dolab`` command (also ``python -m dolab``): ``export`` and ``check-port``.

Exit codes: 0 done (check-port: no errors, warnings allowed); 1 check-port found errors, or export
refused because of them; 2 the command could not run (bad arguments, unreadable source, no class).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
from collections.abc import Sequence
from pathlib import Path

from dolab.tools.export import COMPATIBILITY_DATE, ExportError, render, write
from dolab.tools.portability import RULES, check, errors
from dolab.tools.program import NoClassesError, Program, ProgramError, build
from dolab.tools.source import SourceError, load

SOURCE_HELP = "a .py file, a notebook (.ipynb; read, never run) or an importable module[:Class]"


def _binding(text: str) -> tuple[str, str]:
    name, sep, cls = text.partition("=")
    if not sep or not name.isidentifier() or not cls.isidentifier():
        raise argparse.ArgumentTypeError(f"expected NAME=Class, got {text!r}")
    return name, cls


def _add_selection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="SOURCE", help=SOURCE_HELP)
    parser.add_argument("--class", dest="classes", action="append", default=[], metavar="NAME",
                        help="export only this class (repeatable); default: every DurableObject and "
                             "WorkerEntrypoint subclass")
    parser.add_argument("--binding", action="append", type=_binding, default=[], metavar="NAME=Class",
                        help="the binding name of a Durable Object class (repeatable); default: from "
                             "Lab(durable_objects={...}) in the source, else the class name in UPPER_SNAKE")
    parser.add_argument("--var", dest="vars", action="append", default=[], metavar="NAME",
                        help="an env name you will declare as a var or secret, so env.NAME is allowed (repeatable)")


def _version() -> str:
    try:
        return importlib.metadata.version("dolab")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "(not installed)"


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="dolab", description="Take Durable Object classes from dolab to Cloudflare.")
    top.add_argument("--version", action="version", version=f"dolab {_version()}")
    verbs = top.add_subparsers(dest="verb", required=True, metavar="{export,check-port}")
    rules = "\n".join(f"  {r.id:<16} {r.severity:<8} {r.what}" for r in RULES)
    check_port = verbs.add_parser(
        "check-port", help="list what in the classes works in dolab but not on Cloudflare",
        description="List, as file:line: message, what in the classes of SOURCE works in dolab but "
                    "would not on Cloudflare. Exit 0 when there are no errors, 1 otherwise.",
        epilog="rules:\n" + rules, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_selection(check_port)
    export = verbs.add_parser(
        "export", help="write the classes as a deployable Python Workers project",
        description="Write the classes of SOURCE as a Python Workers project (src/entry.py, "
                    "wrangler.jsonc, pyproject.toml, README.md) that `uv run pywrangler deploy` deploys.")
    _add_selection(export)
    export.add_argument("-o", "--out", required=True, type=Path, metavar="OUTDIR", help="the project folder to write")
    export.add_argument("--name", help="the Worker's name (default: from SOURCE's file name)")
    export.add_argument("--default", metavar="CLASS",
                        help="make this WorkerEntrypoint subclass the Default Worker instead of a generated router")
    export.add_argument("--compatibility-date", default=COMPATIBILITY_DATE, metavar="YYYY-MM-DD",
                        help=f"wrangler's compatibility_date (default: {COMPATIBILITY_DATE})")
    export.add_argument("--force", action="store_true", help="export even though check-port found errors")
    return top


def _program(args: argparse.Namespace) -> Program:
    return build(load(args.source), classes=args.classes, bindings=dict(args.binding), vars=args.vars)


def _check_port(args: argparse.Namespace) -> int:
    try:
        program = _program(args)
    except NoClassesError as error:  # nothing to port is nothing dolab-only
        print(f"{error}: nothing to check", file=sys.stderr)
        return 0
    findings = check(program)
    for finding in findings:
        print(finding)
    names = ", ".join(c.name for c in program.classes)
    bad = errors(findings)
    if bad:
        print(f"{len(bad)} error(s), {len(findings) - len(bad)} warning(s) in {names}", file=sys.stderr)
        return 1
    print(f"{names}: nothing dolab-only" + (f" ({len(findings)} warning(s))" if findings else ""), file=sys.stderr)
    return 0


def _export(args: argparse.Namespace) -> int:
    program = _program(args)
    project = render(program, name=args.name, default=args.default,
                     compatibility_date=args.compatibility_date, force=args.force)
    write(project, args.out)
    for finding in project.findings:
        print(finding, file=sys.stderr)
    for b in program.bindings:
        print(f"{b.class_name} -> env.{b.name}")
    print(f"wrote {args.out}/ ({', '.join(project.files)}); then, in that folder: uv run pywrangler deploy")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return _check_port(args) if args.verb == "check-port" else _export(args)
    except ExportError as error:
        print(f"dolab export: {error}", file=sys.stderr)
        return 1 if error.findings else 2
    except (SourceError, ProgramError) as error:
        print(f"dolab {args.verb}: {error}", file=sys.stderr)
        return 2
