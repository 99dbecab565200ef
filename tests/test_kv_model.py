"""The asynchronous KV API against a plain dict, step by step (Hypothesis stateful testing).

Each run gets one lab and one object. Every rule runs inside the object (one event each), does the
same thing to a ``dict`` model, and compares. ``list()`` results are computed from the model with the
rules of reference §3.2: ascending by key in Python ``str`` order (= UTF-8 byte order), ``start``
inclusive, ``startAfter`` exclusive, ``end`` exclusive, ``prefix`` intersected with the range,
``reverse`` keeping the meaning of start/end, and ``limit`` applied after ordering.

The model stores each value as a Python Worker reads it back (``dolab.runtime.values.to_wire``:
``3.0`` comes back as ``3``, bytes as a memoryview), which the conformance suite checks against
workerd; this test is about what storage does with keys, ranges and transactions.

Keys come from a four-letter alphabet (one two-byte and one four-byte UTF-8 character) so that
prefixes and ranges collide often; the empty key is included.
"""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule

from dolab import DurableObject, Lab
from dolab.runtime.values import to_wire

ABANDON = "abandon the transaction"
ALPHABET = "ab\u00e9\U0001f600"
KEYS = st.text(alphabet=ALPHABET, max_size=4)
ALL_KEYS = sorted({""} | {a + b + c + d for a in ["", *ALPHABET] for b in ["", *ALPHABET]
                          for c in ["", *ALPHABET] for d in ALPHABET})
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | st.binary(max_size=8)
)
# Nested two levels deep, built without st.recursive (whose retries cost most of the run time).
VALUES = (
    SCALARS
    | st.lists(SCALARS, max_size=3)
    | st.dictionaries(st.text(max_size=3), SCALARS | st.lists(SCALARS, max_size=2), max_size=3)
)


# A transaction's txn is a raw JavaScript object: None reaches its put() as undefined, which fails.
TXN_VALUES = VALUES.filter(lambda v: v is not None)


@st.composite
def list_options(draw: st.DrawFn) -> dict[str, Any]:
    options: dict[str, Any] = draw(
        st.fixed_dictionaries(
            {},
            optional={"prefix": KEYS, "end": KEYS, "reverse": st.booleans(), "limit": st.integers(1, 12)},
        )
    )
    lower = draw(st.sampled_from([None, "start", "startAfter"]))
    if lower is not None:
        options[lower] = draw(KEYS)
    return options


def expected_list(model: dict[str, Any], options: dict[str, Any]) -> list[tuple[str, Any]]:
    keys = sorted(model)
    if "start" in options:
        keys = [k for k in keys if k >= options["start"]]
    if "startAfter" in options:
        keys = [k for k in keys if k > options["startAfter"]]
    if "end" in options:
        keys = [k for k in keys if k < options["end"]]
    if "prefix" in options:
        keys = [k for k in keys if k.startswith(options["prefix"])]
    if options.get("reverse"):
        keys.reverse()
    if "limit" in options:
        keys = keys[: options["limit"]]
    return [(k, model[k]) for k in keys]


def same(a: Any, b: Any) -> bool:
    """Equal and of the same types all the way down (so True is not 1, and -0.0 is not 0.0)."""
    if isinstance(a, dict) and isinstance(b, dict):  # JsDict is a dict
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    return bool(a == b)


def same_pairs(got: dict[str, Any], expected: list[tuple[str, Any]]) -> bool:
    return list(got) == [k for k, _ in expected] and all(same(got[k], v) for k, v in expected)


class KvBox(DurableObject):
    """An empty object; the state machine works on its storage from the outside."""


class KvModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.lab = Lab(durable_objects={"KV": KvBox}, seed=0)
        self.stub = self.lab.env.KV.getByName("model")
        self.model: dict[str, Any] = {}

    def teardown(self) -> None:
        self.lab.close()

    def inside(self, fn: Any) -> Any:
        return self.lab.run(self.lab.run_in_durable_object(self.stub, fn))

    def check_everything(self) -> None:
        async def body(obj: Any, ctx: Any) -> Any:
            return await ctx.storage.list()

        got = self.inside(body)
        assert same_pairs(got, sorted(self.model.items())), (dict(got), self.model)

    # -- writes ------------------------------------------------------------------------------------

    @rule(key=KEYS, value=VALUES)
    def put_one(self, key: str, value: Any) -> None:
        async def body(obj: Any, ctx: Any) -> Any:
            return await ctx.storage.put(key, value)

        assert self.inside(body) is None
        self.model[key] = to_wire(value)

    @rule(entries=st.dictionaries(KEYS, VALUES, max_size=8))
    def put_many(self, entries: dict[str, Any]) -> None:
        async def body(obj: Any, ctx: Any) -> Any:
            return await ctx.storage.put(entries)

        assert self.inside(body) is None
        self.model.update({k: to_wire(v) for k, v in entries.items()})

    @rule(count=st.integers(100, 128), seed=st.integers(0, 2**32 - 1), value=VALUES)
    def put_many_up_to_the_limit(self, count: int, seed: int, value: Any) -> None:
        entries = {key: [i, value] for i, key in enumerate(random.Random(seed).sample(ALL_KEYS, count))}

        async def body(obj: Any, ctx: Any) -> Any:
            return await ctx.storage.put(entries)

        assert self.inside(body) is None
        self.model.update({k: to_wire(v) for k, v in entries.items()})

    @rule(key=KEYS)
    def delete_one(self, key: str) -> None:
        async def body(obj: Any, ctx: Any) -> Any:
            return await ctx.storage.delete(key)

        existed = self.inside(body)
        assert existed is (key in self.model)
        self.model.pop(key, None)

    @rule(keys=st.lists(KEYS, max_size=12))
    def delete_many(self, keys: list[str]) -> None:
        async def body(obj: Any, ctx: Any) -> Any:
            return await ctx.storage.delete(keys)

        count = self.inside(body)
        assert type(count) is int and count == len({k for k in keys if k in self.model})
        for key in keys:
            self.model.pop(key, None)

    @rule()
    def delete_all(self) -> None:
        async def body(obj: Any, ctx: Any) -> Any:
            await ctx.storage.deleteAll()
            return await ctx.storage.list()

        assert self.inside(body) == {}
        self.model.clear()

    # -- reads -------------------------------------------------------------------------------------

    @rule(key=KEYS)
    def get_one(self, key: str) -> None:
        async def body(obj: Any, ctx: Any) -> Any:
            return await ctx.storage.get(key)

        got = self.inside(body)
        assert same(got, self.model.get(key)), (key, got, self.model.get(key))

    @rule(keys=st.lists(KEYS, max_size=12))
    def get_many(self, keys: list[str]) -> None:
        async def body(obj: Any, ctx: Any) -> Any:
            return await ctx.storage.get(keys)

        got = self.inside(body)
        expected = [(k, self.model[k]) for k in sorted(set(keys)) if k in self.model]
        assert isinstance(got, dict) and same_pairs(got, expected), (keys, dict(got), expected)

    @rule(options=list_options(), spelled_out=st.booleans())
    def list_some(self, options: dict[str, Any], spelled_out: bool) -> None:
        async def body(obj: Any, ctx: Any) -> Any:
            if options or spelled_out:
                return await ctx.storage.list(options)
            return await ctx.storage.list()

        got = self.inside(body)
        expected = expected_list(self.model, options)
        assert isinstance(got, dict) and same_pairs(got, expected), (options, list(got), [k for k, _ in expected])

    # -- lifecycle -----------------------------------------------------------------------------------

    @rule()
    def evict(self) -> None:
        self.lab.evict(self.stub)
        self.check_everything()

    @rule()
    def hibernate(self) -> None:
        self.lab.advance(self.lab.hibernate_after + 1)
        self.check_everything()

    # -- transactions --------------------------------------------------------------------------------

    @rule(
        steps=st.lists(st.tuples(st.booleans(), KEYS, TXN_VALUES), max_size=6),
        how=st.sampled_from(["transactionSync", "transaction", "rollback"]),
        caught_inside=st.booleans(),
    )
    def transaction_that_fails(self, steps: list[tuple[bool, str, Any]], how: str, caught_inside: bool) -> None:
        """Writes in a failing (or rolled back) transaction are seen inside it and gone after it."""
        during = dict(self.model)
        for is_put, key, value in steps:
            if is_put:
                during[key] = to_wire(value)
            else:
                during.pop(key, None)

        async def body(obj: Any, ctx: Any) -> Any:
            seen: list[Any] = []

            def apply_sync() -> None:
                for is_put, key, value in steps:
                    if is_put:
                        ctx.storage.put(key, value)
                    else:
                        ctx.storage.delete(key)
                seen.append(ctx.storage.list())

            async def closure(txn: Any) -> None:
                for is_put, key, value in steps:
                    if is_put:
                        await txn.put(key, value)
                    else:
                        await txn.delete(key)
                seen.append(await txn.list())
                if how == "rollback":
                    txn.rollback()
                else:
                    raise ValueError(ABANDON)

            def raise_after_writes() -> None:
                apply_sync()
                raise ValueError(ABANDON)

            try:
                if how == "transactionSync":
                    ctx.storage.transactionSync(raise_after_writes)
                else:
                    await ctx.storage.transaction(closure)
            except ValueError as exc:
                if str(exc) != ABANDON or not caught_inside:
                    raise
            inner = seen[0]
            if not isinstance(inner, dict):
                inner = await inner
            return inner, await ctx.storage.list()

        if how == "rollback" or caught_inside:
            inner, after = self.inside(body)
            assert same_pairs(inner, sorted(during.items())), (dict(inner), during)
            assert same_pairs(after, sorted(self.model.items())), (dict(after), self.model)
        else:
            with pytest.raises(ValueError, match=f"^{ABANDON}$"):
                self.inside(body)  # test code run inside the object sees its own exception
            self.check_everything()

    @rule(steps=st.lists(st.tuples(st.booleans(), KEYS, TXN_VALUES), max_size=6), sync=st.booleans())
    def transaction_that_commits(self, steps: list[tuple[bool, str, Any]], sync: bool) -> None:
        async def body(obj: Any, ctx: Any) -> Any:
            if sync:

                def work() -> str:
                    for is_put, key, value in steps:
                        if is_put:
                            ctx.storage.put(key, value)
                        else:
                            ctx.storage.delete(key)
                    return "done"

                return ctx.storage.transactionSync(work)

            async def closure(txn: Any) -> str:
                for is_put, key, value in steps:
                    if is_put:
                        await txn.put(key, value)
                    else:
                        await txn.delete(key)
                return "done"

            return await ctx.storage.transaction(closure)

        assert self.inside(body) == "done"
        for is_put, key, value in steps:
            if is_put:
                self.model[key] = to_wire(value)
            else:
                self.model.pop(key, None)


KvModel.TestCase.settings = settings(
    max_examples=1000,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
TestKvModel = KvModel.TestCase
