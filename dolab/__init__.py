"""dolab: learn Cloudflare Durable Objects in Python, in-process, on a virtual clock.

The package has five layers, one folder each, and arrows point down only:

- ``dolab.runtime``: Durable Object semantics on the virtual clock (``Lab``, ``DurableObject``, ``Agent``, ...).
- ``dolab.sim``: the simulated world (``simulate``, ``Workload``, ``Network``, ``LatencyModel``, ...).
- ``dolab.tools``: the real parts around the lab (``dolab export``, ``dolab check-port``).
- ``dolab.lessons``: the experiments the chapters drive.
- ``dolab.view``: DataFrames, charts, maps and widgets (imports pandas; imported on its own).

This front door re-exports the runtime's and the simulation's public names.

Runtime names follow Cloudflare's Python Workers API, so a class written against dolab ports to
production by changing ``from dolab import DurableObject`` to ``from workers import DurableObject``.
"""

from __future__ import annotations

from dolab.runtime.agent import Agent
from dolab.runtime.cursor import SqlStorageCursor
from dolab.runtime.errors import (
    ConfigError,
    DolabError,
    DurableObjectAbort,
    DurableObjectError,
    FetchError,
    InvalidIdError,
    LabError,
    LabStateError,
    ResetError,
    RpcError,
    SerializationError,
    SqlError,
    StorageError,
    StorageRangeError,
    StorageTypeError,
)
from dolab.runtime.fetch import Headers, Request, Response
from dolab.runtime.ids import DurableObjectId
from dolab.runtime.lab import Lab, LabStatistics
from dolab.runtime.namespace import DurableObjectNamespace, DurableObjectStub
from dolab.runtime.objects import DurableObject, DurableObjectState
from dolab.runtime.storage import DurableObjectStorage
from dolab.runtime.values import JsDict
from dolab.runtime.websockets import WebSocket, WebSocketPair, WebSocketRequestResponsePair
from dolab.runtime.worker import WorkerEntrypoint
from dolab.sim.externaldb import ExternalDatabase
from dolab.sim.geo import Geography, Region
from dolab.sim.latency import LatencyModel
from dolab.sim.network import Network
from dolab.sim.pricing import Usage, bill
from dolab.sim.simulate import simulate
from dolab.sim.trace import Trace
from dolab.sim.workload import Workload

__version__ = "0.1.0"

__all__ = [
    "Agent",
    "ConfigError",
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
    "FetchError",
    "Geography",
    "Headers",
    "InvalidIdError",
    "JsDict",
    "Lab",
    "LabError",
    "LabStateError",
    "LabStatistics",
    "LatencyModel",
    "Network",
    "Region",
    "Request",
    "ResetError",
    "Response",
    "RpcError",
    "SerializationError",
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
