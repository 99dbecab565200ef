"""What may cross a stub or go into storage, and what comes out on the other side.

On Cloudflare a Python value crosses to JavaScript on the way in (the Python Workers SDK's
``python_to_rpc``: Pyodide's ``to_js``) and back to Python on the way out (``python_from_rpc``:
``to_py``). dolab runs both conversions as one :func:`to_wire`, so a learner sees exactly what a
Python Worker would see:

- ``None``, ``bool`` and ``str`` come back as they were;
- an ``int`` comes back as an ``int`` (beyond 2**53 it travelled as a BigInt);
- a ``float`` that is a whole number (and safe) comes back as an ``int``: ``3.0`` becomes ``3``,
  because JavaScript has one number type and Pyodide gives ``int`` for a safe integer;
- ``bytes`` and ``memoryview`` come back as a ``memoryview`` (a ``Uint8Array``);
- a ``dict`` comes back as a :class:`JsDict` whose keys are strings (``{1: "a"}`` becomes
  ``{"1": "a"}``), with integer-like keys first, as JavaScript orders object properties;
- a ``set`` comes back as a ``set``; a ``datetime`` as a naive UTC ``datetime`` with millisecond
  precision (a JavaScript ``Date``); an exception as ``Exception("Error: message")``;
- ``tuple`` and ``bytearray`` are refused with the SDK's own message; other types by name.

Every value is copied on the way through, so caller and object never share a mutable object.
"""

from __future__ import annotations

import datetime as _dt
import math
from decimal import Decimal
from typing import Any

from dolab.runtime.errors import SerializationError

MAX_SAFE = 2**53 - 1  # Number.isSafeInteger's bound: Pyodide gives int for these
_SCALARS = (type(None), bool, int, str)


class JsDict(dict):  # type: ignore[type-arg]
    """A ``dict`` that also reads keys as attributes, like a JS object seen from Python.

    Dict methods win: ``row.items``, ``row.keys``, ``row.values`` and ``row.get`` are the methods,
    not columns of those names (as with the Python Workers SDK's ``JsDict``).
    """

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class JsError(Exception):
    """An exception after a trip through JavaScript: an ``Error`` whose text is ``"Error: message"``
    (the Python Workers SDK sends ``Error(str(e))`` and reads back ``Exception(error.toString())``)."""


def short(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters with an ellipsis, for error messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def to_wire(value: Any, where: str = "RPC", _depth: int = 0) -> Any:
    """``value`` as the other side of a stub (or storage) receives it: a converted deep copy.

    Raises :class:`SerializationError` (a ``TypeError``) naming the type that cannot be sent.
    """
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is float:
        return number(value)
    if _depth > 200:
        raise SerializationError(f"value nested deeper than 200 levels cannot be sent over {where}.")
    if kind is list:
        return [v if type(v) in _SCALARS else to_wire(v, where, _depth + 1) for v in value]
    if kind is dict or kind is JsDict:
        return js_object((k, v if type(v) in _SCALARS else to_wire(v, where, _depth + 1)) for k, v in value.items())
    if kind is bytes or kind is memoryview:
        return memoryview(bytes(value))
    if kind is set:
        return {to_wire(v, where, _depth + 1) for v in value}
    if isinstance(value, _dt.datetime):
        return js_date(value)
    if type(value) is JsError:
        return value
    if isinstance(value, BaseException):
        return JsError(f"Error: {value}")
    if isinstance(value, (tuple, bytearray)):
        raise SerializationError(f"{type(value)} cannot be sent over {where}.")
    if isinstance(value, dict):  # another mapping subclass: as a plain object
        return to_wire(dict(value), where, _depth)
    # Stubs and ids travel by reference, as capabilities do on Cloudflare.
    if getattr(value, "_dolab_passable", False):
        return value
    if hasattr(value, "__await__"):
        raise SerializationError(f"Awaitable {type(value)} cannot be sent over {where}.")
    raise SerializationError(f"{type(value)} cannot be sent over {where}.")


def number(value: float) -> int | float:
    """A JS number as Pyodide hands it to Python: ``int`` when it is a safe integer."""
    if value.is_integer() and -MAX_SAFE <= value <= MAX_SAFE:
        return int(value)  # -0.0 too: Number.isSafeInteger(-0) holds
    return value


def js_object(items: Any) -> JsDict:
    """``Object.fromEntries``: keys become property names, integer-like names first, ascending."""
    named: dict[str, Any] = {}
    for key, val in items:
        named[key if type(key) is str else js_string(key)] = val
    indices = [k for k in named if _is_index(k)]
    if not indices:
        return JsDict(named)
    ordered = JsDict((k, named[k]) for k in sorted(indices, key=int))
    ordered.update((k, v) for k, v in named.items() if not _is_index(k))
    return ordered


def _is_index(name: str) -> bool:
    return name.isascii() and name.isdigit() and (name == "0" or name[0] != "0") and int(name) < 2**32 - 1


def js_date(value: _dt.datetime) -> _dt.datetime:
    """A ``datetime`` after a trip through a JavaScript ``Date``: UTC, naive, whole milliseconds.

    A naive ``datetime`` is read as local time, which is UTC on Workers.
    """
    aware = value.replace(tzinfo=_dt.UTC) if value.tzinfo is None else value.astimezone(_dt.UTC)
    return aware.replace(tzinfo=None, microsecond=aware.microsecond // 1000 * 1000)


def js_string(value: Any) -> str:
    """``String(x)`` of the JavaScript value that ``value`` becomes: what workerd does with a
    non-string key, a ``list()`` option or an SQL binding it must turn into text."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return js_number_string(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):  # Array.prototype.join: null and undefined become ""
        return ",".join("" if v is None else js_string(v) for v in value)
    if isinstance(value, (bytes, memoryview)):
        return ",".join(str(b) for b in bytes(value))
    if isinstance(value, set):
        return "[object Set]"
    if isinstance(value, dict):
        return "[object Object]"
    if isinstance(value, _dt.datetime):
        d = js_date(value)
        return d.strftime("%a %b %d %Y %H:%M:%S GMT+0000 (Coordinated Universal Time)")
    if isinstance(value, JsError):
        return str(value)
    if isinstance(value, BaseException):
        return f"Error: {value}"
    return str(value)


def js_number_string(x: float) -> str:
    """``Number.prototype.toString()``: the shortest round-trip digits, in JavaScript's format."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    digits, exponent = _shortest(abs(x))
    n = exponent + 1  # the decimal point sits after n digits
    if len(digits) <= n <= 21:
        return sign + digits + "0" * (n - len(digits))
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * -n + digits
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{sign}{mantissa}e{'+' if n - 1 >= 0 else '-'}{abs(n - 1)}"


def _shortest(x: float) -> tuple[str, int]:
    """The shortest digits that round-trip ``x`` (``repr``'s), and the exponent of the first one."""
    sign_, digits, exp = Decimal(repr(x)).normalize().as_tuple()
    text = "".join(map(str, digits))
    return text, len(text) - 1 + int(exp)


def storage_key(key: Any) -> str:
    """A KV key as workerd stores it: ``String(key)``, and a lone surrogate becomes U+FFFD."""
    text = key if type(key) is str else js_string(to_wire(key))
    return text if text.isascii() else utf8(text)


def utf8(text: str) -> str:
    """``text`` as workerd stores it: written as WTF-8 and read back as UTF-8, so each lone
    surrogate becomes three U+FFFD (one per byte of its three-byte encoding)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join("\ufffd" * 3 if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    return text
