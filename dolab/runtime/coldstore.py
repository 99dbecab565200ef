"""Where cold objects rest in memory mode: a dict, spilling to one scratch SQLite file when large.

A namespace keeps one entry per cold object (its state letter and compressed database image) and
one name per named object. A few hundred bytes each, but a million small ``bytes`` kept among the
short-lived allocations of a million activations pin the allocator's pages: the process grew
~2.6 KB per cold object, five times what the entries hold. So past ``spill_at`` entries the oldest
half moves to a table in one scratch SQLite file (in the system's temporary folder, deleted when
the lab closes), outside the Python heap, and a lookup that misses the dict asks the table.

The file is a cache of what is in memory, not storage: it is opened without a journal or syncs,
like the in-memory databases it holds (persist mode never uses it: its objects are files).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
import weakref
from collections.abc import Iterator, MutableMapping
from typing import Any

SPILL_AT = 50_000  # entries kept in the dict before the oldest half moves to the file
_MASK = (1 << 24) - 1  # Bloom filter bits of the keys in the file: ~0.5 % false hits at 1M keys


class ColdStore(MutableMapping[bytes, bytes]):
    """A ``dict[bytes, bytes]`` whose oldest entries live in a scratch SQLite file once it is large."""

    def __init__(self, spill_at: int = SPILL_AT) -> None:
        self.recent: dict[bytes, bytes] = {}
        self.spill_at = spill_at
        self._disk: sqlite3.Connection | None = None
        self._path: str | None = None
        self._on_disk = 0
        self._bloom = bytearray(0)  # 2**24 bits once something is spilled (2 MiB)
        self._finalizer: Any = None  # a weakref.finalize once the file exists

    # -- the mapping ---------------------------------------------------------------------------

    def __getitem__(self, key: bytes) -> bytes:
        value = self.recent.get(key)
        if value is not None:
            return value
        if self._maybe_on_disk(key):
            assert self._disk is not None
            row = self._disk.execute("SELECT v FROM cold WHERE k = ?", (key,)).fetchone()
            if row is not None:
                return bytes(row[0])
        raise KeyError(key)

    def __setitem__(self, key: bytes, value: bytes) -> None:
        if key not in self.recent:
            self._delete_on_disk(key)
        self.set_absent(key, value)

    def set_absent(self, key: bytes, value: bytes) -> None:
        """``self[key] = value`` for a key the caller knows is not stored (it has just popped it):
        no query to make sure the file holds no older entry."""
        self.recent[key] = value
        if len(self.recent) > self.spill_at:
            self._spill()

    def __delitem__(self, key: bytes) -> None:
        if self.recent.pop(key, None) is None and not self._delete_on_disk(key):
            raise KeyError(key)

    def pop(self, key: bytes, default: bytes | None = None) -> bytes | None:  # type: ignore[override]
        """The entry of ``key``, taken out (``default`` if there is none): one query if on disk."""
        value = self.recent.pop(key, None)
        if value is not None:
            return value
        if self._maybe_on_disk(key):
            assert self._disk is not None
            row = self._disk.execute("DELETE FROM cold WHERE k = ? RETURNING v", (key,)).fetchone()
            if row is not None:
                self._on_disk -= 1
                return bytes(row[0])
        return default

    def __contains__(self, key: object) -> bool:
        if key in self.recent:
            return True
        if not isinstance(key, bytes) or not self._maybe_on_disk(key):
            return False
        assert self._disk is not None
        return self._disk.execute("SELECT 1 FROM cold WHERE k = ?", (key,)).fetchone() is not None

    def __len__(self) -> int:
        return len(self.recent) + self._on_disk

    def __iter__(self) -> Iterator[bytes]:
        yield from list(self.recent)
        if self._on_disk:
            assert self._disk is not None
            for (key,) in self._disk.execute("SELECT k FROM cold").fetchall():
                yield bytes(key)

    def items(self) -> Iterator[tuple[bytes, bytes]]:  # type: ignore[override]
        """Every entry, the file's read in one pass (not one query per key)."""
        yield from list(self.recent.items())
        if self._on_disk:
            assert self._disk is not None
            for key, value in self._disk.execute("SELECT k, v FROM cold"):
                yield bytes(key), bytes(value)

    def values(self) -> Iterator[bytes]:  # type: ignore[override]
        for _, value in self.items():
            yield value

    # -- the file ----------------------------------------------------------------------------------

    def _spill(self) -> None:
        if self._disk is None:
            fd, self._path = tempfile.mkstemp(prefix="dolab-cold-", suffix=".sqlite")
            os.close(fd)
            self._disk = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            # A scratch cache of in-memory state: no journal, no syncs, a small page cache.
            self._disk.execute("PRAGMA journal_mode = OFF")
            self._disk.execute("PRAGMA synchronous = OFF")
            self._disk.execute("PRAGMA cache_size = -8192")
            self._disk.execute("CREATE TABLE cold (k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID")
            self._finalizer = weakref.finalize(self, _remove, self._disk, self._path)
            self._bloom = bytearray((_MASK + 1) >> 3)
        half = len(self.recent) // 2
        moving = []
        for key in self.recent:  # oldest first: a dict keeps insertion order
            moving.append(key)
            if len(moving) >= half:
                break
        self._disk.executemany("INSERT OR REPLACE INTO cold (k, v) VALUES (?, ?)",
                               ((key, self.recent.pop(key)) for key in moving))
        for key in moving:
            self._remember_on_disk(key)
        self._on_disk += len(moving)

    def _maybe_on_disk(self, key: bytes) -> bool:
        """False if ``key`` is surely not in the file (a Bloom filter: most lookups of keys that were
        never spilled, such as a new object's id, need no query)."""
        if not self._on_disk:
            return False
        h = hash(key)
        bits = self._bloom
        return bool(bits[(h & _MASK) >> 3] & (1 << (h & 7))
                    and bits[((h >> 21) & _MASK) >> 3] & (1 << ((h >> 21) & 7))
                    and bits[((h >> 42) & _MASK) >> 3] & (1 << ((h >> 42) & 7)))

    def _remember_on_disk(self, key: bytes) -> None:
        h = hash(key)
        bits = self._bloom
        for part in (h, h >> 21, h >> 42):
            bits[(part & _MASK) >> 3] |= 1 << (part & 7)

    def _delete_on_disk(self, key: bytes) -> bool:
        if not self._maybe_on_disk(key):
            return False
        assert self._disk is not None
        gone = self._disk.execute("DELETE FROM cold WHERE k = ?", (key,)).rowcount > 0
        self._on_disk -= gone
        return gone

    def close(self) -> None:
        """Delete the file (the entries it held go with it)."""
        if self._finalizer is not None:
            self._finalizer()
        self._disk = self._path = self._finalizer = None
        self._on_disk = 0


def _remove(conn: sqlite3.Connection, path: str) -> None:
    """The file goes when its store does, or when the process exits (whichever comes first)."""
    conn.close()
    with contextlib.suppress(OSError):
        os.remove(path)
