"""``serve(lab, Worker)`` and ``dolab serve``: a lab's Worker and objects on a real local server.

The server is uvicorn (HTTP/1.1 from h11, WebSockets from the ``websockets`` library) running the ASGI
application of :mod:`dolab.tools.asgi` on the lab's own event loop, so requests reach objects with no
thread hop, exactly as calls from a notebook do. :func:`serve` returns at once with a :class:`Server`
(``.url``, ``.stop()``): the kernel stays free, and cells can call the same objects meanwhile.

Time: while a server runs, the lab clock follows the wall clock (``Lab.run_real_time``), because real
clients wait in real seconds: an object left alone hibernates after 10 real seconds. ``lab.advance(s)``
still works and jumps the clock ``s`` seconds ahead at once. When the last server stops, the clock
jumps on idle timers again, from where it stood.
"""

from __future__ import annotations

import concurrent.futures
import socket
import time
from pathlib import Path
from typing import Any

import uvicorn

from dolab.runtime.errors import ConfigError, LabStateError
from dolab.runtime.lab import Lab
from dolab.runtime.worker import WorkerEntrypoint
from dolab.tools.asgi import MAX_BODY, MAX_HEADERS, MAX_URL, MAX_WS_MESSAGE, WorkerApp

START_TIMEOUT = 10.0


class Server:
    """A running server: ``url``, ``stop()``; a context manager that stops it on exit."""

    def __init__(self, lab: Lab, app: WorkerApp, server: uvicorn.Server, listening: socket.socket) -> None:
        self.lab = lab
        self.app = app
        self._server = server
        self._socket = listening
        host, port = listening.getsockname()[:2]
        self.host, self.port = host, port
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{port}"
        self._done: concurrent.futures.Future[Any] = lab.run_real_time(self._run())
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started and not self._done.done():
            if time.monotonic() > deadline:
                self.stop()
                raise LabStateError(f"the server on {self.url} did not start within {START_TIMEOUT:g} s")
            time.sleep(0.005)
        if self._done.done() and not server.started:
            self._done.result()  # raises what stopped it
            raise LabStateError(f"the server on {self.url} stopped as it started")

    async def _run(self) -> None:
        try:
            await self._server.serve(sockets=[self._socket])
        finally:
            self._socket.close()

    @property
    def running(self) -> bool:
        return not self._done.done()

    def stop(self, timeout: float = 10.0) -> None:
        """Close the listening socket and every connection (WebSockets get 1012), then return."""
        if self._done.done():
            return
        self._server.should_exit = True
        try:
            self._done.result(timeout)
        except concurrent.futures.TimeoutError:
            self._server.force_exit = True
            self._done.cancel()
        except (concurrent.futures.CancelledError, LabStateError):
            pass  # the lab was closed under it: nothing is left to stop

    def wait(self) -> None:
        """Block until the server stops (``dolab serve`` waits here until Ctrl-C)."""
        try:
            self._done.result()
        except (concurrent.futures.CancelledError, LabStateError):
            pass

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<Server {self.url} {'running' if self.running else 'stopped'}>"


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (0: any free port), or a ConfigError saying why not."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ConfigError(f"port must be an int in 0..65535 (0 picks a free one), got {port!r}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named: asyncio sets TCP_NODELAY only on sockets that say so, and without it a response
    # sent as two writes (head, body) waits for the client's delayed ACK, 40 ms per request.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return sock


def serve(lab: Lab, worker: type[WorkerEntrypoint], *, host: str = "127.0.0.1", port: int = 0,
          assets: str | Path | None = None, max_body: int = MAX_BODY, access_log: bool = False) -> Server:
    """Serve ``worker`` (a ``WorkerEntrypoint`` subclass) and the lab's objects on ``http://host:port``.

    Requests go to ``worker.fetch``; from there ``env.ROOM.getByName(...)`` reaches the lab's objects,
    as in a notebook. ``assets``: a folder whose files answer GET/HEAD first (Workers Static Assets).
    ``max_body``: the request body limit (Cloudflare's Free and Pro plans: 100 MB). Returns once the
    server listens; ``server.stop()`` stops it (or use ``with serve(...) as server:``).
    """
    if not (isinstance(worker, type) and issubclass(worker, WorkerEntrypoint)):
        raise ConfigError(f"serve() needs a WorkerEntrypoint subclass, got {worker!r}")
    if isinstance(max_body, bool) or not isinstance(max_body, int) or max_body < 0:
        raise ConfigError(f"max_body must be an int >= 0 (bytes), got {max_body!r}")
    if assets is not None and not Path(assets).is_dir():
        raise ConfigError(f"assets must be a folder, got {str(assets)!r}")
    if lab.closed:
        raise LabStateError("this lab is closed; create a new Lab()")
    app = WorkerApp(lab, worker, assets=assets, max_body=max_body)
    config = uvicorn.Config(
        app,
        http="h11",
        ws="websockets-sansio",
        lifespan="off",
        log_config=None,  # leave the notebook's (or the command's) logging as it is
        access_log=access_log,
        proxy_headers=False,
        server_header=False,
        date_header=False,  # time.time() on the lab's thread is the lab clock, not today's date
        ws_max_size=MAX_WS_MESSAGE,
        ws_per_message_deflate=False,
        h11_max_incomplete_event_size=MAX_URL + MAX_HEADERS + 4096,  # our own 414/431 answer first
        timeout_graceful_shutdown=2,
    )
    return Server(lab, app, uvicorn.Server(config), listen(host, port))
