"""A model of how the Python Workers SDK (``workers-runtime-sdk`` 1.9.5) converts values.

Two directions, each written from the SDK's source and Pyodide's conversion rules:

* :func:`to_js` is ``workers.rpc.python_to_rpc`` (what ``ctx.storage.<method>(...)`` and stub
  calls do to each argument): ``_replace_none_with_jsnull`` then ``_raise_on_disabled_type`` then
  ``pyodide.ffi.to_js(value, default_converter=..., dict_converter=Object.fromEntries)``.
  With ``implicit=True`` it is Pyodide's plain call conversion instead (no SDK wrapper in
  between), used where the SDK hands raw JS objects to Python: namespace methods
  (``env.NS.idFromName``), and the transaction object passed to a ``transaction()`` closure.
* :func:`from_js` is ``workers.rpc.python_from_rpc`` (what each result goes through):
  ``JsProxy.to_py(default_converter=...)`` then ``_replace_jsnull_with_none`` (every dict becomes
  a ``JsDict``).

JS values are handled in the tagged JSON form that ``conformance/worker.mjs`` reads and writes.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

#: Pyodide turns exactly the safe integers into JS numbers; larger ints become BigInt.
MAX_SAFE = 2**53 - 1


class ModelError(Exception):
    """The SDK refuses the value in Python, before anything reaches JavaScript."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


class Unsupported(Exception):
    """The value cannot be expressed in the model (the catalogue must not use it)."""


@dataclass(frozen=True)
class Now:
    """A time in ms since the epoch, ``offset`` ms after the case's reference time.

    A learner would write ``Date.now() + offset``; the case's reference time makes recorded
    answers independent of when they were recorded.
    """

    offset: float


@dataclass(frozen=True)
class DateNow:
    """A ``datetime`` ``offset`` ms after the case's reference time."""

    offset: float


@dataclass(frozen=True)
class RelTime:
    """A time read back (``getAlarm()``), as ms after the case's reference time.

    ``is_int`` says whether the Python value was an ``int`` (Pyodide gives ``int`` for a JS
    number that is a safe integer, as a millisecond timestamp is).
    """

    offset: float
    is_int: bool


@dataclass(frozen=True)
class Answers:
    """The answers of inner steps (in a transaction, or in one run of the alarm handler)."""

    list: list[Any]


@dataclass(frozen=True)
class JsProxyValue:
    """A JS object that reaches Python unconverted (a ``JsProxy``); only its class is compared."""

    ctor: str


def _tag(tag: str, **fields: Any) -> dict[str, Any]:
    return {"$": tag, **fields}


def _number(value: float) -> Any:
    if math.isnan(value):
        return _tag("NaN")
    if math.isinf(value):
        return _tag("Infinity" if value > 0 else "-Infinity")
    if value == 0 and math.copysign(1.0, value) < 0:
        return _tag("-0")
    return _tag("float", v=value)


def _int(value: int) -> Any:
    if -MAX_SAFE <= value <= MAX_SAFE:
        return value
    return _tag("bigint", v=str(value))


def _disabled(value: Any) -> None:
    """``_raise_on_disabled_type``: tuples and bytearrays anywhere inside are refused."""
    if isinstance(value, (tuple, bytearray)):
        raise ModelError("TypeError", f"{type(value)} cannot be sent over RPC.")
    if isinstance(value, dict):
        for v in value.values():
            _disabled(v)
    elif isinstance(value, (list, set, frozenset)):
        for v in value:
            _disabled(v)


