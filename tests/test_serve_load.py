"""``dolab serve`` under load, smaller than the benchmark (``bench/bench_serve.py``: 1,000 WebSockets and
10,000 requests) so that CI stays fast, but real: every client on loopback, every reply checked.

The clients and the app are the benchmark's own (``bench/serve_load.py``, ``bench/serve_app.py``).
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from typing import Any

from dolab.tools.serve import serve

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _module(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"dolab_bench_{name}", BENCH / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


load = _module("serve_load")
app = _module("serve_app")


def test_many_websockets_and_requests_at_once_lose_nothing() -> None:
    lab = app.load_lab()
    with serve(lab, app.Default) as server:
        sockets = asyncio.run(load.websocket_load(server.url, clients=200, messages=5, rooms=10, timeout=60))
        requests = asyncio.run(load.http_load(server.url, requests=1_000, concurrency=20, timeout=60))
    print(sockets.line())
    print(requests.line())
    assert sockets.errors == [] and sockets.lost == 0
    assert sockets.answered == 200 * (5 + 1)  # every ack, and every room's hello to each member
    assert requests.errors == [] and requests.lost == 0
    assert requests.answered == 1_000
    assert lab.run(lab.env.COUNTER.getByName("total").read()) == 1_000
    lab.close()
