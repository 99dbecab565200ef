"""Stubs and RPC: what can be called, how values are copied, order, errors, fetch, call styles."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from typing import Any

import pytest

from dolab import DurableObject, DurableObjectError, JsDict, Lab, Request, Response, RpcError, StorageRangeError


class Box(DurableObject):
    limit = 3

    def __init__(self, ctx: Any, env: Any) -> None:
        super().__init__(ctx, env)
        self.kept: Any = None
        self.log: list[Any] = []

    def keep(self, value: Any) -> Any:  # a plain (non-async) method is callable too
        self.kept = value
        return value

    async def mutate_kept(self) -> Any:
        self.kept["changed"] = True
        return self.kept

    async def get_kept(self) -> Any:
        return self.kept

    async def record(self, item: Any) -> list[Any]:
        self.log.append(item)
        return list(self.log)

    async def slow_record(self, item: Any, delay: float) -> list[Any]:
        self.log.append(["start", item])
        await asyncio.sleep(delay)
        return await self.record(item)

    async def boom(self) -> None:
        raise ValueError("the cart is on fire")

    async def custom_boom(self) -> None:
        class OutOfStock(Exception):
            pass

        raise OutOfStock("sku-1 is gone")

    async def bad_result(self) -> Any:
        return (1, 2)

    async def _secret(self) -> str:
        return "nope"

    async def fetch(self, request: Request) -> Response:
        if request.url.endswith("/json"):
            body = await request.json()
            return Response.json({"got": body, "method": request.method}, status=201)
        return Response(await request.text(), headers={"X-Seen": request.headers.get("x-test", "")})


@pytest.fixture
def box_lab() -> Any:
    with Lab(durable_objects={"BOX": Box}) as lab:
        yield lab


def test_plain_and_async_methods_are_rpc(box_lab: Lab) -> None:
    stub = box_lab.env.BOX.getByName("a")
    assert box_lab.run(stub.keep(3)) == 3
    assert box_lab.run(stub.get_kept()) == 3


def test_arguments_are_copied_in(box_lab: Lab) -> None:
    stub = box_lab.env.BOX.getByName("a")
    cart = {"items": ["apple"]}
    box_lab.run(stub.keep(cart))
    cart["items"].append("pear")  # the caller's change must not reach the object
    assert box_lab.run(stub.get_kept()) == {"items": ["apple"]}


def test_results_are_copied_out(box_lab: Lab) -> None:
    stub = box_lab.env.BOX.getByName("a")
    box_lab.run(stub.keep({"n": 1}))
    result = box_lab.run(stub.get_kept())
    result["n"] = 99
    assert box_lab.run(stub.get_kept()) == {"n": 1}
    assert box_lab.run(stub.mutate_kept()) == {"n": 1, "changed": True}


def test_dicts_arrive_as_jsdict_with_attribute_access(box_lab: Lab) -> None:
    stub = box_lab.env.BOX.getByName("a")
    out = box_lab.run(stub.keep({"count": 2, "when": dt.datetime(2026, 1, 1), "raw": b"\x00"}))
    assert isinstance(out, JsDict)
    assert out.count == 2 and out["raw"] == b"\x00"


@pytest.mark.parametrize(
    ("value", "type_name"),
    [
        ((1, 2), "tuple"),
        (bytearray(b"x"), "bytearray"),
        (frozenset({1, 2}), "frozenset"),
        (object(), "object"),
        ([{"a": (1,)}], "tuple"),
    ],
)
def test_unsupported_arguments_are_refused_at_call_time(box_lab: Lab, value: Any, type_name: str) -> None:
    stub = box_lab.env.BOX.getByName("a")
    with pytest.raises(TypeError, match=rf"^<class '{type_name}'> cannot be sent over RPC\.$"):
        stub.keep(value)


def test_unsupported_result_is_a_remote_type_error(box_lab: Lab) -> None:
    with pytest.raises(DurableObjectError, match=r"^TypeError: <class 'tuple'> cannot be sent over RPC\.$") as info:
        box_lab.run(box_lab.env.BOX.getByName("a").bad_result())
    assert info.value.remote is True and info.value.name == "TypeError"


def test_private_missing_and_reserved_names_are_refused(box_lab: Lab) -> None:
    stub = box_lab.env.BOX.getByName("a")
    with pytest.raises(RpcError, match=r"'_secret' cannot be called over RPC: names starting with '_' are private"):
        stub._secret()
    missing = r'^TypeError: The RPC receiver does not implement the method "nothing"\.$'
    with pytest.raises(DurableObjectError, match=missing):
        box_lab.run(stub.nothing())
    with pytest.raises(DurableObjectError, match=r'"limit" is a int attribute of Box, not a method'):
        box_lab.run(stub.limit())
    with pytest.raises(DurableObjectError, match=r"'alarm' is a reserved method and cannot be called over RPC\.$"):
        box_lab.run(stub.alarm())


def test_a_python_exception_reaches_a_python_caller_as_a_python_error(box_lab: Lab) -> None:
    """On Cloudflare no Python exception type crosses a stub: the caller gets a JavaScript error
    named PythonError whose message is the traceback, so `except ValueError` does not catch it."""
    stub = box_lab.env.BOX.getByName("a")
    with pytest.raises(DurableObjectError) as info:
        box_lab.run(stub.boom())
    error = info.value
    assert not isinstance(error, ValueError)
    assert (error.name, error.type, error.remote, error.retryable) == ("PythonError", "ValueError", True, False)
    assert error.message.startswith("Traceback (most recent call last):")
    assert error.message.endswith("ValueError: the cart is on fire\n")
    assert str(error).startswith("PythonError: Traceback")
    assert isinstance(error.__cause__, ValueError)  # dolab keeps the original too (Cloudflare does not)
    with pytest.raises(DurableObjectError, match=r"OutOfStock: sku-1 is gone\n$") as custom:
        box_lab.run(stub.custom_boom())
    assert custom.value.remote is True and custom.value.type == "OutOfStock"
    # An ordinary exception does not reset the object: in-memory state survives.
    box_lab.run(stub.keep(5))
    with pytest.raises(DurableObjectError, match="fire"):
        box_lab.run(stub.boom())
    assert box_lab.run(stub.get_kept()) == 5


def test_calls_through_one_stub_arrive_in_order(box_lab: Lab) -> None:
    stub = box_lab.env.BOX.getByName("order")

    async def main() -> list[Any]:
        # The first call sleeps before recording; later ones do not. Each *starts* in order.
        calls = [stub.slow_record(i, 0.5 - i * 0.1) for i in range(5)]
        return await asyncio.gather(*calls)

    box_lab.run(main())
    log = box_lab.run(stub.record("end"))
    assert log[:5] == [["start", i] for i in range(5)]
    assert log[5:] == [4, 3, 2, 1, 0, "end"]  # they interleaved at the sleep, finishing shortest first
    assert box_lab.now == pytest.approx(0.5)


def test_fetch_request_and_response(box_lab: Lab) -> None:
    stub = box_lab.env.BOX.getByName("web")
    response = box_lab.run(stub.fetch("https://box/echo", method="POST", body="hello", headers={"X-Test": "1"}))
    assert response.status == 200 and response.ok
    assert box_lab.run(response.text()) == "hello"
    assert response.headers["x-seen"] == "1"
    made = box_lab.run(stub.fetch(Request("https://box/json", method="put", body='{"a": 1}')))
    assert made.status == 201
    assert made.headers["content-type"] == "application/json"
    assert box_lab.run(made.json()) == {"got": {"a": 1}, "method": "PUT"}


def test_fetch_to_an_object_without_fetch_handler() -> None:
    class NoFetch(DurableObject):
        pass

    with Lab(durable_objects={"NF": NoFetch}) as lab, pytest.raises(DurableObjectError, match="has no fetch"):
        lab.run(lab.env.NF.getByName("x").fetch("https://x/"))


def test_await_from_a_running_event_loop_on_another_thread(box_lab: Lab) -> None:
    """The notebook style: a cell's top-level await runs on the kernel's own loop."""
    stub = box_lab.env.BOX.getByName("loop")
    kernel_thread = threading.current_thread()

    async def cell() -> Any:
        first = await stub.record("a")
        both = await asyncio.gather(stub.record("b"), stub.record("c"))
        return first, both, threading.current_thread() is kernel_thread

    first, both, same_thread = asyncio.run(cell())
    assert first == ["a"] and both == [["a", "b"], ["a", "b", "c"]]
    assert same_thread


def test_sync_run_inside_a_running_loop(box_lab: Lab) -> None:
    """A widget callback is sync code called while the kernel's loop is running."""
    stub = box_lab.env.BOX.getByName("cb")

    async def kernel() -> Any:
        return box_lab.run(stub.record("clicked"))

    assert asyncio.run(kernel()) == ["clicked"]


