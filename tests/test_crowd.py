"""Chapter 11's popular document: one object's limit, and what splitting and followers change."""

from __future__ import annotations

import pytest

from dolab import ConfigError
from dolab.lessons.crowd import crowd

CPU = 0.02  # 50 edits/s per object: small crowds show the limit


def test_one_object_handles_at_most_one_over_its_cpu_per_edit_and_then_queues() -> None:
    light = crowd("one", editors=20, seconds=3, cpu_per_event=CPU)
    heavy = crowd("one", editors=80, seconds=3, cpu_per_event=CPU)
    assert light.handled == pytest.approx(20, abs=2) and light.p95_ms < 150
    assert heavy.handled <= 1 / CPU + 1 and heavy.handled > 0.9 / CPU
    assert heavy.p95_ms > 5 * light.p95_ms, (light, heavy)
    assert heavy.sent > 50 * heavy.handled  # every edit goes to every editor


def test_splitting_by_section_spreads_the_edits() -> None:
    one = crowd("one", editors=80, seconds=3, cpu_per_event=CPU)
    split = crowd("sections", editors=80, parts=4, seconds=3, cpu_per_event=CPU)
    assert split.objects == 4 and split.handled == pytest.approx(20, abs=2)
    assert split.p95_ms < one.p95_ms / 5


def test_followers_take_the_fan_out_to_viewers() -> None:
    direct = crowd("one", editors=10, viewers=200, seconds=2, cpu_per_event=CPU)
    followed = crowd("followers", editors=10, viewers=200, parts=4, seconds=2, cpu_per_event=CPU)
    assert direct.sent == pytest.approx(10 * 210, rel=0.1)  # 10 edits/s to 210 sockets
    assert followed.objects == 5 and followed.sent < direct.sent / 3
    assert followed.sent == pytest.approx(10 * 50, rel=0.15)  # the busiest is a follower: 10 edits/s to 50 viewers
    assert followed.handled == pytest.approx(direct.handled, rel=0.1)


def test_crowd_refuses_what_it_cannot_run() -> None:
    with pytest.raises(ConfigError, match="design must be one of"):
        crowd("many")
    with pytest.raises(ConfigError, match="editors >= 1"):
        crowd("one", editors=0)
