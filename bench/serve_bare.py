"""The baseline for ``bench_serve.py``: the same routes as ``serve_app.py`` on the same stack (uvicorn, h11,
websockets), answered by a bare ASGI function: no Worker, no object, no storage, a Python int and a dict
of rooms. What dolab adds (the Fetch API bridge, the Worker, RPC, gates, SQLite) is the difference.

``python bench/serve_bare.py`` prints ``listening on http://127.0.0.1:PORT`` and serves until SIGINT.
"""

from __future__ import annotations

import json
import socket
from typing import Any

import uvicorn

count = 0
rooms: dict[str, set[Any]] = {}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    global count
    if scope["type"] == "http":
        while (await receive()).get("more_body"):
            pass
        if scope["method"] == "POST":
            count += 1
        body = json.dumps({"count": count}).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
    elif scope["type"] == "websocket":
        room = rooms.setdefault(scope["path"], set())
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        room.add(send)
        try:
            while True:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    return
                text = message.get("text") or ""
                if text.startswith("all "):
                    for other in list(room):
                        await other({"type": "websocket.send", "text": text})
                else:
                    await send({"type": "websocket.send", "text": f"ack {text}"})
        finally:
            room.discard(send)


if __name__ == "__main__":
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)  # connections wait in the backlog until uvicorn accepts them
    print(f"listening on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(app, http="h11", ws="websockets-sansio", lifespan="off", log_config=None,
                            access_log=False, ws_per_message_deflate=False, ws_max_size=32 << 20)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises the SIGINT it shut down for
        pass
