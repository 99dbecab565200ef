"""Every error dolab raises on purpose, in one hierarchy.

::

    DolabError                      base of everything below
    ├── DurableObjectError          an error that crossed a stub: .remote/.retryable/.overloaded
    ├── InvalidIdError (TypeError)  malformed id, or an id of another namespace
    ├── RpcError (TypeError)        a method that is private, missing or not callable over RPC
    ├── StorageError                misuse of ctx.storage (limits, bad options, reset object)
    │   ├── StorageTypeError (TypeError)    wrong type of key, value or option
    │   ├── StorageRangeError (ValueError)  too many keys, too large a value
    │   └── SqlError                SQL that failed or that Cloudflare refuses
    ├── SerializationError (TypeError)  a value that cannot cross a stub or go into storage
    ├── FetchError (TypeError, ValueError)  a malformed Request, Response or Headers
    ├── ResetError                  the object was reset (abort, blockConcurrencyWhile failure)
    └── LabError                    misuse of the lab or of a simulation
        ├── ConfigError (ValueError)      a bad setting: Lab(max_active=0), Workload(users=0)
        └── LabStateError (RuntimeError)  a call at the wrong moment: closed lab, run() inside it

``DurableObjectAbort`` is not in this tree: like the Python Workers SDK's, it derives from
``BaseException`` so that ``except Exception`` in a handler cannot swallow ``ctx.abort()``.

Messages name the value and the rule that was broken. Where Cloudflare has a message of its own,
dolab uses the same words so that a learner can search for it.
"""

from __future__ import annotations

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
    """An exception raised inside an object, as the caller receives it."""


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


class SqlError(StorageError):
    """An SQL statement that failed, or one that Cloudflare does not allow."""


class ResetError(DolabError):
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


def remote_copy(exc: BaseException) -> BaseException:
    """The exception as the caller receives it: same type if it is a builtin or dolab's,
    otherwise a DurableObjectError with the type name in the message; always ``.remote``."""
    kind = type(exc)
    copy: BaseException
    try:
        if kind.__module__ == "builtins" or isinstance(exc, DolabError):
            copy = kind(*exc.args)
        else:
            copy = DurableObjectError(f"{kind.__name__}: {exc}")
    except Exception:
        copy = DurableObjectError(f"{kind.__name__}: {exc}")
    flags = {k: getattr(exc, k) for k in ("retryable", "overloaded", "durableObjectReset") if hasattr(exc, k)}
    mark_remote(copy, remote=True, **flags)  # it was raised by (or reached through) the object
    # Cloudflare sends no stack trace; we keep the original as the cause so learners can debug.
    copy.__cause__ = exc
    return copy
