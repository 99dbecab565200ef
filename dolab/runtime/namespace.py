"""Namespaces (``env.CART``) and stubs: how code reaches an object.

A stub is only an address: creating one does not create the object. The first call through it
does. Calls made through one stub arrive in the order they were made.
"""

from __future__ import annotations

import os
import zlib
from typing import TYPE_CHECKING, Any

from dolab.runtime import ids, wallclock
from dolab.runtime.coldstore import ColdStore
from dolab.runtime.context import current_host, current_region
from dolab.runtime.database import object_files
from dolab.runtime.errors import (
    FAILURES,
    ConfigError,
    DurableObjectError,
    FetchError,
    InvalidIdError,
    ResetError,
    RpcError,
    mark_remote,
)
from dolab.runtime.fetch import Request, Response
from dolab.runtime.host import ObjectHost
from dolab.runtime.lifecycle import Rest
from dolab.runtime.values import short, storage_key, to_wire

if TYPE_CHECKING:
    from dolab.runtime.engine import Engine

LOCATION_HINTS = ("wnam", "enam", "sam", "weur", "eeur", "apac", "oc", "afr", "me")
JURISDICTIONS = ("eu", "fedramp", "fedramp-high")


def _raw_string(value: Any) -> str:
    """``String(value)`` after Pyodide's own conversion (``None`` is ``undefined``)."""
    if value is None:
        return "undefined"
    return storage_key(value)


def _name(stored: bytes) -> str:
    return stored.decode("utf-8", "surrogatepass")


