"""The README.md of an exported project: how to run and deploy it, and what was exported."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from dolab.tools.portability import WARNING, Finding
from dolab.tools.program import Program

if TYPE_CHECKING:  # export imports this module; the names are only for annotations
    from dolab.tools.export import Route


def _example(route: Route) -> str:
    base = f"http://localhost:8787/{route.binding.lower()}/alice"
    if route.has_fetch:
        return f"curl {base}/"
    if not route.methods:
        return f"# {route.class_name} has neither fetch() nor a public method to call"
    args = json.dumps(list(route.required[0]))  # the parameter names stand in for the values
    return f"curl -X POST {base}/{route.methods[0]} -d '{args}'"


def _requests(how: str, routes: Sequence[Route]) -> list[str]:
    if how == "source":
        return ["## Requests", "", "The source's own `Default` Worker answers requests.", ""]
    if how != "generated":
        return ["## Requests", "", f"`Default` is `{how}` (chosen with `--default {how}`): it answers requests.", ""]
    lines = [
        "## Requests",
        "",
        "The source has no `Default` Worker, so `src/entry.py` ends with a generated one that routes",
        "`/<binding>/<name>/...` to `env.<BINDING>.getByName(name)`:",
        "",
    ]
    for r in routes:
        if r.has_fetch:
            lines.append(f"- `/{r.binding.lower()}/<name>/...` goes to `{r.class_name}.fetch(request)`, URL unchanged.")
        else:
            methods = ", ".join(f"`{m}`" for m in r.methods) or "none"
            lines.append(f"- `POST /{r.binding.lower()}/<name>/<method>` with a JSON list of arguments as the body "
                         f"calls that method of `{r.class_name}` over RPC and answers its result as JSON "
                         f"(methods: {methods}).")
    lines += ["", "For example, with `pywrangler dev` running (put real values in place of the parameter names):",
              "", "```bash",
              *(_example(r) for r in routes), "```", "",
              "Anyone who knows the URL can make these calls: add authentication before deploying anything "
              "that matters.", ""]
    return lines


def project_readme(program: Program, worker: str, source: str, how: str, routes: Sequence[Route],
                   findings: Sequence[Finding]) -> str:
    bindings = {b.class_name: b.name for b in program.bindings}
    rows = []
    for c in program.classes:
        if c.kind == "durable object":
            rows.append(f"| `{c.name}` | Durable Object (SQLite storage) | `{bindings[c.name]}` |")
        else:
            role = "the default Worker" if c.name == "Default" or c.name == how else "a named entrypoint"
            rows.append(f"| `{c.name}` | WorkerEntrypoint, {role} | — |")
    lines = [
        f"# {worker}",
        "",
        f"Exported by `dolab export` from `{source}`.",
        "",
        "## Run and deploy",
        "",
        "You need [uv](https://docs.astral.sh/uv/) and Node.js (pywrangler runs wrangler with `npx`).",
        "",
        "```bash",
        "uv run pywrangler dev      # runs it on your machine, at http://localhost:8787",
        "uv run pywrangler deploy   # deploys it to your Cloudflare account",
        "```",
        "",
        "## What is in it",
        "",
        "| class | kind | binding |",
        "| --- | --- | --- |",
        *rows,
        "",
        "- `src/entry.py`: the classes and only what they need from the source, importing "
        "`from workers import ...` where the source had `from dolab import ...`.",
        "- `wrangler.jsonc`: one Durable Object binding per class and a migration `v1` that creates the "
        "classes with SQLite storage. Renaming or deleting a class later needs a new migration.",
        "- `pyproject.toml`: `workers-py` (the `pywrangler` command) in the `dev` group; packages the "
        "Worker itself imports go in `dependencies`.",
        "",
        *_requests(how, routes),
    ]
    if program.vars:
        lines += ["## Vars", "", "The code reads these from `env`; declare each in `wrangler.jsonc` (`vars`) or "
                  "as a secret (`uv run pywrangler secret put NAME`):", "",
                  *(f"- `{v}`" for v in sorted(program.vars)), ""]
    if findings:
        forced = any(f.severity != WARNING for f in findings)
        title = "What check-port found (exported with --force)" if forced else "What check-port warned about"
        lines += [f"## {title}", "", "```", *(str(f) for f in findings), "```", ""]
    return "\n".join(lines)
