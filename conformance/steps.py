"""Steps and cases: the vocabulary of the conformance catalogue.

A :class:`Step` is one operation as a learner would write it in Python (Python values, as
passed to ``self.ctx.storage...``). :func:`wire_step` turns it into what reaches workerd, through
:mod:`conformance.sdk_model`; the dolab runner (:mod:`conformance.run`) performs the Python form
directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.sdk_model import ModelError, to_js

#: Operations that are not counted (recorded and run, never compared): production and local
#: workerd differ there, and the catalogue follows production.
SKIP_LOCAL_LIMITS = "local workerd enforces no key/value/batch size limit; production does"


@dataclass
class Step:
    """One operation. ``op`` says what kind; the other fields are its parts."""

    op: str  # call | kv | sql | databaseSize | transaction | transactionSync | alarmPlan | alarmLog | wait | id | rpc
    method: str = ""
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    query: str = ""
    read: str = "toArray"
    steps: list[Step] = field(default_factory=list)
    end: str = "return"
    fail: int = 0
    ms: int = 0
    # getAlarm-like answers are compared as times after the case's reference time
    time: bool = False
    # ms of slack for a time the runtime takes from its own clock (a past alarm is stored as "now")
    tolerance: float = 0.0
    # rpc "fail": the exception the callee raises
    raises: BaseException | None = None
    skip: str | None = None

    def label(self) -> str:
        """The step as Python source, for reports."""
        a = ", ".join([_r(x) for x in self.args] + [f"{k}={_r(v)}" for k, v in self.kwargs.items()])
        if self.op == "call":
            return f"await storage.{self.method}({a})"
        if self.op == "kv":
            return f"storage.kv.{self.method}({a})"
        if self.op == "sql":
            b = "".join(", " + _r(x) for x in self.args)
            return f"storage.sql.exec({_r(self.query)}{_r(b) if len(b) > 60 else b}) [{self.read}]"
        if self.op == "databaseSize":
            return "storage.sql.databaseSize"
        if self.op in ("transaction", "transactionSync"):
            inner = "; ".join(s.label() for s in self.steps)
            return f"{self.op}({inner}; {self.end})"
        if self.op == "alarmPlan":
            return f"alarm handler: fail first {self.fail} runs; each run: " + "; ".join(s.label() for s in self.steps)
        if self.op == "alarmLog":
            return "alarm handler log"
        if self.op == "wait":
            return f"wait {self.ms} ms"
        if self.op == "id":
            return f"env.LAB.{self.method}({a})"
        if self.op == "rpc":
            if self.method == "fail":
                return f"await other.fail()  # raises {self.raises!r}"
            return f"await other.{self.method}({a})"
        return self.op


def _r(x: Any) -> str:
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class IdString:
    """The ``toString()`` of ``idFromName(name)`` in namespace ``ns`` ("LAB", or "OTHER": another
    class), upper-cased if ``upper``. Symbolic because id strings differ between runtimes."""

    name: str
    ns: str = "LAB"
    upper: bool = False


@dataclass
class Case:
    """Steps run in order on one fresh object."""

    id: str
    area: str
    steps: list[Step]


def call(method: str, *args: Any, time: bool = False, tolerance: float = 0.0, skip: str | None = None,
         **kwargs: Any) -> Step:
    return Step("call", method=method, args=args, kwargs=kwargs, time=time, tolerance=tolerance, skip=skip)


def kv(method: str, *args: Any) -> Step:
    """``ctx.storage.kv.<method>(*args)``: the synchronous KV API."""
    return Step("kv", method=method, args=args)


def sql(query: str, *bindings: Any, read: str = "toArray") -> Step:
    return Step("sql", query=query, args=bindings, read=read)


# ------------------------------------------------------------------------------------------
# Python -> what reaches workerd
# ------------------------------------------------------------------------------------------


def _args(step: Step, implicit: bool) -> list[Any]:
    out = [to_js(a, implicit=implicit) for a in step.args]
    if step.kwargs:
        # Pyodide passes keyword arguments of a JS call as one trailing object, each value
        # converted on its own (the SDK converts each kwarg with python_to_rpc).
        out.append({"$": "object", "entries": [[k, to_js(v, implicit=implicit)] for k, v in step.kwargs.items()]})
    return out


def wire_step(step: Step, in_transaction: bool = False) -> dict[str, Any]:
    """The JSON step for ``worker.mjs``; raises ModelError if the SDK refuses it in Python."""
    w: dict[str, Any] = {"op": step.op}
    if step.time:
        w["time"] = True
    if step.op in ("call", "kv"):
        w["method"] = step.method
        # ctx.storage.kv is wrapped like ctx.storage (a nested _BindingWrapper): python_to_rpc.
        # Inside a transaction() closure the txn object is a raw JsProxy: Pyodide's own conversion.
        w["args"] = _args(step, implicit=in_transaction)
    elif step.op == "sql":
        w["query"] = step.query
        w["bindings"] = [to_js(a) for a in step.args]
        w["read"] = step.read
    elif step.op in ("transaction", "transactionSync"):
        w["steps"] = [wire_step(s, in_transaction=step.op == "transaction") for s in step.steps]
        w["end"] = step.end
    elif step.op == "alarmPlan":
        w["fail"] = step.fail
        w["steps"] = [wire_step(s) for s in step.steps]
    elif step.op == "wait":
        w["ms"] = step.ms
    elif step.op == "id":
        w["method"] = step.method
        # env.NS is the SDK's _DurableObjectNamespaceWrapper: its methods get raw Pyodide conversion.
        w["args"] = [
            {"$": "idstring", "name": a.name, "ns": a.ns, "upper": a.upper} if isinstance(a, IdString)
            else to_js(a, implicit=True)
            for a in step.args
        ]
        if step.kwargs:
            w["args"].append({"$": "object", "entries": [[k, to_js(v, implicit=True)] for k, v in step.kwargs.items()]})
    elif step.op == "rpc":
        w["method"] = step.method
        if step.method == "fail":
            w["error"] = python_error(step.raises)
        else:
            w["args"] = [to_js(a) for a in step.args]
    return w


def python_error(exc: BaseException | None) -> dict[str, Any]:
    """How a Python exception escaping a Python Durable Object looks to JavaScript.

    Pyodide wraps it in a PythonError: name "PythonError", message the formatted traceback
    (whose last line is ``Type: message``), and a ``type`` property with the type's name.
    """
    assert exc is not None
    last = f"{type(exc).__name__}: {exc}"
    return {
        "class": "PythonError",
        "message": f"Traceback (most recent call last):\n  File \"worker.py\", line 1, in fail\n{last}\n",
        "props": {"type": type(exc).__name__},
    }


__all__ = ["Case", "IdString", "ModelError", "SKIP_LOCAL_LIMITS", "Step", "call", "sql", "wire_step"]
