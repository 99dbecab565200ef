"""Chapter 05's Zipf slider: how skewed popularity turns one user's object into a hot spot.

Each slider position not seen yet runs :func:`dolab.lessons.sweep.hot_keys` once (about a second
for two simulated seconds of traffic); the panel says so at once, with the slider disabled, and
the answer is cached, so going back to a position is instant.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from dolab.lessons.sweep import hot_keys
from dolab.view.figures import png as _png
from dolab.view.scaleplots import plot_hot_keys

SECONDS = 2.0  # simulated seconds of traffic per skew: long enough to saturate one object, short to run


class HotKeyPanel:
    """Chapter 05's Zipf slider: how skewed popularity turns one user's object into a hot spot."""

    def __init__(self, zipf: float = 1.0, baseline: float = 0.0, seconds: float = SECONDS) -> None:
        self.baseline = baseline
        self.seconds = seconds
        self.slider = widgets.FloatSlider(value=zipf, min=0.0, max=2.5, step=0.25, description="Zipf skew",
                                          continuous_update=False)
        self.status = widgets.HTML()
        self.summary = widgets.HTML()
        self.chart = widgets.Image(format="png")
        self.slider.observe(lambda _: self.update(), names="value")
        self.widget = widgets.VBox([self.slider, self.status, self.summary, self.chart])
        self.widget.add_class("hot-key-panel")
        self.status.add_class("hot-key-status")
        self.summary.add_class("hot-key-summary")
        self.result = self.update()

    def run(self, zipf: float) -> dict[str, Any]:
        """One skew's result (cached by :func:`hot_keys`)."""
        return hot_keys(zipf, duration=self.seconds)

    def update(self) -> dict[str, Any]:
        """Say "running" at once, run (or fetch from the cache) the chosen skew, then redraw."""
        zipf = self.slider.value
        # These two messages leave the kernel now, before the work: the learner sees the panel is busy.
        self.slider.disabled = True
        self.status.value = f"<b>running zipf {zipf:g}…</b> (about a second; the chart below is the previous one)"
        try:
            result, base = self.run(zipf), self.run(self.baseline)
            self.summary.value = (
                f"zipf {result['zipf']:g}: the busiest user sends <b>{result['busiest_share']:.0%}</b> of all "
                f"requests ({result['busiest_per_s']:,.0f} per second, to one object); p99 of that user's requests "
                f"<b>{result['busiest_p99_ms']:,.0f} ms</b>, deepest queue at its object {result['max_queue']:,.0f}."
            )
            self.chart.value = _png(plot_hot_keys([base, result] if self.baseline != result["zipf"] else [result]))
            self.status.value = (f"{result['requests']:,} requests from {result['users']:,} users over "
                                 f"{self.seconds:g} simulated seconds")
        finally:
            self.slider.disabled = False
        self.result = result
        return result

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)  # type: ignore[no-untyped-call]


def hot_key_panel(zipf: float = 1.0, seconds: float = SECONDS) -> HotKeyPanel:
    """Build chapter 05's Zipf slider panel."""
    return HotKeyPanel(zipf, seconds=seconds)
