"""dolab: learn Cloudflare Durable Objects in Python, in-process, on a virtual clock.

Runtime: ``Lab``, ``DurableObject`` and friends. Simulation: ``simulate``, ``Workload``,
``Network``, ``LatencyModel``, ``Geography``, ``ExternalDatabase``, ``Trace``. Presentation
(DataFrames and charts; imports pandas) lives in ``dolab.report``, imported on its own.

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
from dolab.externaldb import ExternalDatabase
from dolab.fetch import Headers, Request, Response
from dolab.geo import Geography, Region
from dolab.ids import DurableObjectId
from dolab.lab import Lab, LabStatistics
from dolab.latency import LatencyModel
from dolab.namespace import DurableObjectNamespace, DurableObjectStub
from dolab.network import Network
from dolab.objects import DurableObject, DurableObjectState
from dolab.pricing import Usage, bill
from dolab.simulate import simulate
from dolab.sql import SqlStorageCursor
from dolab.storage import DurableObjectStorage
from dolab.trace import Trace
from dolab.values import JsDict
from dolab.websockets import WebSocket, WebSocketPair, WebSocketRequestResponsePair
from dolab.worker import WorkerEntrypoint
from dolab.workload import Workload

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
    "ExternalDatabase",
    "Geography",
    "Headers",
    "InvalidIdError",
    "JsDict",
    "Lab",
    "LabError",
    "LabStatistics",
    "LatencyModel",
    "Network",
    "Region",
    "Request",
    "ResetError",
    "Response",
    "RpcError",
    "SqlError",
    "SqlStorageCursor",
    "StorageError",
    "StorageRangeError",
    "StorageTypeError",
    "Trace",
    "Usage",
    "WebSocket",
    "WebSocketPair",
    "WebSocketRequestResponsePair",
    "WorkerEntrypoint",
    "Workload",
    "bill",
    "simulate",
]

for _name in __all__:
    _obj = globals()[_name]
    if getattr(_obj, "__module__", "").startswith("dolab."):
        _obj.__module__ = "dolab"
del _name, _obj
