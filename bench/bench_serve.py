#!/usr/bin/env python3
"""``dolab serve`` under load: 1,000 WebSockets at once and 10,000 HTTP requests on loopback.

Usage: python bench/bench_serve.py [--quick]

The server is ``python -m dolab serve bench/serve_app.py`` in a child process (so the clients, in this
process, use the other core). Each of 1,000 clients (10 rooms) sends 10 numbered messages and waits for
each ack; then the first client of each room says hello to its room, which all 100 must hear. Then
10,000 POST /count go through the Worker to one object that adds 1 in storage, 20 at a time: every
count from 1 to 10,000 must come back exactly once. Nothing may be lost; p50/p99 are round trips seen
by the clients (queueing in the client included).

Side by side, the same clients against ``bench/serve_bare.py``: the same routes on the same stack
(uvicorn, h11, websockets) answered by a bare ASGI function, with no Worker, no object and no storage.
The ratio dolab / bare is what the Fetch API bridge, the Worker, RPC, the gates and SQLite cost.
``--quick``: 200 WebSockets and 2,000 requests.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from serve_load import Result, http_load, websocket_load  # noqa: E402

BENCH = Path(__file__).resolve().parent


@contextmanager
def server(*command: str) -> Iterator[str]:
    """A server in a child process; its address (from its "listening on" line); SIGINT after."""
    proc = subprocess.Popen([sys.executable, *command], stdout=subprocess.PIPE, text=True, cwd=BENCH.parent)
    assert proc.stdout is not None
    with proc, proc.stdout:
        for line in proc.stdout:
            found = re.search(r"listening on (http://\S+)", line)
            if found:
                break
        else:
            raise SystemExit(f"{' '.join(command)} did not start")
        try:
            yield found.group(1)
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)


def run(url: str, clients: int, messages: int, requests: int) -> tuple[Result, Result]:
    sockets = asyncio.run(websocket_load(url, clients=clients, messages=messages, rooms=10))
    calls = asyncio.run(http_load(url, requests=requests, concurrency=20))
    return sockets, calls


def goal(name: str, measured: float, wanted: float, at_most: bool, unit: str = "") -> str:
    ok = measured <= wanted if at_most else measured >= wanted
    return f"GOAL {name} {measured:.2f}{unit} {'<=' if at_most else '>='}{wanted:g}{unit} {'PASS' if ok else 'MISS'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="200 WebSockets and 2,000 requests")
    args = parser.parse_args()
    clients, requests = (200, 2_000) if args.quick else (1_000, 10_000)
    messages = 10
    with server("-m", "dolab", "serve", "bench/serve_app.py", "--port", "0") as url:
        ws, http = run(url, clients, messages, requests)
    with server("bench/serve_bare.py") as url:
        bare_ws, bare_http = run(url, clients, messages, requests)
    print(f"dolab serve  {ws.line()}\n             {http.line()}")
    print(f"bare uvicorn {bare_ws.line()}\n             {bare_http.line()}")
    ws_rate, bare_ws_rate = ws.answered / ws.seconds, bare_ws.answered / bare_ws.seconds
    http_rate, bare_http_rate = http.answered / http.seconds, bare_http.answered / bare_http.seconds
    print(f"messages/s: dolab {ws_rate:,.0f}, bare {bare_ws_rate:,.0f}; "
          f"requests/s: dolab {http_rate:,.0f}, bare {bare_http_rate:,.0f}")
    print(goal(f"serve_ws_{clients}_clients_lost", ws.lost + len(ws.errors), 0, at_most=True))
    print(goal(f"serve_http_{requests}_requests_lost", http.lost + len(http.errors), 0, at_most=True))
    print(goal("serve_ws_p99_ms", ws.quantile(0.99) * 1000, 250, at_most=True))
    print(goal("serve_http_p99_ms", http.quantile(0.99) * 1000, 250, at_most=True))
    print(goal("serve_http_vs_bare_uvicorn", http_rate / bare_http_rate, 0.5, at_most=False))
    print(goal("serve_ws_vs_bare_uvicorn", ws_rate / bare_ws_rate, 0.5, at_most=False))


if __name__ == "__main__":
    main()
