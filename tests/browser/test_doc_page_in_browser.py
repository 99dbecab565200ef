"""Chapter 11's documents in two real Chromium tabs, through ``dolab serve``.

The documents are the notebook's own ``Document`` and ``CrdtDocument``, behind the Worker ``dolab
export`` generates for them, as ``python -m dolab serve notebooks/11_collaborative_document.ipynb
--class Document --class CrdtDocument --assets dolab/lessons/doc_page`` runs them. Two pages load a
page from the server, each opens a real WebSocket to the same document object, and they type: what
one types appears in the other, text typed in both at once ends the same in both, and the page's
JavaScript merge computes what the chapter's Python does. On the CRDT page the tabs run Yjs (the
vendored copy) and the object ``pycrdt``: a Python editor in the same lab joins them.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dolab.lessons.collab import CollabSession
from dolab.lessons.docroom import DOC_PAGE
from dolab.lessons.ot import apply_ops, transform_ops
from dolab.tools.runner import prepare
from dolab.tools.serve import Server, serve

CHAPTER = Path(__file__).resolve().parents[2] / "notebooks" / "11_collaborative_document.ipynb"

pytestmark = pytest.mark.browser


@pytest.fixture
def doc_server() -> Iterator[Server]:
    lab, worker, _ = prepare(str(CHAPTER), classes=["Document", "CrdtDocument"])
    with serve(lab, worker, assets=DOC_PAGE) as server:
        yield server
    lab.close()


def _open(browser: Any, url: str, user: str, page_name: str = "") -> Any:
    from playwright.sync_api import expect

    page = browser.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{url}/{page_name}?user={user}&doc=minutes")
    assert not errors, errors
    expect(page.locator("#status")).to_have_text(f"editing minutes as {user}")
    return page


def test_text_typed_in_one_tab_appears_in_the_other(doc_server: Server, browser: Any, output_dir: Path) -> None:
    from playwright.sync_api import expect

    alice = _open(browser, doc_server.url, "alice")
    bob = _open(browser, doc_server.url, "bob")
    try:
        expect(alice.locator("#online")).to_have_text("online: alice, bob")
        alice.locator("#text").press_sequentially("Minutes of Monday. ")
        expect(bob.locator("#text")).to_have_value("Minutes of Monday. ")

        bob.locator("#text").press("End")
        bob.locator("#text").press_sequentially("Budget approved.")
        alice.locator("#text").press("Home")
        alice.locator("#text").press_sequentially("DRAFT ")  # while Bob's words are on their way
        final = "DRAFT Minutes of Monday. Budget approved."
        expect(alice.locator("#text")).to_have_value(final)
        expect(bob.locator("#text")).to_have_value(final)
        expect(alice.locator("#version")).to_have_text(bob.locator("#version").inner_text())

        carol = _open(browser, doc_server.url, "carol")  # a late joiner rebuilds the text from the history
        expect(carol.locator("#text")).to_have_value(final)
        carol.close()
        expect(alice.locator("#online")).to_have_text("online: alice, bob")
        alice.screenshot(path=str(output_dir / "alice.png"))
        bob.screenshot(path=str(output_dir / "bob.png"))
    finally:
        for page in (alice, bob):
            page.close()


def test_both_tabs_typing_at_once_end_on_the_same_text(doc_server: Server, browser: Any, output_dir: Path) -> None:
    from playwright.sync_api import expect

    alice = _open(browser, doc_server.url, "alice")
    bob = _open(browser, doc_server.url, "bob")
    try:
        alice.locator("#text").press_sequentially("0123456789")
        expect(bob.locator("#text")).to_have_value("0123456789")
        # Each tab types into its own copy with no wait: keystrokes cross on the wire.
        alice.locator("#text").press("End")
        bob.locator("#text").press("Home")
        for a, b in zip("abcdefgh", "ABCDEFGH", strict=True):
            alice.keyboard.type(a)
            bob.keyboard.type(b)
        expect(bob.locator("#text")).to_have_value(re.compile("h$"))  # Alice's last letter reached Bob
        bob.locator("#text").press("End")
        bob.keyboard.press("Backspace")
        final = "ABCDEFGH0123456789abcdefg"
        for page in (alice, bob):
            expect(page.locator("#text")).to_have_value(final)
            expect(page.locator("#version")).not_to_contain_text("sending")
        # keystrokes typed while one edit was on its way went out together: fewer versions than keys
        versions = {page.locator("#version").inner_text() for page in (alice, bob)}
        assert len(versions) == 1, versions
        assert 3 <= int(versions.pop().split()[1]) <= 27
        bob.screenshot(path=str(output_dir / "bob.png"))
    finally:
        alice.close()
        bob.close()


def test_the_pages_merge_is_the_chapters(doc_server: Server, browser: Any) -> None:
    """The page's transformOps and applyOps against dolab.lessons.ot on random pairs of edits."""
    page = _open(browser, doc_server.url, "tester")
    try:
        rng = random.Random(11)
        cases = []
        for _ in range(300):
            text = "".join(rng.choice("abcé😀") for _ in range(rng.randint(0, 8)))  # an emoji: code points, not UTF-16
            a, b = _edit(text, rng), _edit(text, rng)
            cases.append({"text": text, "a": a, "b": b, "first": rng.random() < 0.5})
        got = page.evaluate("""cases => cases.map(c => {
            const [a2, b2] = window.collab.transformOps(c.a, c.b, c.first);
            return [a2, b2, window.collab.applyOps(window.collab.applyOps(c.text, c.a), b2)];
        })""", cases)
        for case, (a2, b2, merged) in zip(cases, got, strict=True):
            want_a, want_b = transform_ops(case["a"], case["b"], case["first"])
            assert (a2, b2) == (want_a, want_b), json.dumps(case)
            assert merged == apply_ops(apply_ops(case["text"], case["a"]), want_b), json.dumps(case)
    finally:
        page.close()


