"""Chapter 11: the merge, the two document objects, their editors, bad input, and the copies held to the chapter's."""

from __future__ import annotations

import ast
import inspect
import json
import random
import textwrap
from pathlib import Path
from typing import Any

import nbformat
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dolab import Lab, Network
from dolab.lessons import crdtdoc, docroom, ot
from dolab.lessons.chat import connect
from dolab.lessons.collab import CollabSession, CrdtEditor, OrderedEditor, offline_story
from dolab.lessons.crdtdoc import MAX_UPDATE, CrdtDocument
from dolab.lessons.docroom import KEEP, Document
from dolab.lessons.ot import MAX_INSERT, apply_ops, parse_edit, transform_ops

CHAPTER = Path(__file__).resolve().parent.parent / "notebooks" / "11_collaborative_document.ipynb"
REGIONS = {"alice": "westeurope", "bob": "australiaeast", "carol": "eastus"}


# -- the merge ---------------------------------------------------------------------------------------

@st.composite
def edit_on(draw: Any, text: str) -> list[dict[str, Any]]:
    """A list of 1-3 valid ops on ``text`` (each on the text the previous ones left)."""
    ops = []
    for _ in range(draw(st.integers(1, 3))):
        if not text or draw(st.booleans()):
            word = draw(st.sampled_from(["a", "bc", "XYZ"]))
            op: dict[str, Any] = {"at": draw(st.integers(0, len(text))), "insert": word}
        else:
            at = draw(st.integers(0, len(text) - 1))
            op = {"at": at, "delete": draw(st.integers(1, len(text) - at))}
        ops.append(op)
        text = apply_ops(text, [op])
    return ops


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_two_concurrent_edits_converge_either_way_round(data: Any) -> None:
    text = data.draw(st.text(alphabet="0123456789", max_size=8))
    a, b = data.draw(edit_on(text)), data.draw(edit_on(text))
    first = data.draw(st.booleans())
    a2, b2 = transform_ops(a, b, first)
    assert apply_ops(apply_ops(text, a), b2) == apply_ops(apply_ops(text, b), a2)


def test_two_inserts_at_one_place_keep_both_in_the_order_given() -> None:
    a, b = [{"at": 1, "insert": "A"}], [{"at": 1, "insert": "B"}]
    a2, b2 = transform_ops(a, b, True)
    assert apply_ops(apply_ops("xy", a), b2) == "xABy"
    a2, b2 = transform_ops(a, b, False)
    assert apply_ops(apply_ops("xy", a), b2) == "xBAy"


def test_a_delete_around_an_insert_keeps_the_insert() -> None:
    delete, insert = [{"at": 1, "delete": 4}], [{"at": 3, "insert": "NEW"}]
    d2, i2 = transform_ops(delete, insert, True)
    assert apply_ops(apply_ops("abcdefg", delete), i2) == apply_ops(apply_ops("abcdefg", insert), d2) == "aNEWfg"


@pytest.mark.parametrize(("message", "says"), [
    (b"\x00", "binary"),
    ("x" * (ot.MAX_MESSAGE + 1), "a message may hold"),
    ("{not json", "not JSON"),
    ('{"type": "chat"}', "expected"),
    ('{"type": "edit", "base": -1, "seq": 0, "ops": []}', "base must be an int >= 0, got -1"),
    ('{"type": "edit", "base": true, "seq": 0, "ops": []}', "base must be an int"),
    ('{"type": "edit", "base": 0, "seq": 0, "ops": []}', "ops must be a list of 1 to"),
    ('{"type": "edit", "base": 0, "seq": 0, "ops": [{"at": "0", "insert": "x"}]}', "int 'at'"),
    ('{"type": "edit", "base": 0, "seq": 0, "ops": [{"at": 0, "insert": ""}]}', "non-empty text"),
    ('{"type": "edit", "base": 0, "seq": 0, "ops": [{"at": 0, "delete": 0}]}', "int > 0"),
    ('{"type": "edit", "base": 0, "seq": 0, "ops": [{"at": 0, "insert": "x", "delete": 1}]}', "an op is"),
    (json.dumps({"type": "edit", "base": 0, "seq": 0, "ops": [{"at": 0, "insert": "x" * (MAX_INSERT + 1)}]}),
     f"one edit may insert {MAX_INSERT} characters"),
])
def test_parse_edit_names_what_is_wrong(message: Any, says: str) -> None:
    with pytest.raises(ValueError, match=says.replace("(", r"\(")):
        parse_edit(message)


