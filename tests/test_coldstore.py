"""Cold objects past the spill threshold live in a scratch file; nothing they stored is lost."""

from __future__ import annotations

import os
from typing import Any

import pytest

from dolab import DurableObject, Lab
from dolab.runtime import coldstore
from dolab.runtime.coldstore import ColdStore


def test_a_cold_store_is_a_dict_that_spills() -> None:
    store = ColdStore(spill_at=10)
    for i in range(25):
        store[b"k%d" % i] = b"v%d" % i
    assert len(store) == 25 and len(store.recent) <= 10 and store._path is not None and os.path.exists(store._path)
    assert store[b"k0"] == b"v0" and b"k1" in store and b"nope" not in store  # the oldest went to the file
    assert dict(store.items()) == {b"k%d" % i: b"v%d" % i for i in range(25)}
    store[b"k0"] = b"new"  # a key on disk, set again: one entry, the new value
    assert len(store) == 25 and store[b"k0"] == b"new"
    assert store.pop(b"k2") == b"v2" and store.pop(b"k2") is None and len(store) == 24
    del store[b"k3"]
    with pytest.raises(KeyError):
        del store[b"k3"]
    assert sorted(store) == sorted(b"k%d" % i for i in range(25) if i not in (2, 3))
    path = store._path
    store.close()
    assert not os.path.exists(path)


class Cart(DurableObject):
    async def add(self, n: int) -> list[Any]:
        items = (await self.ctx.storage.get("items")) or []
        items.append(n)
        await self.ctx.storage.put("items", items)
        return [self.ctx.id.name, items]


def test_objects_spilled_to_the_file_wake_with_their_data_and_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(coldstore, "SPILL_AT", 20)
    monkeypatch.setattr(ColdStore.__init__, "__defaults__", (20,))
    with Lab(durable_objects={"CART": Cart}, max_active=5) as lab:
        ns = lab.env.CART
        for i in range(100):
            lab.run(ns.getByName(f"user-{i}").add(i))
        assert len(lab.namespaces["CART"].cold) >= 95 and lab.namespaces["CART"].cold._on_disk > 0
        for i in range(100):  # each woken from the file (or the dict), then written again
            assert lab.run(ns.getByName(f"user-{i}").add(-i)) == [f"user-{i}", [i, -i]]
        assert len(lab.list_durable_object_ids(ns)) == 100
        raw = ns.idFromName("user-7")._raw
        # Woken by its id's bytes alone (as an alarm or a WebSocket message wakes it), it still knows its name.
        assert lab.namespaces["CART"].host_by_raw(raw).id.name == "user-7"
