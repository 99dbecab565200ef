"""Every error dolab raises on purpose, in one hierarchy.

::

    DolabError                      base of everything below
    ├── DurableObjectError          an error that crossed a stub: .name, .remote, .retryable, ...
    │   └── ResetError              the object was reset (abort, blockConcurrencyWhile failure)
    ├── InvalidIdError (TypeError)  malformed id, or an id of another namespace
    ├── RpcError (TypeError)        a method that is private, missing or not callable over RPC
    ├── StorageError                misuse of ctx.storage (limits, bad options, reset object)
    │   ├── StorageTypeError (TypeError)    wrong type of key, value or option
    │   ├── StorageRangeError (ValueError)  too many keys, too large a value
    │   ├── StorageFailure          a commit that failed (disk full, read-only, I/O error)
    │   └── SqlError                SQL that failed or that Cloudflare refuses
    ├── SerializationError (TypeError)  a value that cannot cross a stub or go into storage
    ├── FetchError (TypeError, ValueError)  a malformed Request, Response or Headers
    └── LabError                    misuse of the lab or of a simulation
        ├── ConfigError (ValueError)      a bad setting: Lab(max_active=0), Workload(users=0)
        └── LabStateError (RuntimeError)  a call at the wrong moment: closed lab, run() inside it

``DurableObjectAbort`` is not in this tree: like the Python Workers SDK's, it derives from
``BaseException`` so that ``except Exception`` in a handler cannot swallow ``ctx.abort()``.

Messages name the value and the rule that was broken. Where Cloudflare has a message of its own,
dolab uses the same words so that a learner can search for it.
"""

from __future__ import annotations

import os
import traceback
from typing import Any


class DolabError(Exception):
    """Base class of all errors raised by dolab.

    Each instance carries the flags Cloudflare puts on errors that cross a stub:
    ``remote`` (raised by the object's own code), ``retryable`` (a transient failure; retrying an
    idempotent call may succeed) and ``overloaded`` (never retry).
    """

    remote: bool = False
    retryable: bool = False
    overloaded: bool = False
    durableObjectReset: bool = False


class DurableObjectError(DolabError):
    """An error that crossed a stub, as a Python Worker receives it: a JavaScript error.

    On Cloudflare no Python exception type survives the trip. The caller gets Pyodide's
    ``JsException`` wrapping a JavaScript error, so ``except ValueError`` does not catch a
    ``ValueError`` raised in the object. What it does carry: ``name`` (``"TypeError"``,
    ``"RangeError"``, ``"Error"``, or ``"PythonError"`` for an exception raised by Python code,
    whose ``message`` is then its traceback and ``type`` its class name), ``message``, and the
    flags ``remote``, ``retryable``, ``overloaded``, ``durableObjectReset``. ``str()`` is
    ``"name: message"``, as JavaScript prints an error. dolab also keeps the original exception
    as ``__cause__``, which Cloudflare does not send, so that a traceback shows where it began.
    """

    def __init__(self, message: str = "", name: str = "Error", type: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.name = name
        self.type = type

    def __str__(self) -> str:
        return f"{self.name}: {self.message}"

    def __reduce__(self) -> Any:
        return (type(self), (self.message, self.name, self.type))


class InvalidIdError(DolabError, TypeError):
    """A Durable Object id that is malformed or belongs to another namespace."""


class RpcError(DolabError, AttributeError, TypeError):
    """A method that cannot be called through a stub."""


class StorageError(DolabError):
    """Misuse of ``ctx.storage``; storage is unchanged when it is raised."""


class StorageTypeError(StorageError, TypeError):
    """A key, value or option of the wrong type."""


class StorageRangeError(StorageError, ValueError):
    """Too many keys, or a key or value over Cloudflare's size limit."""


class StorageFailure(StorageError):
    """A commit (or opening a database file) failed; nothing of the failed transaction is kept."""


class SqlError(StorageError):
    """An SQL statement that failed, or one that Cloudflare does not allow."""


class ResetError(DurableObjectError):
    """The object was reset; in-memory state is gone and uncommitted writes were discarded."""

    durableObjectReset = True


class SerializationError(DolabError, TypeError):
    """A value that cannot be sent over RPC or stored (a tuple, a set, a custom object, ...)."""


class FetchError(DolabError, TypeError, ValueError):
    """A ``Request``, ``Response`` or ``Headers`` built from values the Fetch API refuses (JavaScript
    throws ``TypeError`` for most, ``RangeError`` for a bad status: it is both here)."""


class LabError(DolabError):
    """Misuse of the lab or of a simulation; one of the two kinds below."""


class ConfigError(LabError, ValueError):
    """A setting out of range; the message names the setting, the rule and the value."""


class LabStateError(LabError, RuntimeError):
    """A call made at a moment it cannot work: on a closed lab, from inside the lab, on a closed socket."""


class DurableObjectAbort(BaseException):
    """Raised by ``ctx.abort()``; resets the object. Not an ``Exception``, so it cannot be swallowed."""


#: Failures ``lab.fail_next`` injects, with Cloudflare's own messages and flags.
FAILURES: dict[str, tuple[str, dict[str, bool]]] = {
    "disconnect": ("Network connection lost.", {"retryable": True}),
    "overloaded": ("Durable Object is overloaded. Too many requests queued.", {"overloaded": True}),
}


def mark_remote(exc: BaseException, **flags: Any) -> BaseException:
    """Set Cloudflare's error flags on ``exc`` and return it."""
    exc.remote = flags.get("remote", True)  # type: ignore[attr-defined]
    exc.retryable = flags.get("retryable", False)  # type: ignore[attr-defined]
    exc.overloaded = flags.get("overloaded", False)  # type: ignore[attr-defined]
    if "durableObjectReset" in flags:
        exc.durableObjectReset = flags["durableObjectReset"]  # type: ignore[attr-defined]
    return exc


def js_name(exc: BaseException) -> str:
    """The JavaScript error class a dolab error stands for (its built-in base says which)."""
    if isinstance(exc, DurableObjectError):
        return exc.name
    if isinstance(exc, TypeError):
        return "TypeError"
    if isinstance(exc, ValueError):
        return "RangeError"
    return "Error"


def python_traceback(exc: BaseException) -> str:
    """The traceback text Pyodide puts in a ``PythonError``'s message (without dolab's frames)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f"{os.sep}dolab{os.sep}runtime{os.sep}" not in f.filename]
    lines = ["Traceback (most recent call last):\n", *traceback.format_list(frames),
             *traceback.format_exception_only(type(exc), exc)]
    return "".join(lines)


def remote_copy(exc: BaseException) -> DurableObjectError:
    """The exception as the caller receives it (see :class:`DurableObjectError`): a dolab error
    keeps its JavaScript name and message; any other exception arrives as a ``PythonError``
    whose message is its traceback. Always ``.remote``."""
    copy: DurableObjectError
    if isinstance(exc, DurableObjectError):
        copy = type(exc)(exc.message, exc.name, exc.type)
    elif isinstance(exc, DolabError):
        copy = DurableObjectError(str(exc), js_name(exc))
    else:
        copy = DurableObjectError(python_traceback(exc), "PythonError", type(exc).__name__)
    flags = {k: getattr(exc, k) for k in ("retryable", "overloaded", "durableObjectReset") if hasattr(exc, k)}
    mark_remote(copy, remote=True, **flags)  # it was raised by (or reached through) the object
    # Cloudflare sends no stack trace; we keep the original as the cause so learners can debug.
    copy.__cause__ = exc
    return copy