def to_js(value: Any, *, implicit: bool = False, top: bool = True) -> Any:
    """The JS value (tagged JSON) that a Python argument becomes."""
    if top and not implicit:
        _disabled(value)
    if value is None:
        # python_to_rpc replaces None with jsnull everywhere; Pyodide's own conversion gives
        # undefined.
        return _tag("undefined") if implicit else None
    if isinstance(value, Now):
        return _tag("now", offset=value.offset)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return _int(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) <= MAX_SAFE and not (value == 0 and math.copysign(1, value) < 0):
            return int(value)
        return _number(value)
    if isinstance(value, str):
        return value
    if implicit:
        # Anything else would cross as a PyProxy, which no JS API here can store.
        raise Unsupported(f"implicit conversion of {type(value).__name__}")
    if isinstance(value, DateNow):
        return _tag("datenow", offset=value.offset)
    if isinstance(value, list):
        return [to_js(v, top=False) for v in value]
    if isinstance(value, dict):
        # dict_converter=Object.fromEntries: keys are converted like values, then become
        # property names (String(key)); JS puts integer-like names first, ascending.
        entries: list[list[Any]] = []
        seen: dict[str, int] = {}
        for k, v in value.items():
            name = _property_name(k)
            if name in seen:
                entries[seen[name]][1] = to_js(v, top=False)
            else:
                seen[name] = len(entries)
                entries.append([name, to_js(v, top=False)])
        index_like = sorted((e for e in entries if _is_index(e[0])), key=lambda e: int(e[0]))
        return _tag("object", entries=index_like + [e for e in entries if not _is_index(e[0])])
    if isinstance(value, (set, frozenset)):
        return _tag("set", values=[to_js(v, top=False) for v in value])
    if isinstance(value, (bytes, memoryview)):
        # A buffer becomes a TypedArray of its format: bytes -> Uint8Array.
        return _tag("bytes", type="Uint8Array", hex=bytes(value).hex())
    if isinstance(value, dt.datetime):
        # default converter: js.Date.new(obj.timestamp() * 1000); a naive datetime is local
        # time, which is UTC on Workers.
        stamp = value.replace(tzinfo=dt.UTC).timestamp() if value.tzinfo is None else value.timestamp()
        return _tag("date", v=stamp * 1000)
    if isinstance(value, BaseException):
        return _tag("error", **{"class": "Error"}, message=str(value), props={})
    raise Unsupported(f"no model for {type(value).__name__}")


def _property_name(key: Any) -> str:
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int):
        return str(key)
    if isinstance(key, float):
        return _js_number_string(key)
    if isinstance(key, str):
        return key
    raise Unsupported(f"dict key of type {type(key).__name__}")


def _js_number_string(x: float) -> str:
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x.is_integer() and abs(x) < 1e21:
        return str(int(x))
    return repr(x)


def _is_index(name: str) -> bool:
    return name.isdigit() and (name == "0" or not name.startswith("0")) and int(name) < 2**32 - 1


def from_js(value: Any) -> Any:
    """The Python value that a JS result (tagged JSON) becomes."""
    if value is None:
        return None
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value  # the encoder leaves only safe integers untagged
    if isinstance(value, float):
        return value
    if isinstance(value, list):
        return [from_js(v) for v in value]
    tag = value.get("$")
    if tag == "undefined":
        return None
    if tag == "time":
        return RelTime(value["offset"], value["int"])
    if tag == "answers":
        return Answers(value["list"])
    if tag == "NaN":
        return math.nan
    if tag == "Infinity":
        return math.inf
    if tag == "-Infinity":
        return -math.inf
    if tag == "-0":
        return 0  # Number.isSafeInteger(-0) holds, so Pyodide gives int 0
    if tag == "float":
        return float(value["v"])
    if tag == "bigint":
        return int(value["v"])
    if tag == "bytes":
        return memoryview(bytes.fromhex(value["hex"]))  # to_py copies any buffer into a memoryview
    if tag in ("object", "map"):
        from dolab import JsDict  # the SDK's JsDict and dolab's behave alike; compared by name

        return JsDict({from_js(k) if tag == "map" else k: from_js(v) for k, v in value["entries"]})
    if tag == "set":
        return {from_js(v) for v in value["values"]}
    if tag == "date":
        # default converter: datetime.fromtimestamp(ms / 1000), naive, in the Worker's local
        # time zone (UTC).
        return dt.datetime.fromtimestamp(value["v"] / 1000, dt.UTC).replace(tzinfo=None)
    if tag == "error":
        return Exception(f"{value['name']}: {value['message']}")  # Exception(value.toString())
    if tag == "instance":
        return JsProxyValue(value["ctor"])
    if tag == "function":
        return JsProxyValue("Function")
    raise Unsupported(f"unknown tag {tag!r}")

