"""Run the catalogue on dolab and compare it, op by op, with workerd's recorded answers.

``python3 -m conformance.run`` prints "N/M ops agree" per area and overall, then every
disagreement (case, step, workerd's answer, dolab's answer). Only dolab's public API is used:
one ``Lab`` per case and a Durable Object class whose code performs each step on
``self.ctx.storage`` as a learner would.

How answers are compared (what counts as agreeing):

* A value: workerd's JS answer is first turned into what a Python Worker would see (the SDK
  model, :func:`conformance.sdk_model.from_js`), then compared with dolab's value by type and
  value: ``int``/``float``/``bool`` are distinct, bytes must be a ``memoryview`` (what Pyodide
  gives), dicts must be ``JsDict`` with the same keys in the same order, ``nan`` equals ``nan``.
  Times read back (``getAlarm()``) are compared as ms after the case's reference time; only a
  time the runtime takes from its own clock (a past alarm) has a tolerance, set on its step.
* An error: its kind and its message. Kinds: JS ``TypeError`` <-> Python ``TypeError``, JS
  ``RangeError`` <-> ``ValueError`` (the SDK's own mapping, ``workers.utils._to_python_exception``),
  any other JS error <-> an exception that is neither. Messages are compared exactly: a learner
  reads and searches them. Exception: a Python exception raised in a Python object reaches the
  caller as a PythonError whose message is the whole traceback; there the last line
  (``ValueError: boom``) is compared with dolab's ``str(exc)`` or ``Type: str(exc)``. If workerd
  marks the error ``remote``, dolab's must carry ``.remote`` too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance import cases as catalogue_module
from conformance.cases import AREAS, catalogue
from conformance.record import load_expected
from conformance.sdk_model import Answers, DateNow, JsProxyValue, Now, RelTime, from_js
from conformance.steps import Case, IdString, ModelError, Step, wire_step
from dolab import DurableObject, DurableObjectError, JsDict, Lab

HERE = Path(__file__).resolve().parent
KNOWN = HERE / "known_differences.json"
HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass
class Answer:
    """What one step gave on dolab: a value, or an exception."""

    value: Any = None
    error: BaseException | None = None


# ------------------------------------------------------------------------------------------
# The object under test on dolab
# ------------------------------------------------------------------------------------------

# Exceptions the rpc "fail" steps raise, by index (an exception is not sent over RPC itself).
_RAISES: list[BaseException] = []


class ConformanceObject(DurableObject):
    """Performs the catalogue's steps; what ``worker.mjs``'s LabObject does on workerd."""

    def __init__(self, ctx: Any, env: Any) -> None:
        super().__init__(ctx, env)
        self.base: float = 0
        self.alarm_plan: dict[str, Any] = {"fail": 0, "steps": [], "runs": 0}
        self.alarm_log: list[JsDict] = []

    async def alarm(self, alarm_info: Any = None) -> None:
        plan = self.alarm_plan
        plan["runs"] += 1
        answers: list[Answer] = []
        self.alarm_log.append(JsDict(
            retryCount=alarm_info.retryCount if alarm_info is not None else None,
            isRetry=alarm_info.isRetry if alarm_info is not None else None,
            steps=answers,
        ))
        for s in plan["steps"]:
            answers.append(await perform(self, s, self.base, self.ctx.storage))
        if plan["runs"] <= plan["fail"]:
            raise RuntimeError("alarm handler failed on purpose")

    def ctxId(self) -> JsDict:  # noqa: N802 - the name worker.mjs uses
        return JsDict(name=self.ctx.id.name, hex=bool(HEX64.fullmatch(self.ctx.id.toString())))

    async def echo(self, *args: Any) -> list[Any]:
        return list(args)

    async def mutate(self, obj: Any) -> str:
        if isinstance(obj, list):
            obj.append("added by callee")
        elif isinstance(obj, dict):
            obj["added"] = "by callee"
        return "mutated"

    async def fail(self, index: int) -> None:
        raise _RAISES[index]


class OtherObject(DurableObject):
    """Another class, only so that an id of a different namespace exists."""


def _resolve(value: Any, base: float) -> Any:
    """A catalogue value as the learner's code would hold it at run time."""
    if isinstance(value, Now):
        total = base + value.offset
        return int(total) if float(total).is_integer() else total
    if isinstance(value, DateNow):
        return dt.datetime.fromtimestamp((base + value.offset) / 1000, dt.UTC)
    return value


def _time(value: Any, base: float) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return RelTime(value - base, isinstance(value, int))
    return value


async def _settle(fn: Callable[[], Any]) -> Answer:
    try:
        result = fn()
        if hasattr(result, "__await__"):
            result = await result
        return Answer(result)
    except Exception as exc:  # noqa: BLE001 - every error is an answer to compare
        return Answer(error=exc)


