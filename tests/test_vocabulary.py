"""One vocabulary: every design a chapter compares has one name, one description and one colour."""

from __future__ import annotations

from dolab.lessons import concurrency, explorer, fixes, sweep
from dolab.sim import designs
from dolab.view.plots import DESIGN_COLOURS


def test_every_chapters_designs_are_named_in_one_registry() -> None:
    used = {
        "simulate": set(designs.DESIGNS),
        "02 concurrency": set(concurrency.DESIGNS),
        "03 fixes": set(fixes.DESIGNS),
        "04 explorer": set(explorer.EXPLORER_DESIGNS),
        "05 sweep": set(sweep.SCALE_DESIGNS),
    }
    for where, names in used.items():
        assert names <= set(designs.DESIGN_NAMES), f"{where} uses unnamed designs {names - set(designs.DESIGN_NAMES)}"
    assert set().union(*used.values()) == set(designs.DESIGN_NAMES), "a registered design no chapter uses"


def test_each_design_has_its_own_colour() -> None:
    colours = {name: DESIGN_COLOURS[name] for name in designs.DESIGN_NAMES}
    assert len(set(colours.values())) == len(colours), colours
