"""How a stored value is written as bytes: MessagePack, which is data and can never run code.

Values reach here already converted as a Python Worker's would be (:func:`dolab.runtime.values.to_wire`),
so only these types occur: ``None``, ``bool``, ``int`` (any size), ``float``, ``str``, ``memoryview``
(bytes), ``list``, ``dict`` with ``str`` keys, ``set``, a naive UTC ``datetime`` and an
``Exception`` (a JavaScript ``Error``). MessagePack holds the first seven natively; the rest use
its extension types, decoded only by :func:`_ext`, which knows four codes and nothing else.

Why not pickle (which dolab once used): a pickle runs code when it is loaded, so opening someone
else's persist folder (a course checkpoint, say) would run whatever its author put there.
Values stored by those versions are still read, by an unpickler that refuses every class but
``datetime``'s, so no stored data is lost and none can run code.
"""

from __future__ import annotations

import datetime as _dt
import io
import pickle
from typing import Any

import msgpack

from dolab.runtime.errors import StorageError
from dolab.runtime.values import JsDict, JsError, to_wire

VERSION = b"\x01"  # first byte of every value written by this codec (a pickle starts with 0x80)
_BIGINT, _SET, _DATE, _ERROR = 1, 2, 3, 4
_INT64 = (-(2**63), 2**64 - 1)  # what MessagePack's integers hold


def _default(value: Any) -> msgpack.ExtType:
    if isinstance(value, int):  # beyond 64 bits: a JavaScript BigInt
        return msgpack.ExtType(_BIGINT, str(value).encode())
    if isinstance(value, set):
        return msgpack.ExtType(_SET, _pack(list(value)))
    if isinstance(value, _dt.datetime):
        micros = (value - _EPOCH) // _dt.timedelta(microseconds=1)
        return msgpack.ExtType(_DATE, micros.to_bytes(8, "big", signed=True))
    if isinstance(value, BaseException):
        return msgpack.ExtType(_ERROR, str(value).encode())
    raise TypeError(f"cannot store {type(value).__name__}")  # to_wire refused these already


def _pack(value: Any) -> bytes:
    # surrogatepass: a JavaScript string may hold a lone surrogate, and V8 stores it as it is.
    return msgpack.packb(value, default=_default, use_bin_type=True, datetime=False,  # type: ignore[no-any-return]
                         unicode_errors="surrogatepass")


_EPOCH = _dt.datetime(1970, 1, 1)


def _ext(code: int, data: bytes) -> Any:
    if code == _BIGINT:
        return int(data)
    if code == _SET:
        return set(_views(_unpack(data)))
    if code == _DATE:
        return _EPOCH + _dt.timedelta(microseconds=int.from_bytes(data, "big", signed=True))
    if code == _ERROR:
        return JsError(data.decode())
    raise StorageError(f"stored value has an unknown extension type {code}; was it written by dolab?")


def _unpack(data: bytes) -> Any:
    return msgpack.unpackb(data, ext_hook=_ext, raw=False, strict_map_key=True, object_hook=JsDict,
                           unicode_errors="surrogatepass")


def encode(value: Any) -> bytes:
    """``value`` (already converted by ``to_wire``) as bytes to store."""
    return VERSION + _pack(_bigints(value) if _has_bigint(value) else value)


def decode(blob: bytes) -> Any:
    """What :func:`encode` wrote (or a value an earlier dolab pickled), as ``get()`` returns it:
    dicts as :class:`JsDict`, bytes as ``memoryview``."""
    if blob[:1] == VERSION:
        value = _unpack(blob[1:])
        return _views(value) if type(value) in _CONTAINERS else value
    if blob[:1] == b"\x80":
        return to_wire(_LegacyUnpickler(io.BytesIO(blob)).load(), "storage")
    raise StorageError(f"stored value starts with byte {blob[:1]!r}: not a value dolab wrote")


_CONTAINERS = (bytes, list, JsDict, set)


def _views(value: Any) -> Any:
    """MessagePack gives ``bytes``; a Python Worker gets a ``memoryview`` (a ``Uint8Array``)."""
    kind = type(value)
    if kind is bytes:
        return memoryview(value)
    if kind is list:
        for i, v in enumerate(value):
            if type(v) in _CONTAINERS:
                value[i] = _views(v)
    elif kind is JsDict:
        for k, v in value.items():
            if type(v) in _CONTAINERS:
                value[k] = _views(v)
    elif kind is set:
        return {_views(v) if type(v) is bytes else v for v in value}
    return value


def _has_bigint(value: Any) -> bool:
    kind = type(value)
    if kind is int:
        return not _INT64[0] <= value <= _INT64[1]
    if kind is list:
        return any(_has_bigint(v) for v in value)
    if kind is dict or isinstance(value, dict):
        return any(_has_bigint(v) for v in value.values())
    if kind is set:
        return any(_has_bigint(v) for v in value)
    return False


def _bigints(value: Any) -> Any:
    """MessagePack raises on ints beyond 64 bits instead of asking ``default``: wrap them first."""
    kind = type(value)
    if kind is int and not _INT64[0] <= value <= _INT64[1]:
        return _default(value)
    if kind is list:
        return [_bigints(v) for v in value]
    if isinstance(value, dict):
        return type(value)((k, _bigints(v)) for k, v in value.items())
    if kind is set:
        return msgpack.ExtType(_SET, _pack([_bigints(v) for v in value]))
    return value


class _LegacyUnpickler(pickle.Unpickler):
    """Reads values stored by dolab before it used MessagePack; refuses every class but datetime's."""

    _ALLOWED = {("datetime", "datetime"), ("datetime", "timezone"), ("datetime", "timedelta")}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self._ALLOWED:
            return getattr(_dt, name)
        raise StorageError(f"stored value refers to {module}.{name}: refused (stored values never run code)")
