"""Chapter 05's Zipf slider: how skewed popularity turns one user's object into a hot spot."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from dolab.lessons.sweep import hot_keys
from dolab.view.figures import png as _png
from dolab.view.scaleplots import plot_hot_keys


class HotKeyPanel:
    """Chapter 05's Zipf slider: how skewed popularity turns one user's object into a hot spot."""

    def __init__(self, zipf: float = 1.0, baseline: float = 0.0) -> None:
        self.baseline = baseline
        self.slider = widgets.FloatSlider(value=zipf, min=0.0, max=2.5, step=0.25, description="Zipf skew",
                                          continuous_update=False)
        self.summary = widgets.HTML()
        self.chart = widgets.Image(format="png")
        self.slider.observe(lambda _: self.update(), names="value")
        self.widget = widgets.VBox([self.slider, self.summary, self.chart])
        self.widget.add_class("hot-key-panel")
        self.result = self.update()

    def update(self) -> dict[str, Any]:
        """Run (or fetch from the cache) the chosen skew and redraw, beside the unskewed baseline."""
        result = hot_keys(self.slider.value)
        base = hot_keys(self.baseline)
        self.summary.value = (
            f"zipf {result['zipf']:g}: the busiest user sends <b>{result['busiest_share']:.0%}</b> of all "
            f"requests ({result['busiest_per_s']:.0f} per second); p99 of that user's requests "
            f"<b>{result['busiest_p99_ms']:.0f} ms</b>, deepest queue at its object {result['max_queue']:.0f}."
        )
        self.chart.value = _png(plot_hot_keys([base, result] if self.baseline != result["zipf"] else [result]))
        self.result = result
        return result

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)  # type: ignore[no-untyped-call]


def hot_key_panel(zipf: float = 1.0) -> HotKeyPanel:
    """Build chapter 05's Zipf slider panel."""
    return HotKeyPanel(zipf)
