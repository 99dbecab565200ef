"""Durable Object ids: 64 hex digits, derived from a name or drawn at random, checked by a MAC.

The construction follows workerd's local implementation: the namespace key is SHA-256 of the
namespace's unique key; a named id is the first 16 bytes of HMAC(key, name) followed by the first
16 bytes of HMAC(key, those 16 bytes); a unique id is 16 random bytes followed by the same MAC.
``idFromString`` recomputes the MAC, which is how it tells an id of another namespace.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import random

from dolab.runtime.errors import InvalidIdError

_HEX = frozenset("0123456789abcdefABCDEF")


def namespace_key(unique_key: str) -> bytes:
    """The secret that ids of one namespace share."""
    return hashlib.sha256(("dolab-namespace:" + unique_key).encode()).digest()


def _mac(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, body, hashlib.sha256).digest()[:16]


class DurableObjectId:
    """The identity of one Durable Object within one namespace.

    Cloudflare's names are kept: ``toString()``, ``equals()``, ``name``.
    """

    __slots__ = ("_key", "_raw", "name")

    def __init__(self, raw: bytes, key: bytes, name: str | None = None) -> None:
        self._raw = raw
        self._key = key
        self.name = name

    def toString(self) -> str:
        """The id as 64 lowercase hex digits."""
        return self._raw.hex()

    def equals(self, other: object) -> bool:
        """True if ``other`` is the same id of the same namespace."""
        return isinstance(other, DurableObjectId) and other._raw == self._raw

    @property
    def jurisdiction(self) -> None:
        """Always ``None``: dolab does not emulate jurisdictions."""
        return None

    def __eq__(self, other: object) -> bool:
        return self.equals(other)

    def __hash__(self) -> int:
        return hash(self._raw)

    def __str__(self) -> str:
        return self.toString()

    def __repr__(self) -> str:
        named = f", name={self.name!r}" if self.name is not None else ""
        return f"DurableObjectId({self.toString()[:12]}…{named})"


def id_from_name(key: bytes, name: str) -> DurableObjectId:
    """The id for ``name`` (already a string): the same name always gives the same id."""
    return DurableObjectId(_named_raw(key, name), key, name)


@functools.lru_cache(maxsize=1 << 15)
def _named_raw(key: bytes, name: str) -> bytes:
    """Two HMACs per name, remembered for the names used most recently: a busy object's callers
    derive its id on every request (``getByName``), and ~5 us each is a fair share of a call."""
    first = _mac(key, name.encode("utf-8"))
    return first + _mac(key, first)


def new_unique_id(key: bytes, rng: random.Random) -> DurableObjectId:
    """A fresh random id; randomness comes from the lab's seeded generator."""
    body = rng.getrandbits(128).to_bytes(16, "big")
    return DurableObjectId(body + _mac(key, body), key)


def id_from_string(key: bytes, text: object) -> DurableObjectId:
    """Parse ``toString()`` output; refuse malformed ids and ids of another namespace."""
    if not isinstance(text, str) or len(text) != 64 or not _HEX.issuperset(text):
        raise InvalidIdError("Invalid Durable Object ID: must be 64 hex digits")
    raw = bytes.fromhex(text)
    if not hmac.compare_digest(raw[16:], _mac(key, raw[:16])):
        raise InvalidIdError("Durable Object ID is not valid for this namespace.")
    return DurableObjectId(raw, key)
