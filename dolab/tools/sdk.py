"""The names a ported class may import, and the hints for the dolab names it may not.

``SDK_NAMES`` is ``__all__`` of ``workers/__init__.py`` in workers-runtime-sdk 1.9.5, copied from
``data/workers_sdk_names.txt`` (see ``data/SOURCES.md``); a test keeps the two equal. It lives in
code rather than being read from ``data/`` so an installed ``dolab`` command carries it along.
"""

from __future__ import annotations

SDK_NAMES: frozenset[str] = frozenset({
    "Blob", "BlobEnding", "BlobValue", "Body", "Context", "DurableObject", "FetchKwargs", "FetchResponse",
    "File", "FormData", "FormDataValue", "Headers", "JSBody", "Request", "RequestInitCfProperties", "Response",
    "WorkerEntrypoint", "WorkflowEntrypoint", "env", "fetch", "handler", "import_from_javascript", "patch_env",
    "python_from_rpc", "python_to_rpc", "waitUntil", "wait_until",
})  # fmt: skip

# JavaScript globals dolab mirrors that are not in the SDK: in Pyodide they come from the ``js``
# module, and a JS class is built with ``.new(...)``. The value says whether export must add
# ``.new`` to a call (dolab already spells ``WebSocketPair.new()`` the Pyodide way).
JS_GLOBALS: dict[str, bool] = {"WebSocketPair": False, "WebSocketRequestResponsePair": True}

# The package names a learner's source may import Durable Object names from.
DOLAB_MODULE = "dolab"
WORKERS_MODULE = "workers"

# Why a dolab name has no Cloudflare counterpart, and what to write instead.
DOLAB_HINTS: dict[str, str] = {
    "Lab": "the lab drives objects in a notebook; on Cloudflare requests and alarms drive them",
    "ExternalDatabase": "declare a real database binding (D1, Hyperdrive) in wrangler.jsonc instead",
    "JsDict": "values from storage and RPC arrive as dicts (JS objects); read them with [key]",
    "simulate": "the simulation stays in the notebook",
    "Network": "the simulated network stays in the notebook",
}
ERROR_HINT = "catch Exception and read its .retryable, .overloaded or .remote instead"
DEFAULT_HINT = "it exists only in dolab"


def hint_for(name: str) -> str:
    """What to say about a dolab name ``from workers import`` does not have."""
    if name in DOLAB_HINTS:
        return DOLAB_HINTS[name]
    if name.endswith(("Error", "Abort")):
        return ERROR_HINT
    return DEFAULT_HINT
