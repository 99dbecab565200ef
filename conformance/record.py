"""Run the catalogue on workerd (Miniflare, through Node) and keep its answers.

``python3 -m conformance.record`` (re)writes ``conformance/expected/<area>.json``, the answers the
dolab runner compares against; with ``--check`` it only reports whether workerd still answers
what is recorded. Needs Node and ``npm ci`` run in ``conformance/``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from conformance.cases import AREAS, catalogue
from conformance.steps import Case, ModelError, wire_step

HERE = Path(__file__).resolve().parent
EXPECTED = HERE / "expected"
#: workerd's answers depend on the compatibility date: a fixed one keeps recordings stable.
COMPATIBILITY_DATE = "2026-07-30"


def node_ready() -> str | None:
    """Why workerd cannot be run here, or None if it can."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (HERE / "node_modules" / "miniflare").is_dir():
        return "conformance/node_modules is missing (run `npm ci` in conformance/)"
    return None


def miniflare_version() -> str:
    package = json.loads((HERE / "node_modules" / "miniflare" / "package.json").read_text())
    return str(package["version"])


def wire_case(case: Case) -> tuple[dict[str, Any], dict[int, dict[str, Any]]]:
    """The case as sent to workerd, and the answers the SDK gives in Python before any JS runs.

    A step the SDK refuses (a tuple argument, say) is sent as a no-op and answered with the
    Python error the learner would get.
    """
    steps = []
    refused: dict[int, dict[str, Any]] = {}
    for i, step in enumerate(case.steps):
        try:
            steps.append(wire_step(step))
        except ModelError as exc:
            steps.append({"op": "wait", "ms": 0})
            refused[i] = {"error": {"name": exc.name, "message": exc.message, "props": {}, "python": True}}
    return {"id": case.id, "steps": steps}, refused


def run_workerd(cases: list[Case]) -> dict[str, list[dict[str, Any]]]:
    """Every case's per-step answers from workerd."""
    wired = []
    refusals = {}
    for case in cases:
        w, refused = wire_case(case)
        wired.append(w)
        refusals[case.id] = refused
    payload = json.dumps({"compatibilityDate": COMPATIBILITY_DATE, "cases": wired, "parallel": 6})
    proc = subprocess.run(["node", str(HERE / "driver.mjs")], input=payload, capture_output=True, text=True,
                          cwd=HERE, timeout=600, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"the workerd driver failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    results: dict[str, list[dict[str, Any]]] = json.loads(proc.stdout)["results"]
    for case in cases:
        answers = results[case.id]
        if isinstance(answers, dict):  # the whole case crashed
            raise RuntimeError(f"case {case.id} crashed on workerd: {answers}")
        for i, refusal in refusals[case.id].items():
            answers[i] = refusal
    return results


def to_files(cases: list[Case], results: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """The recorded files' contents, one per area; each step keeps its Python form for readers."""
    files: dict[str, dict[str, Any]] = {
        area: {"miniflare": miniflare_version(), "compatibilityDate": COMPATIBILITY_DATE, "cases": {}}
        for area in AREAS
    }
    for case in cases:
        files[case.area]["cases"][case.id] = [
            {"step": step.label(), **answer} for step, answer in zip(case.steps, results[case.id], strict=True)
        ]
    return files


def load_expected() -> dict[str, list[dict[str, Any]]]:
    """The recorded answers of every case, by case id."""
    out: dict[str, list[dict[str, Any]]] = {}
    for area in AREAS:
        data = json.loads((EXPECTED / f"{area}.json").read_text(encoding="utf-8"))
        out.update(data["cases"])
    return out


def strip(answer: dict[str, Any]) -> dict[str, Any]:
    """An answer without its label (labels are for readers)."""
    return {k: v for k, v in answer.items() if k != "step"}


def _same_answer(recorded: dict[str, Any], fresh: dict[str, Any], tolerance: float) -> bool:
    """Two workerd answers agree; times taken from workerd's own clock may differ by ``tolerance`` ms."""
    a, b = strip(recorded), strip(fresh)
    if tolerance and "ok" in a and "ok" in b and isinstance(a["ok"], dict) and isinstance(b["ok"], dict):
        ta, tb = a["ok"], b["ok"]
        if ta.get("$") == "time" and tb.get("$") == "time":
            return ta["int"] == tb["int"] and abs(ta["offset"] - tb["offset"]) <= tolerance
    return a == b


def changes(cases: list[Case], results: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Ops whose fresh workerd answer differs from the recording (or has none recorded)."""
    expected = load_expected()
    out = []
    for case in cases:
        recorded = expected.get(case.id)
        if recorded is None or len(recorded) != len(case.steps):
            out.append(f"{case.id}: not recorded with {len(case.steps)} steps (re-record)")
            continue
        for i, step in enumerate(case.steps):
            if not _same_answer(recorded[i], results[case.id][i], step.tolerance):
                out.append(f"{case.id}#{i} {step.label()}: recorded {strip(recorded[i])}, now {results[case.id][i]}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare with the recording instead of rewriting it")
    args = parser.parse_args(argv)
    why = node_ready()
    if why:
        print(f"cannot run workerd: {why}", file=sys.stderr)
        return 2
    cases = catalogue()
    started = time.monotonic()
    results = run_workerd(cases)
    print(f"workerd ran {len(cases)} cases in {time.monotonic() - started:.1f} s", file=sys.stderr)
    files = to_files(cases, results)
    if args.check:
        bad = changes(cases, results)
        for line in bad:
            print(f"changed: {line}", file=sys.stderr)
        return 1 if bad else 0
    EXPECTED.mkdir(exist_ok=True)
    for area, content in files.items():
        text = json.dumps(content, indent=1, ensure_ascii=True) + "\n"
        (EXPECTED / f"{area}.json").write_text(text, encoding="utf-8")
    print(f"wrote {len(files)} files to conformance/expected/", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
