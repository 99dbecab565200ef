"""dolab's public names and signatures, checked against the Python Workers SDK's own source.

The test extra installs Cloudflare's ``workers-runtime-sdk`` (pinned to its current release in
pyproject.toml). Its modules import Pyodide's ``js`` at import time, so they are read with ``ast``,
never imported. A learner's class ports by changing one import only if the constructors and
methods it uses take the same arguments in both; where dolab leaves part of the SDK out, the
``NOT_MODELLED`` table below says what and why, and a new SDK member fails this test until it
is either modelled or listed.
"""

from __future__ import annotations

import ast
import inspect
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

import dolab
from dolab import DurableObject, Request, Response, WorkerEntrypoint
from dolab.runtime.errors import SerializationError
from dolab.runtime.objects import DurableObjectState
from dolab.runtime.values import to_wire

DIST = "workers-runtime-sdk"
DATA = Path(__file__).resolve().parent.parent / "data"

# SDK members dolab does not have, and why. Everything else public in the SDK classes must exist.
NOT_MODELLED = {
    "Request": {
        "body": "the JS ReadableStream; read the body with text(), bytes() or json()",
        "body_used": "bodies are bytes in dolab and can be read any number of times",
        "cf": "Cloudflare's request metadata (colo, country, ...): no edge in dolab",
        "cache": "JS Request fields with no meaning without a network",
        "credentials": "JS Request fields with no meaning without a network",
        "destination": "JS Request fields with no meaning without a network",
        "integrity": "JS Request fields with no meaning without a network",
        "is_history_navigation": "JS Request fields with no meaning without a network",
        "keepalive": "JS Request fields with no meaning without a network",
        "mode": "JS Request fields with no meaning without a network",
        "redirect": "JS Request fields with no meaning without a network",
        "referrer": "JS Request fields with no meaning without a network",
        "referrer_policy": "JS Request fields with no meaning without a network",
        "js_object": "the underlying JS object: there is none in dolab",
        "buffer": "returns a JS ArrayBuffer; use bytes()",
        "form_data": "multipart forms are not modelled",
        "blob": "Blob is not modelled; use bytes()",
    },
    "Response": {
        "body": "the JS ReadableStream; read the body with text(), bytes() or json()",
        "js_object": "the underlying JS object: there is none in dolab",
        "replace_body": "not modelled; build a new Response",
        "blob": "Blob is not modelled; use bytes()",
        "form_data": "multipart forms are not modelled",
        "formData": "multipart forms are not modelled",
    },
}


def sdk_file(relative: str) -> Path:
    try:
        path = Path(str(metadata.distribution(DIST).locate_file(relative)))
    except metadata.PackageNotFoundError:
        pytest.fail(f"{DIST} is not installed: it is in the test extra (python3 dev.py test installs it)")
    assert path.exists(), f"{DIST} has no {relative}"
    return path


def sdk_classes(relative: str) -> dict[str, ast.ClassDef]:
    tree = ast.parse(sdk_file(relative).read_text(encoding="utf-8"))
    return {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}


