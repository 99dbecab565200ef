"""Chapter 05's charts, Zipf slider and progress line, as a learner sees them."""

from __future__ import annotations

from typing import Any

from dolab.lessons.sweep import hot_keys, scale_sweep
from dolab.view.hotkey_panel import hot_key_panel
from dolab.view.report import progress_bar
from dolab.view.scaleplots import plot_hot_keys, plot_scaling

SMALL = {"users": 200, "rate": 1_500, "duration": 2}


def test_hot_key_bars_are_linear_and_say_what_they_show() -> None:
    fig = plot_hot_keys([hot_keys(0.0, **SMALL), hot_keys(2.5, **SMALL)])  # type: ignore[arg-type]
    shares, p99 = fig.axes
    assert shares.get_yscale() == "linear" and p99.get_yscale() == "linear"  # no "1.1×10²" ticks
    assert "p99" in p99.get_title() and "req/s" not in p99.get_title()  # the title names the axis it sits over
    assert "p99" in p99.get_ylabel() and "%" in shares.get_ylabel()
    tallest = max(bar.get_height() for bar in p99.patches)
    assert p99.get_ylim()[1] > tallest  # room above the tallest bar for its label


def test_log_axes_read_as_plain_numbers() -> None:
    sweep = scale_sweep(users=[20, 2_000], min_requests=100, min_duration=2.0)
    fig = plot_scaling(sweep.rows)
    fig.canvas.draw()
    labels = [t.get_text() for ax in fig.axes for t in ax.get_xticklabels() + ax.get_yticklabels() if t.get_text()]
    assert labels and not [text for text in labels if "^" in text or "10^" in text or "times" in text]
    assert "1,000" in labels or "100" in labels


def test_the_zipf_slider_says_it_is_busy_before_it_works() -> None:
    panel = hot_key_panel(0.0, seconds=1.0)
    seen: list[tuple[str, bool]] = []
    panel.status.observe(lambda change: seen.append((change["new"], panel.slider.disabled)), names="value")
    panel.slider.value = 0.75
    assert seen[0][0].startswith("<b>running zipf 0.75") and seen[0][1], "busy first, with the slider disabled"
    assert "simulated seconds" in seen[-1][0] and not panel.slider.disabled
    assert panel.result["zipf"] == 0.75 and "busiest user" in panel.summary.value


def test_the_progress_line_ends_saying_it_is_done(capsys: Any) -> None:
    # Outside IPython each update is a printed line: the lines a notebook would show in place.
    update = progress_bar("sweep")
    for done in range(4):
        update(done, 3, f"point {done}")
    shown = capsys.readouterr().out.strip().splitlines()
    assert shown[0] == "sweep: starting…" and shown[-1].startswith("sweep: done, ")
    assert len(shown) <= 3  # throttled: the quick updates in between are not sent


def test_the_lifecycle_legend_lists_only_states_that_occur() -> None:
    from dolab.lessons.sweep import lifecycle
    from dolab.view.scaleplots import plot_lifecycle

    fig = plot_lifecycle(lifecycle(600, duration=30, linger=20), traffic_ends=30)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["in memory", "hibernated"]
