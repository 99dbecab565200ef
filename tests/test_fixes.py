"""Chapter 03's four carts: counts, round trips, and where each breaks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dolab.lessons.fixes import DESIGNS, CachedCart, CookieCart, Device, FixesDemo, lines_of_code
from dolab.runtime.errors import LabError


@pytest.fixture
def demo() -> Iterator[FixesDemo]:
    d = FixesDemo(seed=1)
    yield d
    d.close()


def laptop_then_phone(demo: FixesDemo, design: str) -> tuple[int, int, int]:
    laptop, phone = Device("alice", "westeurope", "laptop"), Device("alice", "uksouth", "phone")
    demo.click(design, phone, "view")
    adds = [demo.click(design, laptop, "add") for _ in range(3)]
    return adds[-1].count, demo.click(design, phone, "view").count, adds[-1].round_trips


def test_database_is_correct_but_pays_two_round_trips(demo: FixesDemo) -> None:
    assert laptop_then_phone(demo, "external-db") == (3, 3, 2)
    assert demo.log[-2].latency_ms > 150  # Amsterdam <-> Virginia, twice


def test_cookie_is_fast_but_lives_in_one_browser(demo: FixesDemo) -> None:
    assert laptop_then_phone(demo, "cookie") == (3, 0, 0)


def test_cache_is_stale_in_another_region_until_its_ttl(demo: FixesDemo) -> None:
    assert laptop_then_phone(demo, "cached-db") == (3, 0, 1)
    demo.wait(61)
    assert demo.click("cached-db", Device("alice", "uksouth"), "view").count == 3


def test_durable_object_is_correct_and_near(demo: FixesDemo) -> None:
    assert laptop_then_phone(demo, "do-per-user") == (3, 3, 1)
    assert demo.log[-2].latency_ms < 20


def test_lines_of_code_skip_docstrings_and_comments() -> None:
    assert lines_of_code(CookieCart) == 7
    assert lines_of_code(CachedCart) > lines_of_code(CookieCart)
    assert set(DESIGNS) == {"external-db", "cookie", "cached-db", "do-per-user"}


def test_bad_clicks(demo: FixesDemo) -> None:
    with pytest.raises(LabError, match="design must be one of external-db, cookie, cached-db, do-per-user"):
        demo.click("memcached", Device("a", "eastus"))
    with pytest.raises(LabError, match="action must be 'add' or 'view'"):
        demo.click("cookie", Device("a", "eastus"), "buy")
