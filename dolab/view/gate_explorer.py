"""Chapter 02's gate explorer: predict how many items a cart keeps, then run it and see why.

Switches choose what the chapter's ``Cart`` does (``allowConcurrency`` on its read,
``allowUnconfirmed`` on its write, a call to another object between the two, a write that
fails); a slider sets how many adds arrive at once. Run refuses until there is a prediction,
and any change of the switches asks for a new one: predict first, then look. Each run is
:func:`dolab.lessons.concurrency.object_adds` drawn by :func:`dolab.view.gateplots.plot_lanes`.
Stable CSS classes (``gate-run``, ``gate-result``, ...) let a browser test find the parts.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from dolab.lessons.concurrency import AddsRun, object_adds, with_options
from dolab.view.figures import png
from dolab.view.gateplots import plot_lanes

LATENCIES = [("0.1 ms", 0.0001), ("1 ms", 0.001), ("5 ms", 0.005)]
PROMPT = "Predict first: how many items will the cart hold after these adds? Type a number, then Run."


class GateExplorer:
    """Predict, run, and read the timeline of ``n`` simultaneous adds to one cart."""

    def __init__(self, cart: type, priced_cart: type | None = None, catalog: type | None = None,
                 adds: int = 12, seed: int = 1) -> None:
        self.cart, self.priced_cart, self.catalog, self.seed = cart, priced_cart, catalog, seed
        wide = {"description_width": "120px"}
        self.adds = widgets.IntSlider(value=adds, min=2, max=32, description="Adds at once", style=wide,
                                      continuous_update=False)
        self.latency = widgets.Dropdown(options=LATENCIES, value=0.001, description="Storage read",
                                        style=wide, layout=widgets.Layout(width="240px"))
        self.switches = {
            "allowConcurrency": self._switch("allowConcurrency on the read", "gate-allow-concurrency"),
            "allowUnconfirmed": self._switch("allowUnconfirmed on the write", "gate-allow-unconfirmed"),
            "outside": self._switch("an outside call between read and write", "gate-outside-await"),
            "fail": self._switch("the first write fails", "gate-fail-write"),
        }
        if priced_cart is None or catalog is None:
            self.switches["outside"].disabled = True
        self.prediction = widgets.Text(placeholder="items kept", description="Your prediction", style=wide,
                                       layout=widgets.Layout(width="240px"))
        self.prediction.add_class("gate-prediction")
        self.run_button = widgets.Button(description="Run", icon="play", button_style="primary")
        self.run_button.add_class("gate-run")
        self.run_button.on_click(lambda _: self.run())
        self.result = widgets.HTML(f"<i>{PROMPT}</i>")
        self.result.add_class("gate-result")
        self.image = widgets.Image(format="png", layout=widgets.Layout(width="auto", max_width="100%"))
        self.image.add_class("gate-timeline")
        for control in (self.adds, self.latency, *self.switches.values()):
            control.observe(lambda _: self._changed(), names="value")
        self.last: AddsRun | None = None
        self.widget = widgets.VBox([
            widgets.HBox([self.adds, self.latency]),
            widgets.HBox(list(self.switches.values())[:2]),
            widgets.HBox(list(self.switches.values())[2:]),
            widgets.HBox([self.prediction, self.run_button]),
            self.result,
            self.image,
        ], layout=widgets.Layout(align_items="flex-start"))
        self.widget.add_class("gate-explorer")

    @staticmethod
    def _switch(label: str, css: str) -> widgets.ToggleButton:
        button = widgets.ToggleButton(value=False, description=label, icon="square-o",
                                      layout=widgets.Layout(width="320px"))
        button.add_class(css)

        def show(change: Any) -> None:  # a tick says "on" better than a shade of grey does
            button.icon = "check-square-o" if change["new"] else "square-o"

        button.observe(show, names="value")
        return button

    def _changed(self) -> None:
        """New settings: the old prediction was about the old ones."""
        self.prediction.value = ""
        if self.last is not None:
            self.result.value = f"<i>Settings changed. {PROMPT}</i>"

    def predicted(self) -> int | None:
        text = self.prediction.value.strip()
        return int(text) if text.isdigit() else None

    def run(self) -> AddsRun | None:
        """What Run does: refuse without a prediction, else run the adds and draw them."""
        guess = self.predicted()
        if guess is None:
            shown = html.escape(self.prediction.value.strip())
            why = f"“{shown}” is not a whole number. " if shown else ""
            self.result.value = f"<b>{why}{PROMPT}</b>"
            return None
        self.run_button.disabled, self.run_button.description = True, "Running…"
        self.result.value = "<i>running the adds…</i>"
        try:
            run = self._experiment()
            self.image.value = png(plot_lanes(run))
            self.result.value = _verdict(guess, run)
            self.last = run
            return run
        finally:
            self.run_button.disabled, self.run_button.description = False, "Run"

    def _experiment(self) -> AddsRun:
        on = {name: switch.value for name, switch in self.switches.items()}
        outside = on["outside"] and self.priced_cart is not None and self.catalog is not None
        base = self.priced_cart if outside and self.priced_cart is not None else self.cart
        cls = with_options(base, read={"allowConcurrency": True} if on["allowConcurrency"] else {},
                           write={"allowUnconfirmed": True} if on["allowUnconfirmed"] else {})
        others = {"CATALOG": self.catalog} if outside and self.catalog is not None else None
        return object_adds(cls, self.adds.value, seed=self.seed, storage_latency=self.latency.value,
                           fail_write=on["fail"], others=others)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)  # type: ignore[no-untyped-call]


def _verdict(guess: int, run: AddsRun) -> str:
    failed = run.n - run.acknowledged
    told = f"Alice was told “added” {run.acknowledged} times" + (f" and got {failed} error(s)" if failed else "")
    mark = "✓ right" if guess == run.final else "✗ not quite"
    return (f"<b>{mark}</b>: you predicted {guess}; the cart holds <b>{run.final}</b> after {run.n} adds. "
            f"{told}; <b>{run.lost}</b> item(s) she was told about are missing.")


def gate_explorer(cart: type, priced_cart: type | None = None, catalog: type | None = None,
                  adds: int = 12) -> GateExplorer:
    """Build chapter 02's gate explorer over the chapter's own classes."""
    return GateExplorer(cart, priced_cart, catalog, adds)