def _sql(storage: Any, step: Step, base: float) -> JsDict:
    cursor = storage.sql.exec(step.query, *[_resolve(a, base) for a in step.args])
    out = JsDict()
    mode = step.read
    if mode == "toArray":
        out["rows"] = cursor.toArray()
    elif mode == "raw":
        out["rows"] = cursor.raw().toArray()
    elif mode == "one":
        out["rows"] = cursor.one()
    elif mode == "iter":
        out["rows"] = list(cursor)
    elif mode == "rawiter":
        out["rows"] = list(cursor.raw())
    elif mode == "next":
        out["rows"] = [cursor.next(), cursor.raw().next(), cursor.toArray()]
    out["columnNames"] = list(cursor.columnNames)
    out["rowsRead"] = cursor.rowsRead
    out["rowsWritten"] = cursor.rowsWritten
    return out


async def perform(obj: ConformanceObject, step: Step, base: float, target: Any) -> Answer:
    """One step inside the object; ``target`` is ``ctx.storage`` or a transaction."""
    try:
        wire_step(step)  # the SDK refuses some values in Python before any JS runs
    except ModelError as exc:
        return Answer(error=TypeError(exc.message))
    storage = obj.ctx.storage
    obj.base = base
    if step.op == "call":
        args = [_resolve(a, base) for a in step.args]
        kwargs = {k: _resolve(v, base) for k, v in step.kwargs.items()}
        answer = await _settle(lambda: getattr(target, step.method)(*args, **kwargs))
        if step.time and answer.error is None:
            answer.value = _time(answer.value, base)
        return answer
    if step.op == "kv":
        args = [_resolve(a, base) for a in step.args]
        if step.method == "list":
            return await _settle(lambda: list(storage.kv.list(*args)))
        return await _settle(lambda: getattr(storage.kv, step.method)(*args))
    if step.op == "sql":
        return await _settle(lambda: _sql(storage, step, base))
    if step.op == "databaseSize":
        return await _settle(lambda: storage.sql.databaseSize)
    if step.op == "transaction":
        async def body(txn: Any) -> Answers:
            inner: list[Answer] = []
            for s in step.steps:
                a = await perform(obj, s, base, txn)
                inner.append(a)
                if a.error is not None:
                    break
            if step.end == "throw":
                raise RuntimeError("rolled back by the case")
            if step.end == "rollback":
                txn.rollback()
            return Answers(inner)

        return await _settle(lambda: storage.transaction(body))
    if step.op == "transactionSync":
        def sync_body() -> Answers:
            inner = [_perform_sync(obj, s, base) for s in step.steps]
            if step.end == "throw":
                raise RuntimeError("rolled back by the case")
            return Answers(inner)

        return await _settle(lambda: storage.transactionSync(sync_body))
    if step.op == "alarmPlan":
        obj.alarm_plan = {"fail": step.fail, "steps": step.steps, "runs": 0}
        obj.alarm_log = []
        return Answer(None)
    if step.op == "alarmLog":
        return Answer([JsDict(e, steps=Answers(e["steps"])) for e in obj.alarm_log])
    if step.op == "rpc":
        return await _rpc(obj, step, base)
    raise ValueError(f"unknown op {step.op}")


def _perform_sync(obj: ConformanceObject, step: Step, base: float) -> Answer:
    """A step inside transactionSync: synchronous, as the closure is."""
    try:
        if step.op == "sql":
            return Answer(_sql(obj.ctx.storage, step, base))
        if step.op == "call":
            return Answer(getattr(obj.ctx.storage, step.method)(*[_resolve(a, base) for a in step.args]))
    except Exception as exc:  # noqa: BLE001
        return Answer(error=exc)
    raise ValueError(f"op {step.op} inside transactionSync")


async def _rpc(obj: ConformanceObject, step: Step, base: float) -> Answer:
    ns = obj.env.LAB
    other = ns.get(ns.newUniqueId())
    if step.method == "fail":
        assert step.raises is not None
        _RAISES.append(step.raises)
        return await _settle(lambda: other.fail(len(_RAISES) - 1))
    args = [_resolve(a, base) for a in step.args]
    answer = await _settle(lambda: getattr(other, step.method)(*args))
    if step.method == "mutate" and answer.error is None:
        # The caller's own value after the call (its dicts shown as the JS objects the recording has).
        answer.value = JsDict(result=answer.value, callerArg=_as_recorded(args[0]))
    return answer