class DurableObjectNamespace:
    """``env.BINDING``: makes ids and stubs for one Durable Object class."""

    def __init__(self, engine: Engine, binding: str, cls: type) -> None:
        self.engine = engine
        self.binding = binding
        self.cls = cls
        self.folder = cls.__name__  # persist mode: where this class's files live
        self.key = ids.namespace_key(cls.__name__)
        self.hosts: dict[bytes, ObjectHost] = {}  # objects in memory
        # Cold objects: id bytes -> state letter (+ compressed database image in memory mode).
        self.cold = ColdStore()  # a dict, spilling to a scratch file past 50,000 entries
        self.hibernating = 0  # how many cold entries are hibernated (the rest were evicted)
        self.location_hints: dict[bytes, str] = {}
        # The name of each named object that was started: an alarm or a WebSocket message wakes an
        # object by its id's bytes alone, and ctx.id.name must still say its name (as on Cloudflare
        # since 2026-03-15). A restarted persist-mode lab learns a name again at the first getByName.
        # Kept while the object is cold (a live host has it in its id), utf-8 encoded.
        self.names = ColdStore()
        # datetime.now() in the class's code reads the lab clock (see wallclock.adopt).
        self.module_names = wallclock.adopt(cls)

    # -- ids ------------------------------------------------------------------------------------

    def idFromName(self, name: str) -> ids.DurableObjectId:
        """The id for ``name``; the same name always gives the same id for this class.

        As on Cloudflare, a name that is not a string becomes one (``5`` is ``"5"``, ``None``
        is ``"undefined"``: the SDK passes namespace arguments to JavaScript unconverted).
        """
        return ids.id_from_name(self.key, _raw_string(name))

    def newUniqueId(self, options: dict[str, Any] | None = None, **more: Any) -> ids.DurableObjectId:
        """A new random id (from the lab's seeded generator). ``jurisdiction`` is accepted and
        checked as in production, and has no further effect in dolab."""
        jurisdiction = dict(options or {}, **more).get("jurisdiction")
        if jurisdiction is not None and jurisdiction not in JURISDICTIONS:
            raise InvalidIdError(f"unknown jurisdiction {jurisdiction!r}; Cloudflare's are {', '.join(JURISDICTIONS)}")
        return ids.new_unique_id(self.key, self.engine.rng)

    def idFromString(self, text: str) -> ids.DurableObjectId:
        """Parse an id from ``toString()``; refuses malformed ids and ids of other namespaces."""
        return ids.id_from_string(self.key, text)

    # -- stubs ----------------------------------------------------------------------------------

    def get(self, id: ids.DurableObjectId, options: dict[str, Any] | None = None) -> DurableObjectStub:
        """A stub for ``id``. Does not create the object; the first call does."""
        if not isinstance(id, ids.DurableObjectId):
            raise InvalidIdError(
                "get() needs a DurableObjectId (from idFromName/newUniqueId/idFromString), "
                f"got {type(id).__name__}: {short(id)}"
            )
        if id._key != self.key:
            raise InvalidIdError("Durable Object ID is not valid for this namespace.")
        hint = (options or {}).get("locationHint")
        if hint is not None:
            if hint not in LOCATION_HINTS:
                raise ConfigError(f"unknown locationHint {hint!r}; valid hints: {', '.join(LOCATION_HINTS)}")
            # Only the first get() for an object counts, as on Cloudflare.
            self.location_hints.setdefault(id._raw, hint)
        return DurableObjectStub(self, id)

    def getByName(self, name: str, options: dict[str, Any] | None = None) -> DurableObjectStub:
        """Shorthand for ``get(idFromName(name))``."""
        return self.get(self.idFromName(name), options)

    # -- hosts (lab thread only) ------------------------------------------------------------------

    def host(self, id: ids.DurableObjectId) -> ObjectHost:
        """The host of ``id``, activating the object if it is cold or new."""
        host = self.hosts.get(id._raw)
        if host is None:
            known = self.names.pop(id._raw, None)
            if id.name is None and known is not None:
                id = ids.DurableObjectId(id._raw, self.key, _name(known))
            entry = self.cold.pop(id._raw, None)
            if entry is not None and entry[:1] == b"h":
                self.hibernating -= 1
            host = ObjectHost(self, id, entry)
            self.hosts[id._raw] = host
        return host

    def host_by_raw(self, raw: bytes) -> ObjectHost:
        """Like :meth:`host`, from the id's bytes (alarms and sockets keep only those)."""
        host = self.hosts.get(raw)
        return host if host is not None else self.host(ids.DurableObjectId(raw, self.key))

    def store_cold(self, host: ObjectHost, state: Rest, image: bytes | None, empty: bool) -> None:
        """Take a deactivated host out of memory; keep its bytes (or nothing, if it stored nothing)."""
        self.hosts.pop(host.raw, None)
        engine = self.engine
        engine.lifecycle.forget(host)
        name = host.id.name
        if name is not None:  # even if it goes: a hibernated WebSocket may wake it by its bytes
            self.names.set_absent(host.raw, name.encode("utf-8", "surrogatepass"))  # host() took it out
        if empty:
            # An object whose storage was found empty ceases to exist, as on Cloudflare.
            if engine.persist is not None:
                path = engine.persist / self.folder / f"{host.id.toString()}.sqlite"
                if path.exists():
                    os.remove(path)
            return
        # host() took its entry out when it woke, so there is no older one to replace.
        self.hibernating += state is Rest.HIBERNATED
        self.cold.set_absent(host.raw, state.value.encode() + (image or b""))
        if state is Rest.HIBERNATED:
            engine.counters.hibernated += 1
        else:
            engine.counters.evicted += 1

    def stored_bytes(self) -> int:
        """Bytes stored by this class's objects, in memory or not (lab thread only)."""
        total = sum(host.db.size() for host in self.hosts.values() if host.db is not None)
        for raw, entry in self.cold.items():
            if len(entry) > 1:  # memory mode: the state letter + a compressed SQLite image
                # Only SQLite's 100-byte header is needed: page size at offset 16, page count at 28,
                # free pages at 36 (Database.size skips them too). No need to inflate the whole image.
                head = zlib.decompressobj().decompress(entry[1:], 100)
                page = int.from_bytes(head[16:18], "big") or 65536
                total += (int.from_bytes(head[28:32], "big") - int.from_bytes(head[36:40], "big")) * page
            elif self.engine.persist is not None:
                path = self.engine.persist / self.folder / f"{raw.hex()}.sqlite"
                total += path.stat().st_size if path.exists() else 0
        return total

    def stored_ids(self) -> list[ids.DurableObjectId]:
        raws = set(self.cold)
        raws.update(raw for raw, host in self.hosts.items() if host.db is not None and not host.db.is_empty())
        raws.update(raw for raw, host in self.hosts.items() if host.cold_image is not None or host.was is not Rest.NEW)
        if self.engine.persist is not None:
            folder = self.engine.persist / self.folder
            if folder.is_dir():
                raws.update(bytes.fromhex(p.stem) for p in object_files(folder))
        # Names are not kept for cold objects (a million names would cost memory); ids are.
        names = {raw: host.id.name for raw, host in self.hosts.items()}
        return [ids.DurableObjectId(raw, self.key, names.get(raw)) for raw in sorted(raws)]

    def __repr__(self) -> str:
        return f"<DurableObjectNamespace {self.binding} of {self.cls.__name__}>"