def sdk_function(node: ast.ClassDef | ast.Module, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef:
    for item in node.body:
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == name:
            return item
    raise AssertionError(f"the SDK has no {name}")


def sdk_parameters(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[list[str], list[str], bool]:
    """(positional names without self, keyword-only names, takes **kwargs)."""
    positional = [a.arg for a in fn.args.posonlyargs + fn.args.args]
    if positional and positional[0] in ("self", "cls"):
        positional = positional[1:]
    return positional, [a.arg for a in fn.args.kwonlyargs], fn.args.kwarg is not None


def dolab_parameters(fn: Any) -> tuple[list[str], list[str]]:
    params = list(inspect.signature(fn).parameters.values())
    if params and params[0].name in ("self", "cls"):
        params = params[1:]
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    keyword = [p.name for p in params if p.kind is p.KEYWORD_ONLY]
    return positional, keyword


def sdk_public_members(cls: ast.ClassDef) -> set[str]:
    return {item.name for item in cls.body if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
            and not item.name.startswith("_")}


def test_the_recorded_sdk_names_are_the_installed_sdks() -> None:
    tree = ast.parse(sdk_file("workers/__init__.py").read_text(encoding="utf-8"))
    (exported,) = [node.value for node in tree.body if isinstance(node, ast.Assign)
                   and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)]
    names = sorted(ast.literal_eval(exported))
    lines = (DATA / "workers_sdk_names.txt").read_text(encoding="utf-8").splitlines()
    recorded = [line for line in lines if line and not line.startswith("#")]
    assert names == sorted(recorded), "data/workers_sdk_names.txt is stale: rerun data/derive_workers_sdk_names.py"
    shared = {"DurableObject", "WorkerEntrypoint", "Request", "Response"}
    assert shared <= set(names) and all(hasattr(dolab, n) for n in shared)


@pytest.mark.parametrize(("sdk_class", "method", "ours"), [
    ("DurableObject", "__init__", DurableObject.__init__),
    ("WorkerEntrypoint", "__init__", WorkerEntrypoint.__init__),
])
def test_entrypoint_constructors_take_ctx_and_env(sdk_class: str, method: str, ours: Any) -> None:
    sdk = sdk_parameters(sdk_function(sdk_classes("workers/entrypoints.py")[sdk_class], method))
    assert sdk[0] == ["ctx", "env"] and dolab_parameters(ours)[0] == sdk[0]


def test_ctx_abort_takes_an_optional_reason_and_stops_with_a_base_exception() -> None:
    classes = sdk_classes("workers/entrypoints.py")
    abort = sdk_function(classes["DurableObjectContext"], "abort")
    assert sdk_parameters(abort)[0] == ["reason"] and abort.args.defaults
    assert dolab_parameters(DurableObjectState.abort)[0] == ["reason"]
    assert inspect.signature(DurableObjectState.abort).parameters["reason"].default is None
    base = classes["DurableObjectAbort"].bases[0]
    assert isinstance(base, ast.Name) and base.id == "BaseException"
    assert issubclass(dolab.DurableObjectAbort, BaseException) and not issubclass(dolab.DurableObjectAbort, Exception)


@pytest.mark.parametrize(("method", "ours"), [
    ("__init__", Response.__init__), ("from_json", Response.from_json), ("redirect", Response.redirect),
])
def test_response_takes_the_sdks_arguments_in_the_sdks_order(method: str, ours: Any) -> None:
    sdk = sdk_parameters(sdk_function(sdk_classes("workers/response.py")["Response" if method == "__init__"
                                                                           else "FetchResponse"], method))
    assert dolab_parameters(ours)[0] == sdk[0], f"Response.{method}: the SDK takes {sdk[0]}"


def test_request_takes_a_url_and_the_sdks_keyword_options() -> None:
    request = sdk_function(sdk_classes("workers/request.py")["Request"], "__init__")
    positional, _, takes_options = sdk_parameters(request)
    fetch_kwargs = sdk_classes("workers/types.py")["FetchKwargs"]
    options = {item.target.id for item in fetch_kwargs.body
               if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)}
    ours_positional, ours_keyword = dolab_parameters(Request.__init__)
    assert ours_positional == positional == ["input"] and takes_options
    assert ours_keyword and set(ours_keyword) <= options, f"Request options must be among the SDK's {sorted(options)}"
    with pytest.raises(TypeError):
        Request("https://a/b", "POST")  # type: ignore[misc]  # the SDK takes options by keyword only


@pytest.mark.parametrize(("name", "ours"), [("Request", Request("https://a/b")), ("Response", Response("x"))])
def test_every_public_sdk_member_is_modelled_or_listed(name: str, ours: object) -> None:
    classes = sdk_classes(f"workers/{name.lower()}.py")
    members = sdk_public_members(classes[name])
    if name == "Response":
        members |= sdk_public_members(classes["FetchResponse"]) - {"json"}  # json: both factory and parser
        assert hasattr(ours, "json")
    missing = sorted(m for m in members if not hasattr(ours, m) and m not in NOT_MODELLED[name])
    assert not missing, f"{name}: the SDK has {missing}, which dolab neither models nor lists in NOT_MODELLED"
    stale = sorted(m for m in NOT_MODELLED[name] if m not in members)
    assert not stale, f"{name}: NOT_MODELLED lists {stale}, which the SDK no longer has"


def test_the_sdk_refuses_the_same_python_types_over_rpc() -> None:
    """rpc.py's _raise_on_disabled_type refuses tuple and bytearray; so does dolab, nested or not."""
    tree = ast.parse(sdk_file("workers/rpc.py").read_text(encoding="utf-8"))
    check = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "_raise_on_disabled_type")
    refused = {elt.id for node in ast.walk(check) if isinstance(node, ast.Call)
               and isinstance(node.func, ast.Name) and node.func.id == "isinstance"
               and isinstance(node.args[1], ast.Tuple) for elt in node.args[1].elts if isinstance(elt, ast.Name)}
    assert refused == {"tuple", "bytearray"}
    samples = {"tuple": (1, 2), "bytearray": bytearray(b"x")}
    for kind in refused:
        for value in (samples[kind], [samples[kind]], {"k": samples[kind]}):
            with pytest.raises(SerializationError, match="cannot be sent over RPC"):
                to_wire(value, "RPC")
