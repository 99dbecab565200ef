"""``ctx.storage.kv``: the synchronous KV API of SQLite-backed objects.

The same keys and values as the asynchronous API (``ctx.storage.get/put/delete/list``; one hidden
table holds both), without ``await``: like ``sql.exec``, each call does its work at once and never
yields, so code that uses only synchronous storage runs atomically without needing the input
gate. Signatures follow workerd's ``SyncKvStorage`` (``api/sync-kv.h``): one key at a time for
``get``, ``put`` and ``delete``; ``list(options)`` gives ``[key, value]`` pairs lazily, in the
same order and with the same options as the asynchronous ``list``. As with every storage call
from Python, the Python Workers SDK converts values both ways.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from dolab.runtime import webidl
from dolab.runtime.values import js_string
from dolab.runtime.webidl import MISSING

if TYPE_CHECKING:
    from dolab.runtime.storage import DurableObjectStorage


INTERFACE = "SyncKvStorage"


class SyncKvStorage:
    """``ctx.storage.kv`` (see the module docstring)."""

    def __init__(self, storage: DurableObjectStorage) -> None:
        self._storage = storage

    def get(self, key: Any = MISSING) -> Any:
        """The value stored under ``key``, or ``None``."""
        return self._storage.get(self._key(key, "get"))._value

    def put(self, key: Any = MISSING, value: Any = MISSING) -> None:
        """Store ``value`` under ``key`` (key + value at most 2 MB)."""
        checked = self._key(key, "put")
        if value is MISSING:
            raise webidl.not_of_type("put", 2, "JsValue", INTERFACE)
        self._storage.put(checked, value)

    def delete(self, key: Any = MISSING) -> bool:
        """``True`` if ``key`` existed."""
        return bool(self._storage.delete(self._key(key, "delete"))._value)

    @staticmethod
    def _key(key: Any, method: str) -> str:
        # One key, always: workerd reads the argument as a string, so a list ["a", "b"] is the
        # key "a,b" (JavaScript's String()), not several keys as in the asynchronous API.
        if key is MISSING:
            raise webidl.not_of_type(method, 1, "string", INTERFACE)
        return webidl.key(js_string(key) if isinstance(key, (list, dict)) else key)

    def list(self, options: Any = MISSING, **more: Any) -> Iterator[list[Any]]:
        """``[key, value]`` pairs, with the options of the asynchronous ``list``."""
        pairs = self._storage.list(options, **more)._value
        return iter([[key, value] for key, value in pairs.items()])

    def __repr__(self) -> str:
        return "<SyncKvStorage>"
