"""Chapter 11's documents behind ``dolab serve``, over real WebSockets (the ``websockets`` client).

Bad input from a real connection — text that is not an edit, an edit past the end, an insert over the
limit, bytes to the ordered document, text and garbage to the CRDT one — each gets an error naming
what is wrong, the connection stays open, and the document is unchanged for the next client.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pycrdt import Doc, Text
from websockets.sync.client import connect

from dolab.lessons.docroom import DOC_PAGE
from dolab.lessons.ot import MAX_INSERT
from dolab.tools.runner import prepare
from dolab.tools.serve import Server, serve

CHAPTER = Path(__file__).resolve().parent.parent / "notebooks" / "11_collaborative_document.ipynb"


@pytest.fixture(scope="module")
def served() -> Iterator[Server]:
    lab, worker, _ = prepare(str(CHAPTER), classes=["Document", "CrdtDocument"])
    with serve(lab, worker, assets=DOC_PAGE) as server:
        yield server
    lab.close()


def _ws(server: Server, kind: str, user: str) -> str:
    return server.url.replace("http", "ws") + f"/{kind}/served/ws?user={user}"


def _next(ws: object, kind: str) -> dict[str, object]:
    while True:
        message = ws.recv(timeout=5)  # type: ignore[attr-defined]
        if isinstance(message, str) and json.loads(message)["type"] == kind:
            return json.loads(message)  # type: ignore[no-any-return]


def test_the_ordered_document_refuses_bad_edits_and_stays_intact(served: Server) -> None:
    with connect(_ws(served, "doc", "ann")) as ann:
        assert _next(ann, "history")["version"] == 0
        ann.send(json.dumps({"type": "edit", "base": 0, "seq": 1, "ops": [{"at": 0, "insert": "kept"}]}))
        assert _next(ann, "ack")["version"] == 1
        bad = ["hello", json.dumps({"type": "edit", "base": 1, "seq": 2, "ops": [{"at": 99, "insert": "x"}]}),
               json.dumps({"type": "edit", "base": 1, "seq": 3, "ops": [{"at": 0, "insert": "x" * (MAX_INSERT + 1)}]}),
               b"\x00\x01"]
        said = []
        for message in bad:
            ann.send(message)
            said.append(_next(ann, "error")["error"])
        assert said[0].startswith("not JSON") and "past the end" in said[1]
        assert f"may insert {MAX_INSERT}" in said[2] and "binary" in said[3]
    with connect(_ws(served, "doc", "ben")) as ben:
        history = _next(ben, "history")
        assert history["log"] == [{"version": 1, "user": "ann", "ops": [{"at": 0, "insert": "kept"}]}]


def test_the_crdt_document_refuses_bad_updates_and_stays_intact(served: Server) -> None:
    mine: Doc = Doc()
    mine["text"] = text = Text()
    with connect(_ws(served, "crdt", "ann")) as ann:
        state = ann.recv(timeout=5)
        assert isinstance(state, bytes)
        mine.apply_update(state)
        text += "kept"
        ann.send(mine.get_update())
        for message in ("not an update", b"\x01\x02garbage"):
            ann.send(message)
            assert _next(ann, "error")["error"]
    with connect(_ws(served, "crdt", "ben")) as ben:
        theirs: Doc = Doc()
        theirs["text"] = got = Text()
        first = ben.recv(timeout=5)
        assert isinstance(first, bytes)
        theirs.apply_update(first)
        assert str(got) == "kept"


def test_a_bad_user_name_is_refused_before_the_socket_opens(served: Server) -> None:
    from websockets.exceptions import InvalidStatus

    with pytest.raises(InvalidStatus) as refused:
        connect(_ws(served, "doc", "not%20ok"))
    assert refused.value.response.status_code == 400
