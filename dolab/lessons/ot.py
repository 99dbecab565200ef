"""Chapter 11's first way to merge: the document object orders the edits and transforms late ones.

An edit is a list of operations, each ``{"at": i, "insert": "text"}`` or ``{"at": i, "delete": n}``,
applied one after the other. Two edits made on the same text are brought together by
:func:`transform_ops`: each is rewritten to apply after the other, so that both orders end on the same
text (operational transformation, as Google Docs and Etherpad do it; the object's order breaks ties).
:func:`parse_edit` reads what a client sends and refuses anything malformed or too large with a
``ValueError`` that names the value and the rule.

These functions are the chapter's own (``notebooks/11_collaborative_document.ipynb`` defines the same
ones, and a test holds the two copies equal); the page's JavaScript (``doc_page/index.html``) mirrors
them, and the browser test checks that it computes what these do.
"""

from __future__ import annotations

import json
from typing import Any

MAX_MESSAGE = 64 * 1024  # characters one message may hold
MAX_INSERT = 4096  # characters one edit may insert
MAX_OPS = 64  # operations in one edit
MAX_DOCUMENT = 100_000  # characters a document may hold

Op = dict[str, Any]


def apply_ops(text: str, ops: list[Op]) -> str:
    """``text`` after ``ops``, in order; a position past the end is a ValueError."""
    for op in ops:
        at = op["at"]
        if "insert" in op:
            if at > len(text):
                raise ValueError(f"insert at {at} is past the end of the text ({len(text)} characters)")
            text = text[:at] + op["insert"] + text[at:]
        else:
            if at + op["delete"] > len(text):
                raise ValueError(f"delete of {op['delete']} at {at} runs past the end of the text "
                                 f"({len(text)} characters)")
            text = text[:at] + text[at + op["delete"]:]
    return text


def transform(op: Op, other: Op, op_first: bool) -> list[Op]:
    """``op`` rewritten to apply after ``other`` (both made on the same text). Two inserts at one
    place: ``op_first`` says whose text goes first. A delete split by an insert becomes two."""
    at = op["at"]
    if "insert" in other:
        where, size = other["at"], len(other["insert"])
        if "insert" in op:
            if at < where or (at == where and op_first):
                return [op]
            return [{"at": at + size, "insert": op["insert"]}]
        end = at + op["delete"]
        if where <= at:
            return [{"at": at + size, "delete": op["delete"]}]
        if where >= end:
            return [op]
        return [{"at": at, "delete": where - at}, {"at": at + size, "delete": end - where}]
    start, stop = other["at"], other["at"] + other["delete"]
    if "insert" in op:
        if at <= start:
            return [op]
        return [{"at": max(start, at - (stop - start)), "insert": op["insert"]}]
    end = at + op["delete"]
    left = op["delete"] - max(0, min(end, stop) - max(at, start))  # what the other did not delete already
    if left == 0:
        return []
    return [{"at": at if at <= start else max(start, at - (stop - start)), "delete": left}]


def transform_ops(ops: list[Op], others: list[Op], ops_first: bool) -> tuple[list[Op], list[Op]]:
    """Two edits made on the same text, each rewritten to apply after the other: (ops', others')."""
    if not ops or not others:
        return list(ops), list(others)
    if len(ops) == 1 and len(others) == 1:
        return transform(ops[0], others[0], ops_first), transform(others[0], ops[0], not ops_first)
    if len(ops) > 1:
        head, others = transform_ops(ops[:1], others, ops_first)
        tail, others = transform_ops(ops[1:], others, ops_first)
        return head + tail, others
    head, ops = transform_ops(others[:1], ops, not ops_first)
    tail, ops = transform_ops(others[1:], ops, not ops_first)
    return ops, head + tail


def parse_edit(message: Any) -> tuple[int, int, list[Op]]:
    """(base version, sequence number, ops) from a client's message, or a ValueError saying what is wrong."""
    if not isinstance(message, str):
        raise ValueError("this document speaks JSON text; got a binary message")
    if len(message) > MAX_MESSAGE:
        raise ValueError(f"a message may hold {MAX_MESSAGE} characters, got {len(message)}")
    try:
        edit = json.loads(message)
    except ValueError:
        raise ValueError(f"not JSON: {message[:40]!r}") from None
    if not isinstance(edit, dict) or edit.get("type") != "edit":
        raise ValueError(f'expected {{"type": "edit", "base": ..., "seq": ..., "ops": [...]}}, got {message[:60]!r}')
    base, seq, ops = edit.get("base"), edit.get("seq"), edit.get("ops")
    for name, value in (("base", base), ("seq", seq)):
        if type(value) is not int or value < 0:
            raise ValueError(f"{name} must be an int >= 0, got {value!r}")
    if not isinstance(ops, list) or not 1 <= len(ops) <= MAX_OPS:
        raise ValueError(f"ops must be a list of 1 to {MAX_OPS} operations, got {str(ops)[:40]}")
    inserted = 0
    for op in ops:
        if not isinstance(op, dict) or type(op.get("at")) is not int or op["at"] < 0:
            raise ValueError(f"each op needs an int 'at' >= 0, got {op!r:.60}")
        if set(op) == {"at", "insert"} and isinstance(op["insert"], str) and op["insert"]:
            inserted += len(op["insert"])
        elif not (set(op) == {"at", "delete"} and type(op["delete"]) is int and op["delete"] > 0):
            raise ValueError(f"an op is {{'at', 'insert': non-empty text}} or {{'at', 'delete': int > 0}}, "
                             f"got {op!r:.60}")
    if inserted > MAX_INSERT:
        raise ValueError(f"one edit may insert {MAX_INSERT} characters, this one inserts {inserted}")
    return base, seq, ops  # type: ignore[return-value]  # checked above: ints >= 0 and a list of ops
