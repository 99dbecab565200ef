"""Conformance: dolab against workerd's recorded answers, and workerd against its recording.

``test_dolab_disagrees_only_where_known`` runs the whole catalogue (conformance/cases.py) on
dolab and requires the set of disagreeing ops to equal conformance/known_differences.json: a new
difference fails, and so does a fixed one still listed (remove it from the file).
``test_workerd_still_answers_as_recorded`` (marker ``workerd``) runs the catalogue live on
workerd through Node and Miniflare; it skips without Node or conformance/node_modules, except
under CI, where .ci/run installs both.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from pathlib import Path

import pytest

from conformance.cases import AREAS, catalogue
from conformance.record import changes, load_expected, node_ready, run_workerd
from conformance.run import Answer, agree, compare, load_known, report, same
from conformance.sdk_model import RelTime
from dolab import JsDict

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def outcomes() -> list:
    return compare()


def test_catalogue_is_large_and_recorded() -> None:
    cases = catalogue()
    counted = sum(1 for c in cases for s in c.steps if not s.skip)
    assert counted >= 500
    assert {c.area for c in cases} == set(AREAS)
    expected = load_expected()
    stale = [c.id for c in cases if len(expected.get(c.id, [])) != len(c.steps)]
    assert not stale, f"re-record with `python3 -m conformance.record`: {stale}"
    assert all(s.skip for c in cases for s in c.steps if s.skip is not None)


def test_dolab_disagrees_only_where_known(outcomes: list) -> None:
    known = load_known()
    disagreeing = {o.key: o for o in outcomes if not o.agrees}
    new = [o for k, o in disagreeing.items() if k not in known]
    fixed = sorted(set(known) - set(disagreeing))
    lines = [f"{o.key} {o.step}\n  workerd: {o.workerd[:300]}\n  dolab:   {o.dolab[:300]}" for o in new]
    assert not new, "new differences from workerd:\n" + "\n".join(lines)
    assert not fixed, f"these now agree with workerd; remove them from known_differences.json: {fixed}"
    assert all(reason.strip() and reason != "TODO" for reason in known.values())
    print(report(outcomes, show=False))


def test_comparison_can_disagree() -> None:
    # The comparison is strict where a learner would notice: types, order, error kind and text.
    assert same(3, 3) and not same(3, 3.0) and not same(3.0, 3)
    assert not same(True, 1) and same(math.nan, math.nan)
    assert not same(memoryview(b"a"), b"a")
    assert not same(JsDict(a=1, b=2), JsDict(b=2, a=1)) and not same(JsDict(a=1), {"a": 1})
    assert not same(dt.datetime(2026, 1, 1), dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert same(RelTime(5, True), RelTime(7, True), tolerance=2) and not same(RelTime(5, True), RelTime(5, False))
    err = {"error": {"name": "TypeError", "message": "bad", "props": {}}}
    assert agree(err, Answer(error=TypeError("bad")))[0]
    assert not agree(err, Answer(error=ValueError("bad")))[0]
    assert not agree(err, Answer(error=TypeError("bad!")))[0]
    assert not agree(err, Answer(value=None))[0]
    remote = {"error": {"name": "PythonError", "message": "Traceback\nValueError: boom\n", "props": {"remote": True}}}
    assert not agree(remote, Answer(error=RuntimeError("ValueError: boom")))[0]  # not .remote


@pytest.mark.workerd
def test_workerd_still_answers_as_recorded() -> None:
    why = node_ready()
    if why:
        reason = f"workerd conformance not run: {why}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set, and .ci/run installs Node and runs npm ci in conformance/)")
        pytest.skip(reason)
    cases = catalogue()
    changed = changes(cases, run_workerd(cases))
    assert not changed, "workerd no longer answers as recorded:\n" + "\n".join(changed[:50])


def test_the_readmes_agreement_table_is_what_the_suite_measures(outcomes: list) -> None:
    """The README quotes "N / M" per area: the figures must be today's, not last month's."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| (?:\*\*)?([^|]+?)(?:\*\*)? \| (?:\*\*)?(\d+ / \d+)", readme, flags=re.MULTILINE))
    labels = {"kv": "KV storage", "list": "`list()` options", "txn": "transactions", "sql": "SQL",
              "alarm": "alarms", "rpc": "RPC", "ids": "ids"}
    for area, label in labels.items():
        mine = [o for o in outcomes if o.area == area]
        quoted = next((v for k, v in rows.items() if k.startswith(label)), None)
        assert quoted == f"{sum(o.agrees for o in mine)} / {len(mine)}", f"README's {label!r} row says {quoted}"
    assert rows.get("total") == f"{sum(o.agrees for o in outcomes)} / {len(outcomes)}"
