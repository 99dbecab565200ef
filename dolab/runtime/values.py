"""What may cross a stub or go into storage, and how it is copied.

The rules are the Python Workers SDK's (``python_to_rpc`` / ``python_from_rpc``), reduced to the
types a learner meets: ``None``, ``bool``, ``int``, ``float``, ``str``, ``bytes``, ``list``,
``dict`` with ``str`` keys, ``datetime``, and a stub. Dicts come out as :class:`JsDict`, which
also allows attribute access (``row.count``), as a JS object does in Pyodide. ``tuple`` and
``bytearray`` are refused with the SDK's own message; other types are refused by name.

Every value is copied on the way through, so caller and object never share a mutable object.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from dolab.runtime.errors import SerializationError

_SCALARS = (type(None), bool, int, float, str, bytes)


class JsDict(dict):  # type: ignore[type-arg]
    """A ``dict`` that also reads keys as attributes, like a JS object seen from Python."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def to_storable(value: Any) -> Any:
    """Like :func:`to_wire`, but with plain dicts: they pickle five times faster than JsDict."""
    return to_wire(value, "RPC", 0, dict)


def as_js(value: Any) -> Any:
    """Dicts (at any depth) as :class:`JsDict`, in place of plain ones; what storage reads return."""
    kind = type(value)
    if kind is dict:
        return JsDict((k, as_js(v)) for k, v in value.items())
    if kind is list:
        return [as_js(v) for v in value]
    return value


def short(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters with an ellipsis, for error messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def to_wire(value: Any, where: str = "RPC", _depth: int = 0, _dict: type[dict] = JsDict) -> Any:  # type: ignore[type-arg]
    """Validate ``value`` and return a deep copy of it, dicts as :class:`JsDict`.

    Raises :class:`SerializationError` (a ``TypeError``) naming the type of the first value that cannot be sent.
    """
    kind = type(value)
    if kind in _SCALARS:
        return value
    if _depth > 200:
        raise SerializationError(f"value nested deeper than 200 levels cannot be sent over {where}.")
    if kind is list:
        return [v if type(v) in _SCALARS else to_wire(v, where, _depth + 1, _dict) for v in value]
    if kind is dict or kind is JsDict:
        out = _dict()
        for k, v in value.items():
            if type(k) is not str:
                raise SerializationError(
                    f"dict key {short(k)} of type {type(k).__name__} cannot be sent over {where}: "
                    "keys become JS object properties and must be str."
                )
            out[k] = v if type(v) in _SCALARS else to_wire(v, where, _depth + 1, _dict)
        return out
    if kind is _dt.datetime:
        return value
    if isinstance(value, (tuple, bytearray)):
        raise SerializationError(f"{type(value)} cannot be sent over {where}.")
    # Stubs and ids travel by reference, as capabilities do on Cloudflare.
    if getattr(value, "_dolab_passable", False):
        return value
    if hasattr(value, "__await__"):
        raise SerializationError(f"Awaitable {type(value)} cannot be sent over {where}.")
    raise SerializationError(f"{type(value)} cannot be sent over {where}.")
