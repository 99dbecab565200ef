"""The ``dolab`` command (also ``python -m dolab``): ``serve``, ``export`` and ``check-port``.

Exit codes: 0 done (check-port: no errors, warnings allowed; serve: stopped with Ctrl-C); 1 check-port
found errors, or export refused because of them; 2 the command could not run (bad arguments,
unreadable source, no class, a port in use).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from dolab.runtime.errors import DolabError
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


def _var(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


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
    verbs = top.add_subparsers(dest="verb", required=True, metavar="{serve,export,check-port}")
    served = verbs.add_parser(
        "serve", help="serve the classes on a local HTTP and WebSocket server (like wrangler dev)",
        description="Run the classes of SOURCE in a lab behind a real HTTP and WebSocket server. The Worker is "
                    "--default CLASS, else the class named Default, else the source's only WorkerEntrypoint "
                    "subclass, else the router dolab export generates (/<binding>/<name>/...). The lab clock "
                    "follows the wall clock while serving. Stop with Ctrl-C.")
    served.add_argument("source", metavar="SOURCE", help=SOURCE_HELP)
    served.add_argument("--class", dest="classes", action="append", default=[], metavar="NAME",
                        help="serve only this class (repeatable), as for export; default: every DurableObject and "
                             "WorkerEntrypoint subclass")
    served.add_argument("--default", metavar="CLASS", help="the WorkerEntrypoint subclass that answers requests")
    served.add_argument("--binding", action="append", type=_binding, default=[], metavar="NAME=Class",
                        help="the binding name of a Durable Object class (repeatable), as for export")
    served.add_argument("--var", dest="vars", action="append", type=_var, default=[], metavar="NAME=VALUE",
                        help="a value on env (repeatable), as a Worker's vars")
    served.add_argument("--assets", type=Path, metavar="DIR", help="a folder of static files served before the "
                        "Worker for GET and HEAD (Workers Static Assets)")
    served.add_argument("--host", default="127.0.0.1", help="the address to listen on (default: 127.0.0.1)")
    served.add_argument("--port", type=int, default=8787, help="the port (default: 8787, as wrangler dev; 0: any)")
    served.add_argument("--persist", type=Path, metavar="DIR",
                        help="keep every object's storage in DIR across runs (default: in memory)")
    served.add_argument("--access-log", action="store_true", help="print one line per request")
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


def _serve(args: argparse.Namespace) -> int:
    from dolab.tools.runner import prepare  # uvicorn and starlette load only for this verb
    from dolab.tools.serve import serve

    lab, worker, how = prepare(args.source, classes=args.classes, default=args.default, bindings=dict(args.binding),
                               persist=args.persist, vars=dict(args.vars))
    try:
        server = serve(lab, worker, host=args.host, port=args.port, assets=args.assets, access_log=args.access_log)
    except DolabError:
        lab.close()
        raise
    bound = ", ".join(f"env.{name} -> {ns.cls.__name__}" for name, ns in lab.namespaces.items())
    print(f"dolab serve: {args.source}\n  Worker: {getattr(worker, '__name__', worker)} ({how})\n  objects: "
          f"{bound or 'none'}" + (f"\n  assets: {args.assets}" if args.assets else "")
          + f"\n  listening on {server.url}  (Ctrl-C stops)", flush=True)
    def terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # docker stop, kill: the same clean stop as Ctrl-C

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        server.wait()
    except KeyboardInterrupt:
        print("\nstopping", flush=True)
    finally:
        try:
            server.stop()
        except KeyboardInterrupt:  # a second Ctrl-C: stop now, without waiting for connections to close
            server.stop(timeout=0)
        lab.close()
        signal.signal(signal.SIGTERM, previous)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.verb == "serve":
            return _serve(args)
        return _check_port(args) if args.verb == "check-port" else _export(args)
    except ExportError as error:
        print(f"dolab export: {error}", file=sys.stderr)
        return 1 if error.findings else 2
    except (SourceError, ProgramError, DolabError) as error:
        print(f"dolab {args.verb}: {error}", file=sys.stderr)
        return 2
