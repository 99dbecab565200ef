"""The persist folder belongs to one lab at a time.

Two labs writing the same object files lose updates: each keeps its own open database and its
own idea of what is cold. So a lab that persists takes a lock on its folder:

- in another process, a second lab on the same folder gets a clear error (the lock is an OS
  file lock from the ``filelock`` library, released when the lab closes or its process dies);
- in the same process (a notebook cell that creates ``Lab(persist=...)`` run twice), the new lab
  takes over: the earlier one is closed first, which commits everything it holds, and a
  warning says so. Its stubs then raise "this lab is closed" instead of writing behind the new
  lab's back.

The folder also keeps the lab's clock (``.dolab-clock``): a lab that closes writes where its
clock stood, and the next lab on the folder starts from there, so time never runs backwards
for stored data (timestamps, alarms), as it never does on Cloudflare. After a crash the clock
resumes from the last clean close.
"""

from __future__ import annotations

import json
import math
import os
import warnings
import weakref
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock, Timeout

from dolab.runtime.errors import LabStateError

LOCK_NAME = ".dolab.lock"
CLOCK_NAME = ".dolab-clock"

# folder -> a function that closes the lab holding it (weakly held: a collected lab frees it)
_holders: dict[Path, weakref.WeakMethod[Callable[[], None]]] = {}


class FolderLock:
    """The lock one lab holds on its persist folder (see the module docstring)."""

    def __init__(self, folder: Path, close_owner: Callable[[], None]) -> None:
        self.folder = folder
        earlier = _holders.get(folder)
        close_earlier = earlier() if earlier is not None else None
        if close_earlier is not None:
            warnings.warn(
                f"closed the earlier Lab on {folder} (everything it held is committed); its stubs now "
                "raise LabStateError. One lab per persist folder at a time.",
                RuntimeWarning, stacklevel=4,
            )
            close_earlier()
        self._lock = FileLock(folder / LOCK_NAME)
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            raise LabStateError(
                f"persist folder {folder} is in use by a Lab in another process; close that lab "
                "(lab.close() or restart its kernel) or choose another folder"
            ) from None
        _holders[folder] = weakref.WeakMethod(close_owner)  # type: ignore[arg-type]

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release()
        _holders.pop(self.folder, None)

    def saved_clock(self) -> float:
        """Where the clock of the last lab closed on this folder stood (0 if none, or unreadable)."""
        try:
            now = json.loads((self.folder / CLOCK_NAME).read_text(encoding="utf-8"))["now"]
        except (OSError, ValueError, KeyError, TypeError):
            return 0.0
        ok = isinstance(now, (int, float)) and not isinstance(now, bool) and math.isfinite(now) and now >= 0
        return float(now) if ok else 0.0

    def save_clock(self, now: float) -> None:
        """Keep ``now`` for the next lab (written whole, then renamed: a crash leaves the old one)."""
        path = self.folder / CLOCK_NAME
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps({"now": now}) + "\n", encoding="utf-8")
        os.replace(temporary, path)