# -- the ordered document ----------------------------------------------------------------------------

def _log(lab: Lab, stub: Any) -> tuple[int, int, int]:
    async def tables(doc: Any, ctx: Any) -> tuple[int, int, int]:
        snap = ctx.storage.sql.exec("SELECT version FROM snapshot").one().version
        return doc.version, snap, ctx.storage.sql.exec("SELECT COUNT(*) AS n FROM log").one().n
    result: tuple[int, int, int] = lab.run(lab.run_in_durable_object(stub, tables))
    return result


def test_join_gets_history_presence_from_tags_and_edits_are_acked_and_sent() -> None:
    with Lab(durable_objects={"DOC": Document}, seed=1) as lab:
        doc = lab.env.DOC.getByName("d")
        alice = connect(lab, doc, "alice")
        lab.advance(1)
        assert json.loads(alice.received[0]) == {"type": "history", "version": 0, "text": "", "log": []}
        alice.send(json.dumps({"type": "edit", "base": 0, "seq": 7, "ops": [{"at": 0, "insert": "hi"}]}))
        lab.advance(1)
        bob = connect(lab, doc, "bob")
        lab.advance(1)
        history = json.loads(bob.received[0])
        assert history["log"] == [{"version": 1, "user": "alice", "ops": [{"at": 0, "insert": "hi"}]}]
        presence = [json.loads(m)["online"] for m in alice.received if '"presence"' in m]
        assert presence == [["alice"], ["alice", "bob"]]
        ack = [json.loads(m) for m in alice.received if '"ack"' in m]
        assert ack == [{"type": "ack", "version": 1, "user": "alice", "ops": [{"at": 0, "insert": "hi"}], "seq": 7}]
        bob.close()
        lab.advance(1)
        assert json.loads(alice.received[-1]) == {"type": "presence", "online": ["alice"]}


def test_a_late_edit_is_transformed_and_one_too_old_is_refused() -> None:
    with Lab(durable_objects={"DOC": Document}, seed=1) as lab:
        doc = lab.env.DOC.getByName("d")
        ws = connect(lab, doc, "alice")
        for i in range(KEEP + 5):
            ws.send(json.dumps({"type": "edit", "base": i, "seq": i, "ops": [{"at": 0, "insert": "x"}]}))
            lab.advance(0.1)
        ws.send(json.dumps({"type": "edit", "base": KEEP + 3, "seq": 99, "ops": [{"at": KEEP + 3, "insert": "!"}]}))
        lab.advance(1)
        # "!" was typed at the end of version KEEP + 3; the two "x" typed at 0 since then move it right
        assert lab.run(lab.run_in_durable_object(doc, lambda d, ctx: d.text)) == "x" * (KEEP + 5) + "!"
        lab.advance(60)  # the alarm compacts
        assert _log(lab, doc) == (KEEP + 6, 6, KEEP)
        ws.send(json.dumps({"type": "edit", "base": 2, "seq": 100, "ops": [{"at": 0, "insert": "y"}]}))
        lab.advance(1)
        assert "base version 2 is not between 6" in json.loads(ws.received[-1])["error"]


def test_compaction_is_idempotent_and_the_text_survives_a_restart() -> None:
    with Lab(durable_objects={"DOC": Document}, network=Network(), seed=2) as lab:
        session = CollabSession(lab, "DOC", "ordered", REGIONS)
        for i in range(15):
            for user in REGIONS:
                session.type(user, f"{user[0]}{i} ", at=0 if user == "bob" else None)
            session.settle(0.3)
        session.settle(2)
        text = session.editors["alice"].text
        folded = [lab.run(lab.run_in_durable_object(session.stub, lambda d, ctx: d.compact())) for _ in range(2)]
        assert folded[0] > 0 and folded[1] == 0
        lab.evict(session.stub)
        assert session.join("dave", "eastus").text == text


