"""The error hierarchy: the tree drawn in dolab.runtime.errors is the real one, and each kind of
mistake has its own class that also is the built-in exception a Python programmer expects."""

from __future__ import annotations

import re

import pytest

import dolab
from dolab import (
    ConfigError,
    DolabError,
    FetchError,
    Lab,
    LabError,
    LabStateError,
    Request,
    Response,
    SerializationError,
)
from dolab.runtime import errors


def _drawn_tree() -> dict[str, str | None]:
    """Class name -> parent class name, read from the tree in the module docstring."""
    doc = errors.__doc__ or ""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in doc.splitlines():
        match = re.match(r"^(\s*)(?:[│ ]*[├└]── )?([A-Z]\w+)", line)
        if not match or not line.startswith("    "):
            continue
        depth = len(line) - len(line.lstrip(" │├└─"))
        name = match.group(2)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[name] = stack[-1][1] if stack else None
        stack.append((depth, name))
    return parents


def test_the_drawn_tree_is_the_real_hierarchy() -> None:
    drawn = _drawn_tree()
    real: dict[str, str | None] = {}

    def walk(cls: type, parent: type | None) -> None:
        real[cls.__name__] = parent.__name__ if parent else None
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("dolab"):
                walk(sub, cls)

    walk(DolabError, None)
    assert drawn == real


@pytest.mark.parametrize("name", [n for n in dolab.__all__ if n.endswith("Error")])
def test_every_public_error_is_in_the_tree(name: str) -> None:
    assert name in _drawn_tree()


def test_bad_settings_are_value_errors_and_bad_moments_runtime_errors() -> None:
    assert issubclass(ConfigError, ValueError) and issubclass(ConfigError, LabError)
    assert issubclass(LabStateError, RuntimeError) and issubclass(LabStateError, LabError)
    with pytest.raises(ConfigError, match=r"^max_active must be an int >= 1, got 0$"):
        Lab(max_active=0)
    lab = Lab()
    lab.close()
    with pytest.raises(LabStateError, match=r"^this lab is closed; create a new Lab\(\)$"):
        lab.advance(1)


def test_fetch_api_misuse_is_a_fetch_error() -> None:
    with pytest.raises(FetchError, match=r"^Fetch API cannot load: 'cart/add'"):
        Request("cart/add")
    with pytest.raises(FetchError, match=r"^Response status must be an int in 200\.\.599, got 99$"):
        Response("x", status=99)
    with pytest.raises(FetchError, match=r"^body must be str, bytes or None, got int$"):
        Response(5)
    with pytest.raises(FetchError, match=r"^header names and values must be str"):
        Request("https://a/b", headers={"x": 1})


def test_values_that_cannot_cross_a_stub_are_serialization_errors() -> None:
    from dolab.runtime.values import to_wire

    with pytest.raises(SerializationError, match=r"^<class 'frozenset'> cannot be sent over RPC\.$"):
        to_wire(frozenset({1, 2}))
    assert issubclass(SerializationError, TypeError)
