"""The persist folder belongs to one lab at a time.

Two labs writing the same object files lose updates: each keeps its own open database and its
own idea of what is cold. So a lab that persists takes a lock on its folder:

- in another process, a second lab on the same folder gets a clear error (the lock is an OS
  file lock from the ``filelock`` library, released when the lab closes or its process dies);
- in the same process (a notebook cell that creates ``Lab(persist=...)`` run twice), the new lab
  takes over: the earlier one is closed first, which commits everything it holds, and a
  warning says so. Its stubs then raise "this lab is closed" instead of writing behind the new
  lab's back.
"""

from __future__ import annotations

import warnings
import weakref
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock, Timeout

from dolab.runtime.errors import LabStateError

LOCK_NAME = ".dolab.lock"

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