class DurableObjectStub:
    """A client-side handle on one object: ``await stub.method(...)`` or ``await stub.fetch(url)``."""

    _dolab_passable = True

    def __init__(self, ns: DurableObjectNamespace, id: ids.DurableObjectId) -> None:
        self._ns = ns
        self.id = id
        self._broken: BaseException | None = None

    @property
    def name(self) -> str | None:
        return self.id.name

    def __getattr__(self, name: str) -> RpcMethod:
        if name.startswith("_"):
            raise RpcError(
                f"{name!r} cannot be called over RPC: names starting with '_' are private to the object."
            )
        method = RpcMethod(self, name)
        self.__dict__[name] = method  # next time, a plain attribute lookup
        return method

    def fetch(self, input: Any = None, init: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """Send an HTTP-style request to the object's ``fetch`` handler; returns a ``Response``."""
        if input is None:
            raise FetchError("Failed to execute 'fetch' on 'Fetcher': parameter 1 is not of type 'Request or string'.")
        options = dict(init or {}, **kwargs)
        unknown = set(options) - {"method", "headers", "body"}
        if unknown:
            raise FetchError(f"fetch() got unknown options {sorted(unknown)}; allowed: method, headers, body")
        request = input if isinstance(input, Request) else Request(input, **options)
        return self._ns.engine.enter(self._invoke("fetch", "fetch", request, None))

    async def _invoke(self, kind: str, name: str, args: Any, kwargs: Any) -> Any:
        if self._broken is not None:
            raise ResetError(
                f"This stub is broken: the object was reset ({self._broken}). "
                "Create a new stub with get() or getByName()."
            )
        caller = current_host.get()
        if caller is not None:
            caller.commit()  # output gate: an outgoing call waits for the caller's writes
        ns = self._ns
        engine = ns.engine
        if engine.failures:
            self._maybe_fail(engine.failures)
        host = ns.host(self.id)
        engine.counters.requests += 1
        network = engine.network
        src = (caller.region if caller is not None else current_region.get()) if network else None
        dst = None
        if network is not None and src is not None:
            dst = network.place(ns, self.id._raw, src)
            network.count_round_trip(dst)
            await network.transit(src, dst, "network", f"{ns.binding}.{name}")
            if self.id.name is not None:
                # A named object's global uniqueness check: the first request pays it, and any
                # request that arrives while it runs waits for it too.
                await network.first_use(src, dst, (ns.binding, self.id._raw))
            if ns.hosts.get(self.id._raw) is not host:
                # It went cold while the call was on its way (idle for 10 s, it hibernated during
                # the transit): the call wakes it again from what it stored, never the stale host.
                host = ns.host(self.id)
        try:
            result = await host.call(kind, name, args, kwargs)
        except ResetError as exc:
            self._broken = exc
            raise
        finally:
            if dst is not None and src is not None and network is not None:
                await network.transit(dst, src, "network", f"{ns.binding}.{name} reply")
            if caller is not None:
                await caller.gate.wait_open()
        if kind == "fetch" and not isinstance(result, Response):
            raise FetchError(f"fetch() handler must return a Response, got {type(result).__name__}")
        return result

    def _maybe_fail(self, failures: dict[tuple[str, bytes], list[str]]) -> None:
        pending = failures.get((self._ns.binding, self.id._raw))
        if pending:
            message, flags = FAILURES[pending.pop(0)]
            raise mark_remote(DurableObjectError(message), remote=False, **flags)

    def __repr__(self) -> str:
        return f"<DurableObjectStub {self._ns.binding} {self.id!r}>"


class RpcMethod:
    """``stub.add``: calling it sends the call; awaiting the result waits for the reply."""

    __slots__ = ("_name", "_stub")

    def __init__(self, stub: DurableObjectStub, name: str) -> None:
        self._stub = stub
        self._name = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        stub = self._stub
        # Copied now, at call time: later changes by the caller cannot reach the object.
        copied_args = to_wire(list(args), "RPC") if args else []
        copied_kwargs = to_wire(kwargs, "RPC") if kwargs else {}
        return stub._ns.engine.enter(stub._invoke("rpc", self._name, copied_args, copied_kwargs))

    def __repr__(self) -> str:
        return f"<RpcMethod {self._stub._ns.binding}.{self._name}>"
