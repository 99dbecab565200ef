"""dolab check-port: each rule flags exactly the lines its fixture marks, and the command's exit codes.

The fixtures in tests/fixtures/port/ mark every line that must be flagged with ``# expect: RULE``;
this file reads the marks itself (lines, and code cells of a notebook), so a rule that flags too
much, too little or the wrong line fails here. The chapter notebooks are only run through and
printed: their classes will change (tests/test_export.py exports the portable ones).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dolab.tools import portability
from dolab.tools.cli import main
from dolab.tools.portability import RULES, check
from dolab.tools.program import NoClassesError, build
from dolab.tools.source import load

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "port"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MARK = re.compile(r"#\s*expect:\s*([a-z][a-z, -]*)")
SOURCES = sorted(p for p in FIXTURES.iterdir() if p.suffix in (".py", ".ipynb"))


def marked(path: Path) -> set[tuple[str, str]]:
    """(place, rule) for every ``# expect:`` mark, places written as check-port writes them."""
    if path.suffix == ".ipynb":
        cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
        pieces = [(f"{path}#cell{n}", "".join(c["source"])) for n, c in enumerate(cells, start=1)]
    else:
        pieces = [(str(path), path.read_text())]
    found = set()
    for label, text in pieces:
        for number, line in enumerate(text.splitlines(), start=1):
            if m := MARK.search(line):
                found |= {(f"{label}:{number}", rule.strip()) for rule in m.group(1).split(",") if rule.strip()}
    return found


def flagged(path: Path, **options: object) -> set[tuple[str, str]]:
    return {(f.where, f.rule) for f in check(build(load(str(path)), **options))}  # type: ignore[arg-type]


@pytest.mark.parametrize("path", SOURCES, ids=[p.name for p in SOURCES])
def test_each_fixture_is_flagged_exactly_where_marked(path: Path) -> None:
    expected, got = marked(path), flagged(path)
    assert got == expected, f"missing: {sorted(expected - got)}\nunexpected: {sorted(got - expected)}"


def test_every_rule_is_proven_on_a_fixture() -> None:
    """Each row of the table flags at least one marked line; the portable fixture has none."""
    rules = {rule for path in SOURCES for _, rule in marked(path)}
    assert rules == {r.id for r in RULES}
    assert marked(FIXTURES / "portable.py") == set() and flagged(FIXTURES / "portable.py") == set()


def test_rule_ids_are_unique_and_severities_known() -> None:
    assert len({r.id for r in RULES}) == len(RULES)
    assert {r.severity for r in RULES} == {portability.ERROR, portability.WARNING}


def test_a_missing_rule_shows_up_as_missing_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison above can fail: without the env rule, its fixture's marks go unmet."""
    path = FIXTURES / "env_undeclared.py"
    monkeypatch.setattr(portability, "RULES", tuple(r for r in RULES if r.id != "env-undeclared"))
    assert flagged(path) == set() != marked(path)


def test_a_declared_var_is_not_flagged() -> None:
    path = FIXTURES / "env_undeclared.py"
    without = {where for where, _ in flagged(path)}
    with_var = {where for where, _ in flagged(path, vars=["API_KEY"])}
    assert without - with_var == {f"{path}:19"}  # only the env.API_KEY line


def test_only_the_chosen_classes_are_checked() -> None:
    path = FIXTURES / "env_undeclared.py"
    assert flagged(path, classes=["Other"]) == set()
    # Reminder alone: OTHER is no longer a binding of the export, so env.OTHER is flagged too.
    assert (f"{path}:15", "env-undeclared") in flagged(path, classes=["Reminder"])


def test_a_module_attr_source_is_read_from_its_file() -> None:
    program = build(load("tests.fixtures.port.env_undeclared:Reminder"))
    assert [c.name for c in program.classes] == ["Reminder"]
    assert program.source.label.endswith("env_undeclared.py")
    messages = [f.message for f in check(program)]
    assert len(messages) == 5 and "env.clock_ms" in messages[1]


def test_exit_codes_and_file_line_output(capsys: pytest.CaptureFixture[str]) -> None:
    path = FIXTURES / "env_undeclared.py"
    assert main(["check-port", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 4 and all(re.match(rf"{re.escape(str(path))}:\d+: `env\.\w+` ", line) for line in out)
    assert main(["check-port", str(FIXTURES / "portable.py")]) == 0
    assert capsys.readouterr().out == ""
    assert main(["check-port", str(FIXTURES / "sleep_timer.py")]) == 0  # warnings only
    assert "warning: " in capsys.readouterr().out
    assert main(["check-port", str(FIXTURES / "missing.py")]) == 2
    assert main(["check-port", str(FIXTURES / "portable.py"), "--class", "Nope"]) == 2
    assert "no DurableObject or WorkerEntrypoint subclass named Nope" in capsys.readouterr().err


def test_a_source_without_classes_has_nothing_to_check(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "no_classes.py"
    path.write_text("from dolab import Lab\n\nlab = Lab(seed=0)\nprint(lab.statistics())\n")
    with pytest.raises(NoClassesError):
        build(load(str(path)))
    assert main(["check-port", str(path)]) == 0
    assert "nothing to check" in capsys.readouterr().err


def test_the_installed_command_and_python_m_dolab() -> None:
    path = str(FIXTURES / "lab_helper.py")
    for command in ([sys.executable, "-m", "dolab"], [str(Path(sys.executable).parent / "dolab")]):
        done = subprocess.run([*command, "check-port", path], capture_output=True, text=True, cwd=ROOT)
        assert done.returncode == 1, done.stderr
        assert f"{path}:10: `lab.advance` is a lab helper" in done.stdout


def test_check_port_over_every_notebook(capsys: pytest.CaptureFixture[str]) -> None:
    """Prints what check-port says about each chapter. The lab's own clock and outbox, read as
    ``self.env.X`` in a method, must be flagged wherever they appear (today: chapters 06 and 08)."""
    lab_only = re.compile(r"self\.env\.(clock_ms|now|outbox|epoch_ms)\b")
    report = []
    for path in NOTEBOOKS:
        try:
            findings = check(build(load(str(path))))
        except NoClassesError:
            report.append(f"{path.name}: no classes")
            continue
        report += [f"{path.name}: {len(findings)} finding(s)", *(f"  {f}".replace(f"{ROOT}/", "") for f in findings)]
        got = {(f.where, f.message.split("`")[1]) for f in findings if f.rule == "env-undeclared"}
        cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
        for n, cell in enumerate(cells, start=1):
            for number, line in enumerate("".join(cell["source"]).splitlines(), start=1):
                for name in lab_only.findall(line):
                    assert (f"{path}#cell{n}:{number}", f"env.{name}") in got, f"{path.name} cell {n}: {line}"
    with capsys.disabled():
        print("\ncheck-port on the chapter notebooks:\n" + "\n".join(report))
