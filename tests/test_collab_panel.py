"""Chapter 11's editors panel: what it shows, what each control does, and its busy state."""

from __future__ import annotations

from dolab import Lab, Network
from dolab.lessons.collab import CollabSession
from dolab.lessons.docroom import Document
from dolab.view.collab_panel import collab_panel

REGIONS = {"alice": "westeurope", "bob": "australiaeast", "carol": "eastus"}


def test_the_panel_types_settles_goes_offline_and_is_busy_meanwhile() -> None:
    with Lab(durable_objects={"DOC": Document}, network=Network(), seed=1) as lab:
        session = CollabSession(lab, "DOC", "ordered", REGIONS)
        panel = collab_panel(session)
        assert "empty" in panel.texts["alice"].value and "✓ every screen" in panel.status.value

        session.type("alice", "from a cell")  # not through the panel
        assert "from a cell" in panel.texts["alice"].value and "from a cell" not in panel.texts["bob"].value
        assert "the screens differ" in panel.status.value and "1 op(s) not yet confirmed" in panel.texts["alice"].value

        busy: list[tuple[bool, str]] = []
        session.subscribe(lambda: busy.append((panel.settle_button.disabled, panel.status.value)))
        panel.settle_button.click()
        assert busy and all(disabled and "⏳" in status for disabled, status in busy)  # busy while time passes
        assert not panel.settle_button.disabled and "from a cell" in panel.texts["bob"].value
        assert "saw “from a cell” from alice after" in panel.texts["bob"].value

        panel.inputs["bob"].value = "typed, then Enter"
        panel.inputs["bob"]._handle_string_msg(None, {"event": "submit"}, None)  # what the browser sends on Enter
        assert panel.inputs["bob"].value == "" and session.editors["bob"].text.endswith("typed, then Enter")
        panel.places["carol"].value = "start"
        panel.inputs["carol"].value = "first"
        panel.type("carol")
        assert session.editors["carol"].text.startswith("first")
        panel.settle()
        assert session.converged and "✓ every screen" in panel.status.value

        panel.offline["carol"].click()
        assert panel.offline["carol"].description == "Come back" and "offline" in panel.headers["carol"].value
        panel.type("carol", "in a tunnel")
        panel.settle()
        assert "in a tunnel" not in session.editors["alice"].text
        panel.offline["carol"].click()
        assert "in a tunnel" in session.editors["alice"].text and session.converged

        session.join("dave", "southeastasia")  # from a cell: a column appears
        assert "dave" in panel.texts and len(panel.row.children) == 4
    panel.type("alice", "after the lab closed")
    assert "⚠" in panel.status.value and "closed" in panel.status.value
    assert not panel.busy