def test_bad_input_leaves_both_documents_intact() -> None:
    for cls, approach in ((Document, "ordered"), (CrdtDocument, "crdt")):
        with Lab(durable_objects={"DOC": cls}, seed=1) as lab:
            session = CollabSession(lab, "DOC", approach, {"ann": "westeurope", "ben": "eastus"})
            session.type("ann", "keep me")
            session.settle()
            mallory = connect(lab, session.stub, "mallory")
            far = json.dumps({"type": "edit", "base": 1, "seq": 1, "ops": [{"at": 99, "insert": "x"}]})
            bad: list[str | bytes] = ["hello", b"\x01\x02garbage", b"\x00" * (MAX_UPDATE + 1), far]
            for message in bad:
                mallory.send(message)
            lab.advance(2)
            errors = [json.loads(m)["error"] for m in mallory.received if isinstance(m, str) and '"error"' in m]
            assert len(errors) == len(bad), f"{cls.__name__} answered {errors}"
            assert all(e for e in errors)
            lab.evict(session.stub)
            assert session.join("cy", "eastus").text == "keep me", cls.__name__
            assert session.texts() == {"ann": "keep me", "ben": "keep me", "cy": "keep me"}


def test_a_user_name_is_checked_and_plain_http_is_refused() -> None:
    with Lab(durable_objects={"DOC": Document}, seed=1) as lab:
        doc = lab.env.DOC.getByName("d")
        assert lab.run(doc.fetch("https://d/ws?user=no%20spaces", headers={"Upgrade": "websocket"})).status == 400
        assert lab.run(doc.fetch("https://d/ws?user=ann")).status == 426


# -- editors ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("cls", "approach"), [(Document, "ordered"), (CrdtDocument, "crdt")])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_three_editors_typing_at_random_converge(cls: type, approach: str, seed: int) -> None:
    rng = random.Random(seed)
    with Lab(durable_objects={"DOC": cls}, network=Network(), seed=seed) as lab:
        session = CollabSession(lab, "DOC", approach, REGIONS)
        for step in range(40):
            user = rng.choice(list(REGIONS))
            text = session.editors[user].text
            if text and rng.random() < 0.3:
                at = rng.randrange(len(text))
                session.erase(user, at, rng.randint(1, min(3, len(text) - at)))
            else:
                session.type(user, f"<{user[0]}{step}>", at=rng.randint(0, len(text)))
            session.settle(rng.choice([0.01, 0.05, 0.2]))
        session.settle(3)
        assert session.converged, session.texts()
        editor = session.editors["alice"]
        if isinstance(editor, OrderedEditor):
            assert editor.text == editor.confirmed and editor.inflight is None and not editor.buffer


def test_offline_ordered_loses_what_the_log_no_longer_reaches_and_the_crdt_keeps_it() -> None:
    short = offline_story(Document, "ordered", KEEP - 1)
    long = offline_story(Document, "ordered", KEEP + 1)
    crdt = offline_story(CrdtDocument, "crdt", KEEP + 10)
    assert short.kept and short.converged and short.lost == 0
    assert not long.kept and long.converged and long.lost == len("Bob's notes from the train. ")
    assert crdt.kept and crdt.converged and crdt.text.startswith("Bob's notes")


def test_arrivals_are_timed_by_region() -> None:
    with Lab(durable_objects={"DOC": Document}, network=Network(), seed=1) as lab:
        session = CollabSession(lab, "DOC", "ordered", REGIONS)
        session.type("alice", "hello ")
        session.settle()
        ms = {a.reader: a.ms for a in session.arrivals if a.author == "alice"}
        assert set(ms) == {"bob", "carol"} and ms["carol"] < ms["bob"]  # Virginia is nearer Amsterdam than Sydney


def test_session_refuses_what_it_cannot_do() -> None:
    from dolab import ConfigError

    with Lab(durable_objects={"DOC": Document}, seed=1) as lab:
        with pytest.raises(ConfigError, match="approach must be one of"):
            CollabSession(lab, "DOC", "magic", {})
        session = CollabSession(lab, "DOC", "ordered", {"ann": "westeurope"})
        with pytest.raises(ConfigError, match="'zed' is not editing"):
            session.type("zed", "x")
        with pytest.raises(ConfigError, match="at must be between 0 and 0"):
            session.type("ann", "x", at=5)
        with pytest.raises(ConfigError, match="non-empty phrase"):
            session.type("ann", "")


def test_a_crdt_editor_sends_only_what_the_object_lacks_on_join() -> None:
    with Lab(durable_objects={"DOC": CrdtDocument}, seed=1) as lab:
        session = CollabSession(lab, "DOC", "crdt", {"ann": "westeurope", "ben": "eastus"})
        session.type("ann", "a" * 200)
        session.settle()
        ben = session.editors["ben"]
        assert isinstance(ben, CrdtEditor)
        ben.go_offline()
        ben.edit([{"at": 0, "insert": "b"}])
        sent = ben.sent
        ben.come_back()
        session.settle()
        assert session.converged and session.editors["ann"].text.startswith("b")
        assert len(ben.doc.get_update()) > 200  # the whole document
        assert 0 < ben.sent - sent < 40, f"ben sent {ben.sent - sent} bytes on join: only his one letter was missing"