def _as_recorded(value: Any) -> Any:
    if isinstance(value, dict):
        return JsDict({k: _as_recorded(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_as_recorded(v) for v in value]
    return value


def _id_step(lab: Lab, step: Step) -> Answer:
    ns = lab.env.LAB

    def arg(a: Any) -> Any:
        if isinstance(a, IdString):
            s = getattr(lab.env, a.ns).idFromName(a.name).toString()
            return s.upper() if a.upper else s
        return a

    def describe(i: Any) -> JsDict:
        return JsDict(hex=bool(HEX64.fullmatch(i.toString())), name=i.name,
                      equalsNamed=i.equals(ns.idFromName("alpha")), roundTrip=ns.idFromString(i.toString()).equals(i))

    def go() -> Any:
        args = [arg(a) for a in step.args]
        m = step.method
        if m == "idFromName":
            return describe(ns.idFromName(*args, **step.kwargs))
        if m == "idFromString":
            return describe(ns.idFromString(*args, **step.kwargs))
        if m == "newUniqueId":
            i = ns.newUniqueId(*args, **step.kwargs)
            return JsDict(describe(i), fresh=not i.equals(ns.newUniqueId()))
        if m == "sameName":
            return ns.idFromName(args[0]).equals(ns.idFromName(args[1]))
        if m == "otherNamespace":
            return lab.env.OTHER.idFromName(args[0]).toString() == ns.idFromName(args[0]).toString()
        if m == "getByNameCtx":
            stub = ns.getByName(*args)
            return JsDict(stubName=stub.name, inside=lab.run(stub.ctxId()))
        raise ValueError(f"unknown id method {m}")

    try:
        return Answer(go())
    except Exception as exc:  # noqa: BLE001
        return Answer(error=exc)


def run_case(case: Case) -> list[Answer]:
    """Every step's answer on dolab, on one fresh object in a fresh lab."""
    with Lab(durable_objects={"LAB": ConformanceObject, "OTHER": OtherObject}) as lab:
        base = lab.time_ms
        stub = lab.env.LAB.get(lab.env.LAB.newUniqueId())
        answers = []
        for step in case.steps:
            if step.op == "wait":
                lab.advance(step.ms / 1000)
                answers.append(Answer(None))
            elif step.op == "id":
                answers.append(_id_step(lab, step))
            else:
                async def inside(instance: Any, ctx: Any, step: Step = step) -> Answer:
                    return await perform(instance, step, base, ctx.storage)

                try:
                    answers.append(lab.run(lab.run_in_durable_object(stub, inside)))
                except Exception as exc:  # noqa: BLE001 - the object itself failed
                    answers.append(Answer(error=exc))
        return answers


# ------------------------------------------------------------------------------------------
# Comparison
# ------------------------------------------------------------------------------------------


def _bare(line: str) -> str:
    """``mod.sub.MyError: text`` -> ``MyError: text`` (the last line of a traceback)."""
    head, sep, rest = line.partition(": ")
    return head.rsplit(".", 1)[-1] + sep + rest


def _kind_of_js(name: str) -> str:
    return {"TypeError": "TypeError", "RangeError": "ValueError"}.get(name, "Error")


def _kind_of_py(exc: BaseException) -> str:
    if isinstance(exc, TypeError):
        return "TypeError"
    if isinstance(exc, ValueError):
        return "ValueError"
    return "Error"


def same(expected: Any, actual: Any, tolerance: float = 0.0) -> bool:
    """Type-and-value equality of a modelled workerd value and a dolab value."""
    if isinstance(expected, RelTime):
        return (isinstance(actual, RelTime) and expected.is_int == actual.is_int
                and abs(expected.offset - actual.offset) <= tolerance)
    if isinstance(expected, Answers):
        inner = actual.list if isinstance(actual, Answers) else None
        return (inner is not None and len(inner) == len(expected.list)
                and all(agree(e, a)[0] for e, a in zip(expected.list, inner, strict=True)))
    if isinstance(expected, JsProxyValue):
        if expected.ctor == "Promise":  # the SDK hands back a coroutine
            return hasattr(actual, "__await__")
        return type(actual).__name__ == expected.ctor
    if expected is None or isinstance(expected, bool):
        return actual is expected
    if isinstance(expected, int):
        return type(actual) is int and actual == expected
    if isinstance(expected, float):
        return type(actual) is float and (actual == expected or (math.isnan(expected) and math.isnan(actual)))
    if isinstance(expected, str):
        return isinstance(actual, str) and actual == expected
    if isinstance(expected, memoryview):
        return isinstance(actual, memoryview) and bytes(actual) == bytes(expected)
    if isinstance(expected, list):
        return (isinstance(actual, list) and len(actual) == len(expected)
                and all(same(e, a, tolerance) for e, a in zip(expected, actual, strict=True)))
    if isinstance(expected, dict):
        return (type(actual).__name__ == "JsDict" and list(actual) == list(expected)
                and all(same(expected[k], actual[k], tolerance) for k in expected))
    if isinstance(expected, set):
        return isinstance(actual, set) and actual == expected
    if isinstance(expected, dt.datetime):
        return isinstance(actual, dt.datetime) and actual.tzinfo is None and actual == expected
    if isinstance(expected, Exception):
        return isinstance(actual, Exception) and str(actual) == str(expected)
    raise TypeError(f"cannot compare {expected!r}")


def agree(expected: dict[str, Any], actual: Answer, tolerance: float = 0.0) -> tuple[bool, str]:
    """Whether dolab's answer agrees with workerd's; and workerd's answer as text."""
    if "error" in expected:
        e = expected["error"]
        shown = f"{e['name']}: {e['message']}"
        exc = actual.error
        if exc is None:
            return False, shown
        crossed = isinstance(exc, DurableObjectError)  # a JS error as a Python caller holds it
        if crossed and exc.name != e["name"] or not crossed and _kind_of_js(e["name"]) != _kind_of_py(exc):
            return False, shown
        message = exc.message if crossed else str(exc)
        if e["name"] == "PythonError":
            last = e["message"].rstrip("\n").split("\n")[-1]
            shown = f"PythonError: ...{last}"
            # The class may be printed with its module (``entry.MyError``): compare the bare name.
            text_ok = _bare(message.rstrip("\n").split("\n")[-1]) == _bare(last)
        else:
            text_ok = message == e["message"]
        remote_ok = not e["props"].get("remote") or getattr(exc, "remote", False) is True
        return text_ok and remote_ok, shown
    value = from_js(expected["ok"])
    shown = _show(value)
    if actual.error is not None:
        return False, shown
    return same(value, actual.value, tolerance), shown


def _show(value: Any) -> str:
    if isinstance(value, Answers):
        return "[" + "; ".join(_show_answer(a) for a in value.list) + "]"
    if isinstance(value, Answer):
        return _show_answer(value)
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, dict):
        return type(value).__name__ + "{" + ", ".join(f"{k!r}: {_show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, memoryview):
        return f"memoryview({bytes(value)!r})"
    return repr(value)


def _show_answer(a: Any) -> str:
    if isinstance(a, Answer):
        if a.error is not None:
            flag = " (remote)" if getattr(a.error, "remote", False) else ""
            return f"raises {type(a.error).__name__}: {a.error}{flag}"
        return _show(a.value)
    if "error" in a:
        return f"raises {a['error']['name']}: {a['error']['message']}"
    return _show(from_js(a["ok"]))


@dataclass
class Outcome:
    """One compared op."""

    key: str
    area: str
    step: str
    workerd: str
    dolab: str
    agrees: bool


def compare(cases: list[Case] | None = None) -> list[Outcome]:
    """Every counted op of the catalogue, run on dolab and compared with the recording."""
    expected = load_expected()
    out = []
    for case in cases if cases is not None else catalogue():
        answers = run_case(case)
        for i, (step, answer) in enumerate(zip(case.steps, answers, strict=True)):
            if step.skip:
                continue
            ok, shown = agree(expected[case.id][i], answer, step.tolerance)
            out.append(Outcome(f"{case.id}#{i}", case.area, step.label(), shown, _show_answer(answer), ok))
    return out


def load_known() -> dict[str, str]:
    """The committed known differences: op key -> one-line reason."""
    data: dict[str, str] = json.loads(KNOWN.read_text(encoding="utf-8"))
    return data


def report(outcomes: list[Outcome], show: bool = True) -> str:
    lines = []
    for area in AREAS:
        mine = [o for o in outcomes if o.area == area]
        lines.append(f"{area:6} {sum(o.agrees for o in mine):4}/{len(mine):<4} ops agree")
    lines.append(f"total  {sum(o.agrees for o in outcomes):4}/{len(outcomes):<4} ops agree")
    if show:
        for o in outcomes:
            if not o.agrees:
                lines += [f"\n{o.key}  {o.step}", f"  workerd: {o.workerd[:400]}", f"  dolab:   {o.dolab[:400]}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--summary", action="store_true", help="only the per-area figures")
    parser.add_argument("--write-known", action="store_true",
                        help="write the current disagreements to known_differences.json (keeps existing reasons)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    outcomes = compare()
    print(report(outcomes, show=not args.summary))
    print(f"\n(dolab run: {time.monotonic() - started:.1f} s)", file=sys.stderr)
    if args.write_known:
        known = load_known() if KNOWN.exists() else {}
        new = {o.key: known.get(o.key, "TODO") for o in outcomes if not o.agrees}
        KNOWN.write_text(json.dumps(new, indent=1, ensure_ascii=True) + "\n", encoding="utf-8")
    return 0


assert catalogue_module  # the catalogue module is the single source of truth for cases

if __name__ == "__main__":
    sys.exit(main())