def test_errors_keep_their_types_across_the_thread_boundary(box_lab: Lab) -> None:
    async def cell() -> None:
        await box_lab.env.BOX.getByName("e").boom()

    with pytest.raises(DurableObjectError, match="ValueError: the cart is on fire"):
        asyncio.run(cell())


def test_lab_run_from_inside_the_lab_is_refused(box_lab: Lab) -> None:
    from dolab import LabError

    async def inside() -> None:
        box_lab.run(box_lab.env.BOX.getByName("x").record(1))

    with pytest.raises(LabError, match="called from code running inside the lab"):
        box_lab.run(inside())


def test_storage_errors_cross_as_their_own_type(box_lab: Lab) -> None:
    stub = box_lab.env.BOX.getByName("big")

    async def put_big(obj: Any, ctx: Any) -> None:
        await ctx.storage.put("k", "x" * 2_000_001)

    with pytest.raises(StorageRangeError, match="SQLITE_TOOBIG"):
        box_lab.run(box_lab.run_in_durable_object(stub, put_big))


def test_a_stateless_worker_keeps_nothing_between_requests() -> None:
    from dolab import WorkerEntrypoint

    class StatelessCart(WorkerEntrypoint):
        def __init__(self, ctx: Any, env: Any) -> None:
            super().__init__(ctx, env)
            self.count = 0

        async def fetch(self, request: Request) -> Response:
            self.count += 1
            return Response(f"{self.count} item added")

        def add(self) -> int:
            self.count += 1
            return self.count

    with Lab() as lab:
        worker = lab.worker(StatelessCart)
        texts = [lab.run(lab.run(worker.fetch("https://shop/add")).text()) for _ in range(2)]
        assert texts == ["1 item added", "1 item added"]  # the response says 1 both times
        assert [lab.run(worker.add()) for _ in range(3)] == [1, 1, 1]
        assert worker.requests == 5
        with pytest.raises(RpcError, match="does not implement the method"):
            lab.run(worker.nothing())


def test_injected_failures_carry_cloudflare_flags(box_lab: Lab) -> None:
    from dolab import DurableObjectError, LabError

    stub = box_lab.env.BOX.getByName("flaky")
    box_lab.fail_next(stub, "disconnect", count=2)
    box_lab.fail_next(stub.id, "overloaded")
    outcomes = []
    for _ in range(4):
        try:
            box_lab.run(stub.record("x"))
            outcomes.append("ok")
        except DurableObjectError as error:
            outcomes.append((str(error), error.retryable, error.overloaded, error.remote))
    assert outcomes == [
        ("Error: Network connection lost.", True, False, False),
        ("Error: Network connection lost.", True, False, False),
        ("Error: Durable Object is overloaded. Too many requests queued.", False, True, False),
        "ok",
    ]
    assert box_lab.run(stub.record("y")) == ["x", "y"]  # the failed calls never reached the object
    with pytest.raises(LabError, match="kind must be one of disconnect, overloaded"):
        box_lab.fail_next(stub, "meteor")
