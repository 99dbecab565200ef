"""How workerd reads the arguments of ``ctx.storage`` methods: WebIDL's conversions, in Python.

A Python Worker's arguments cross to JavaScript first (see :mod:`dolab.runtime.values`), then
workerd converts them as its WebIDL declarations say: a key that is not a string becomes
``String(key)``; an options dictionary may be ``None`` or any object, and names it does not
know are ignored; a number option goes through ``Number()``; a flag through ``Boolean()``. What
cannot be converted fails with V8's own words ("Failed to execute 'get' on
'DurableObjectStorage': parameter 2 is not of type 'GetOptions'."), so a learner can search them.
"""

from __future__ import annotations

import math
from typing import Any

from dolab.runtime.errors import StorageTypeError
from dolab.runtime.values import MAX_SAFE, js_string, storage_key, to_wire

#: An argument left out (JavaScript's ``undefined``), told apart from ``None`` (``null``).
MISSING: Any = object()

#: What each method calls its options dictionary in workerd's declarations.
OPTION_TYPES = {
    "get": "GetOptions", "list": "ListOptions", "put": "PutOptions", "delete": "PutOptions",
    "deleteAll": "PutOptions", "setAlarm": "SetAlarmOptions", "getAlarm": "GetAlarmOptions",
    "deleteAlarm": "SetAlarmOptions",
}


def not_of_type(method: str, position: int, kind: str, interface: str = "DurableObjectStorage") -> StorageTypeError:
    return StorageTypeError(
        f"Failed to execute '{method}' on '{interface}': parameter {position} is not of type '{kind}'."
    )


def options(value: Any, kwargs: dict[str, Any], method: str, position: int) -> dict[str, Any]:
    """The options dictionary: ``None`` or a dict. Pyodide passes a Python call's keywords as one
    more argument after the positional ones, so they are the options only when no options
    dictionary was given (``list({"prefix": "a"}, limit=1)`` ignores the ``limit``)."""
    if value is MISSING:
        return dict(kwargs)
    if value is None:
        merged: dict[str, Any] = {}
    elif isinstance(value, dict):
        merged = dict(value)
    elif isinstance(value, (list, set, bytes, memoryview)) or callable(value):
        merged = {}  # any JavaScript object converts to a dictionary (its unknown names ignored)
    else:
        raise not_of_type(method, position, OPTION_TYPES[method])
    return merged


def key(value: Any) -> str:
    """A key as workerd stores it: ``String(key)`` for a non-string; a lone surrogate becomes
    three U+FFFD (workerd writes it as WTF-8 and reads it back as UTF-8)."""
    if type(value) is str and value.isascii():  # the common case: nothing to convert
        return value
    return storage_key(value)


def string_option(value: Any) -> str:
    return key(value)


def list_limit(value: Any) -> int:
    """``limit`` as workerd reads it: ``Number(value)``, truncated; it must end up positive."""
    if type(value) is int and not -MAX_SAFE <= value <= MAX_SAFE:
        raise StorageTypeError("Cannot convert a BigInt value to a number")
    number = js_number(to_wire(value))
    if math.isnan(number) or math.isinf(number) or int(number) <= 0:
        raise StorageTypeError("List limit must be positive.")
    return int(number)


def js_number(value: Any) -> float:
    """JavaScript's ``Number(value)`` for the values a Python Worker can pass."""
    if value is None:
        return 0.0
    if isinstance(value, (bool, int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return 0.0
        try:
            return float(int(text, 0)) if text.lower().startswith(("0x", "0o", "0b")) else float(text)
        except ValueError:
            return math.nan
    if isinstance(value, list):  # [2] -> "2" -> 2; [] -> "" -> 0; [1, 2] -> "1,2" -> NaN
        return js_number(js_string(value))
    return math.nan


def truthy(value: Any) -> bool:
    """JavaScript's ``Boolean(value)``: 0, "", null, NaN are false; every object is true."""
    if isinstance(value, (list, dict, set, bytes, memoryview)):
        return True
    return bool(value) and value == value