# -- the chapter's copies -------------------------------------------------------------------------------

def _docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)


class _Unannotated(ast.NodeTransformer):
    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:  # noqa: N802 - ast's visitor name
        if node.value is None:
            return node
        return ast.Assign(targets=[node.target], value=node.value, lineno=node.lineno)


def _code(node: ast.AST) -> str:
    """A function or class without docstrings and type hints: the code, which may not differ."""
    node = _Unannotated().visit(node)
    for fn in ast.walk(node):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            fn.returns = None
            for arg in fn.args.args + fn.args.kwonlyargs:
                arg.annotation = None
            fn.body = [b for b in fn.body if not _docstring(b)] or fn.body
    if isinstance(node, ast.ClassDef):
        node.body = [b for b in node.body if not _docstring(b)]
    return ast.dump(node)


@pytest.mark.parametrize(("module", "name"), [
    (ot, "apply_ops"), (ot, "transform"), (ot, "transform_ops"), (ot, "parse_edit"),
    (docroom, "Document"), (crdtdoc, "CrdtDocument"),
])
def test_the_lessons_copies_are_the_chapters_code(module: Any, name: str) -> None:
    cells = [c.source for c in nbformat.read(CHAPTER, as_version=4).cells if c.cell_type == "code"]
    chapter = [n for cell in cells for n in ast.parse(cell).body
               if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == name]
    assert len(chapter) == 1, f"the chapter defines {name} {len(chapter)} times"
    ours = ast.parse(textwrap.dedent(inspect.getsource(getattr(module, name)))).body[0]
    assert _code(chapter[0]) == _code(ours), f"chapter 11's {name} and {module.__name__}.{name} differ"


def test_the_chapters_limits_are_the_lessons() -> None:
    source = "\n".join(c.source for c in nbformat.read(CHAPTER, as_version=4).cells if c.cell_type == "code")
    for name in ("MAX_MESSAGE", "MAX_INSERT", "MAX_OPS", "MAX_DOCUMENT", "KEEP", "MAX_UPDATE", "MAX_CRDT_DOCUMENT"):
        value = next(getattr(m, name) for m in (ot, docroom, crdtdoc) if hasattr(m, name))
        assert f"\n{name} = " in source, name
        line = source.split(f"\n{name} = ")[1].split("#")[0].strip()
        assert eval(line) == value, f"the chapter's {name} is {line}, the lessons' {value}"  # noqa: S307 - a literal


def test_edits_typed_offline_wait_for_the_history_even_when_presence_overtakes_it() -> None:
    """Coming back, the presence message may arrive before the history (the runtime's jitter can swap two
    messages): the editor must not send its offline edits until the history says where they go."""
    with Lab(durable_objects={"DOC": Document}, network=Network(), seed=1) as lab:
        session = CollabSession(lab, "DOC", "ordered", REGIONS, document="minutes")
        for user in REGIONS:
            session.type(user, f"{user}. ")
        session.settle()
        for i in range(40):
            session.type("alice", f"point {i}. ")
            session.settle(0.2)
        session.settle(60)
        session.join("dave", "southeastasia")
        session.type("bob", "typed in the browser")
        session.settle(1)
        session.go_offline("carol")
        session.type("carol", "from the tunnel")
        session.settle(1)
        session.come_back("carol")
        assert session.converged and "from the tunnel" in session.editors["alice"].text, session.texts()


def test_the_vendored_yjs_is_the_build_its_readme_describes() -> None:
    """doc_page/vendor/yjs.mjs: a one-line licence comment, then the bytes of the reproducible build."""
    import hashlib

    vendor = docroom.DOC_PAGE / "vendor"
    head, _, body = (vendor / "yjs.mjs").read_bytes().partition(b"\n")
    readme = (vendor / "README.md").read_text()
    digest = hashlib.sha256(body).hexdigest()
    assert digest in readme, f"yjs.mjs (after its first line) has SHA-256 {digest}, not the one vendor/README.md gives"
    assert b"Yjs 13.6.33" in head and b"lib0 0.2.120" in head and b"MIT" in head
    for licence in ("LICENSE-yjs", "LICENSE-lib0"):
        assert (vendor / licence).read_text().startswith("The MIT License"), licence
