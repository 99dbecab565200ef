"""dolab: learn Cloudflare Durable Objects in Python, in-process, on a virtual clock.

Runtime names follow Cloudflare's Python Workers API, so a class written against dolab ports to
production by changing ``from dolab import DurableObject`` to ``from workers import DurableObject``.
"""

from __future__ import annotations

from dolab.errors import (
    DolabError,
    DurableObjectAbort,
    DurableObjectError,
    InvalidIdError,
    LabError,
    ResetError,
    RpcError,
    SqlError,
    StorageError,
    StorageRangeError,
    StorageTypeError,
)
from dolab.fetch import Headers, Request, Response
from dolab.ids import DurableObjectId
from dolab.lab import Lab, LabStatistics
from dolab.namespace import DurableObjectNamespace, DurableObjectStub
from dolab.objects import DurableObject, DurableObjectState
from dolab.sql import SqlStorageCursor
from dolab.storage import DurableObjectStorage
from dolab.values import JsDict

__version__ = "0.1.0"

__all__ = [
    "DolabError",
    "DurableObject",
    "DurableObjectAbort",
    "DurableObjectError",
    "DurableObjectId",
    "DurableObjectNamespace",
    "DurableObjectState",
    "DurableObjectStorage",
    "DurableObjectStub",
    "Headers",
    "InvalidIdError",
    "JsDict",
    "Lab",
    "LabError",
    "LabStatistics",
    "Request",
    "ResetError",
    "Response",
    "RpcError",
    "SqlError",
    "SqlStorageCursor",
    "StorageError",
    "StorageRangeError",
    "StorageTypeError",
]

for _name in __all__:
    _obj = globals()[_name]
    if getattr(_obj, "__module__", "").startswith("dolab."):
        _obj.__module__ = "dolab"
del _name, _obj
