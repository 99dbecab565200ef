"""``SqlStorageCursor``: the rows of one ``sql.exec`` call, as a Python Worker receives them.

SQLite's values cross to JavaScript and back (as on Cloudflare): an INTEGER or a REAL that is a
whole number arrives as ``int`` while it is a safe integer (beyond 2**53 an INTEGER arrives as a
``float``, its precision lost); a BLOB arrives as a ``memoryview``; rows are :class:`JsDict`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dolab.runtime.errors import SqlError
from dolab.runtime.rowcount import lazy_reads
from dolab.runtime.values import MAX_SAFE, JsDict


def from_sqlite(value: Any) -> Any:
    """One column value as a Python Worker sees it (a JS number, string, ArrayBuffer or null)."""
    kind = type(value)
    if kind is int:
        return value if -MAX_SAFE <= value <= MAX_SAFE else float(value)
    if kind is float:
        return int(value) if value.is_integer() and -MAX_SAFE <= value <= MAX_SAFE else value
    if kind is bytes:
        return memoryview(value)
    return value


class SqlStorageCursor:
    """The result of ``sql.exec``: iterate rows, or use ``toArray()``, ``one()``, ``raw()``.

    ``rowsRead`` and ``rowsWritten`` are what Cloudflare bills for this statement.
    """

    def __init__(self, columns: list[str], rows: list[tuple[Any, ...]], read: int, written: int) -> None:
        self.columnNames = columns
        self._rows = rows
        self._pos = 0
        self._read = read
        self.rowsWritten = written

    @property
    def rowsRead(self) -> int:
        """Rows read so far: it grows as you read the cursor (its final value is billed)."""
        return lazy_reads(self._read, len(self._rows), self._pos, self._pos >= len(self._rows))

    def _take_raw(self) -> list[Any] | None:
        if self._pos >= len(self._rows):
            return None
        row = self._rows[self._pos]
        self._pos += 1
        return [from_sqlite(v) for v in row]

    def _as_dict(self, raw: list[Any]) -> JsDict:
        return JsDict(zip(self.columnNames, raw, strict=True))

    def __iter__(self) -> Iterator[JsDict]:
        return self

    def __next__(self) -> JsDict:
        raw = self._take_raw()
        if raw is None:
            raise StopIteration
        return self._as_dict(raw)

    def next(self) -> JsDict:
        """JS-style step: ``{"done": bool, "value": row}``."""
        raw = self._take_raw()
        if raw is None:
            return JsDict(done=True, value=None)
        return JsDict(done=False, value=self._as_dict(raw))

    def toArray(self) -> list[JsDict]:
        """All remaining rows."""
        return list(self)

    def one(self) -> JsDict:
        """Exactly one row; anything else is an error."""
        remaining = len(self._rows) - self._pos
        if remaining == 0:
            raise SqlError("Expected exactly one result from SQL query, but got no results.")
        if remaining > 1:
            raise SqlError("Expected exactly one result from SQL query, but got multiple results.")
        return next(self)

    def raw(self) -> RawIterator:
        """Rows as lists of values; shares its position with this cursor."""
        return RawIterator(self)

    def __repr__(self) -> str:
        return f"<SqlStorageCursor columns={self.columnNames} rows={len(self._rows) - self._pos} left>"


class RawIterator:
    """``cursor.raw()``: the same rows as lists, sharing the cursor's position."""

    def __init__(self, cursor: SqlStorageCursor) -> None:
        self._cursor = cursor

    def __iter__(self) -> RawIterator:
        return self

    def __next__(self) -> list[Any]:
        raw = self._cursor._take_raw()
        if raw is None:
            raise StopIteration
        return raw

    def next(self) -> JsDict:
        """JS-style step: ``{"done": bool, "value": row}``."""
        raw = self._cursor._take_raw()
        return JsDict(done=raw is None, value=raw)

    def toArray(self) -> list[list[Any]]:
        return list(self)

    @property
    def columnNames(self) -> list[str]:
        return self._cursor.columnNames

    @property
    def rowsRead(self) -> int:
        return self._cursor.rowsRead

    @property
    def rowsWritten(self) -> int:
        return self._cursor.rowsWritten
