"""Namespaces and ids: deterministic names, unique ids, parsing, and laziness of stubs."""

from __future__ import annotations

import re

import pytest

from dolab import DurableObject, DurableObjectId, InvalidIdError, Lab
from tests.conftest import Counter


class Other(DurableObject):
    pass


def test_id_from_name_is_64_hex_and_deterministic(lab: Lab) -> None:
    ns = lab.env.COUNTER
    a, b = ns.idFromName("alice"), ns.idFromName("alice")
    assert re.fullmatch(r"[0-9a-f]{64}", a.toString())
    assert a.equals(b) and a == b and a is not b
    assert a.name == "alice"
    assert not a.equals(ns.idFromName("bob"))


def test_same_name_in_another_class_gives_another_id() -> None:
    with Lab(durable_objects={"COUNTER": Counter, "OTHER": Other}) as lab:
        assert lab.env.COUNTER.idFromName("x").toString() != lab.env.OTHER.idFromName("x").toString()


def test_ids_are_stable_across_labs_and_seeds() -> None:
    with Lab(durable_objects={"COUNTER": Counter}, seed=1) as one, \
            Lab(durable_objects={"COUNTER": Counter}, seed=2) as two:
        assert one.env.COUNTER.idFromName("alice").toString() == two.env.COUNTER.idFromName("alice").toString()


def test_new_unique_id_differs_each_time_and_follows_the_seed() -> None:
    def draw(seed: int) -> list[str]:
        with Lab(durable_objects={"COUNTER": Counter}, seed=seed) as lab:
            return [lab.env.COUNTER.newUniqueId().toString() for _ in range(5)]

    first = draw(7)
    assert len(set(first)) == 5
    assert draw(7) == first
    assert draw(8) != first


def test_unique_id_has_no_name_and_round_trips_through_string(lab: Lab) -> None:
    ns = lab.env.COUNTER
    uid = ns.newUniqueId()
    assert uid.name is None
    again = ns.idFromString(uid.toString())
    assert again.equals(uid)
    assert ns.idFromString(uid.toString().upper()).equals(uid)


def test_id_from_string_rejects_bad_and_foreign_ids() -> None:
    with Lab(durable_objects={"COUNTER": Counter, "OTHER": Other}) as lab:
        with pytest.raises(InvalidIdError, match=r"^Invalid Durable Object ID: must be 64 hex digits$"):
            lab.env.COUNTER.idFromString("abc")
        foreign = lab.env.OTHER.idFromName("alice").toString()
        with pytest.raises(InvalidIdError, match="not valid for this namespace"):
            lab.env.COUNTER.idFromString(foreign)
        with pytest.raises(InvalidIdError, match="not valid for this namespace"):
            lab.env.COUNTER.get(lab.env.OTHER.idFromName("alice"))
        own = lab.env.COUNTER.idFromName("a").toString()
        assert isinstance(lab.env.COUNTER.idFromString(own), DurableObjectId)


def test_stub_creation_does_not_create_the_object(lab: Lab) -> None:
    stub = lab.env.COUNTER.getByName("lazy")
    assert stub.id.name == "lazy" and stub.name == "lazy"
    assert Counter.constructed == 0
    assert lab.statistics().active == 0
    assert lab.run(stub.add()) == 1
    assert Counter.constructed == 1


def test_get_and_get_by_name_reach_the_same_object(lab: Lab) -> None:
    ns = lab.env.COUNTER
    lab.run(ns.getByName("same").add(5))
    assert lab.run(ns.get(ns.idFromName("same")).read()) == 5
    assert lab.run(ns.get(ns.idFromString(ns.idFromName("same").toString())).read()) == 5


def test_ctx_id_carries_the_name(lab: Lab) -> None:
    stub = lab.env.COUNTER.getByName("carol")
    name = lab.run(lab.run_in_durable_object(stub, lambda obj, ctx: (ctx.id.name, ctx.id.toString())))
    assert name == ("carol", stub.id.toString())
