"""The ``txn`` of ``ctx.storage.transaction(closure)``.

On a SQLite-backed object it is the storage itself, plus ``rollback()``. One difference shows:
the Python Workers SDK hands the closure a raw JavaScript object, so its arguments are not
converted by the SDK but by Pyodide alone, where ``None`` becomes ``undefined``:
``txn.put("k", None)`` fails ("put() called with undefined value.") although
``ctx.storage.put("k", None)`` stores a null.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dolab.runtime.errors import StorageError
from dolab.runtime.webidl import MISSING

if TYPE_CHECKING:
    from dolab.runtime.storage import DurableObjectStorage, StorageResult


def _raw(value: Any) -> Any:
    """Pyodide's own conversion of an argument: ``None`` is JavaScript's ``undefined``."""
    return MISSING if value is None else value


class DurableObjectTransaction:
    """The ``txn`` of ``storage.transaction``; on SQLite it is the storage itself plus rollback()."""

    def __init__(self, storage: DurableObjectStorage) -> None:
        self._storage = storage
        self._done = False
        self.rolled_back = False

    def _check(self) -> DurableObjectStorage:
        if self._done:
            raise StorageError("Transaction used after it finished; did you move `txn` outside of the closure?")
        if self.rolled_back:
            raise StorageError("Transaction was rolled back; no further operations are allowed on it.")
        return self._storage

    def get(self, keys: Any = MISSING, options: Any = MISSING, **more: Any) -> StorageResult:
        return self._check().get(_raw(keys), options, **more)

    def list(self, options: Any = MISSING, **more: Any) -> StorageResult:
        return self._check().list(options, **more)

    def put(self, key: Any = MISSING, value: Any = MISSING, options: Any = MISSING, **more: Any) -> StorageResult:
        return self._check().put(_raw(key), _raw(value), options, **more)

    def delete(self, keys: Any = MISSING, options: Any = MISSING, **more: Any) -> StorageResult:
        return self._check().delete(_raw(keys), options, **more)

    def deleteAll(self, options: Any = MISSING, **more: Any) -> StorageResult:
        raise StorageError("Cannot call deleteAll() within a transaction")

    def getAlarm(self, options: Any = MISSING, **more: Any) -> StorageResult:
        return self._check().getAlarm(options, **more)

    def setAlarm(self, when: Any = MISSING, options: Any = MISSING, **more: Any) -> StorageResult:
        return self._check().setAlarm(_raw(when), options, **more)

    def deleteAlarm(self, options: Any = MISSING, **more: Any) -> StorageResult:
        return self._check().deleteAlarm(options, **more)

    def rollback(self) -> None:
        """Discard this transaction's writes when the closure returns."""
        self._check()
        self.rolled_back = True