def test_the_crdt_page_yjs_tabs_and_a_python_editor_edit_together(
    doc_server: Server, browser: Any, output_dir: Path
) -> None:
    from playwright.sync_api import expect

    alice = _open(browser, doc_server.url, "alice", "crdt.html")
    bob = _open(browser, doc_server.url, "bob", "crdt.html")
    try:
        alice.locator("#text").press_sequentially("Minutes. ")
        expect(bob.locator("#text")).to_have_value("Minutes. ")
        alice.locator("#text").press("End")
        bob.locator("#text").press("Home")
        for a, b in zip("abcdef", "ABCDEF", strict=True):  # at once, in both tabs
            alice.keyboard.type(a)
            bob.keyboard.type(b)
        final = "ABCDEFMinutes. abcdef"
        expect(alice.locator("#text")).to_have_value(final)
        expect(bob.locator("#text")).to_have_value(final)

        lab = doc_server.lab  # a Python editor (pycrdt) in the same lab, through the same object
        session = CollabSession(lab, "CRDT", "crdt", {"carol": "eastus"}, document="minutes")
        assert session.editors["carol"].text == final
        session.type("carol", " (from Python)")
        for page in (alice, bob):
            expect(page.locator("#text")).to_have_value(final + " (from Python)")
            expect(page.locator("#online")).to_have_text("online: alice, bob, carol")
        stored = lab.run(lab.run_in_durable_object(lab.env.CRDT.getByName("minutes"), lambda d, ctx: str(d.text)))
        assert stored == final + " (from Python)"
        alice.screenshot(path=str(output_dir / "alice.png"))
    finally:
        alice.close()
        bob.close()


def _edit(text: str, rng: random.Random) -> list[dict[str, Any]]:
    ops: list[dict[str, Any]] = []
    for _ in range(rng.randint(1, 3)):
        if not text or rng.random() < 0.5:
            op: dict[str, Any] = {"at": rng.randint(0, len(text)), "insert": rng.choice(["x", "yz", "😀"])}
        else:
            at = rng.randrange(len(text))
            op = {"at": at, "delete": rng.randint(1, len(text) - at)}
        ops.append(op)
        text = apply_ops(text, [op])
    return ops
