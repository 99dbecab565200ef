"""The chapters' widgets, in one place to import from: thin views over plain functions.

Each widget lives in a module of its own (``cart_panel``, ``chat_panel``, ``latency_explorer``,
``hotkey_panel``, ``design_calculator``); every button or slider calls one function of :mod:`dolab.lessons` and shows
what it returned, so tests call the same functions directly.
"""

from __future__ import annotations

from dolab.view.cart_panel import CartPanel, cart_panel
from dolab.view.chat_panel import ChatPanel, chat_panel
from dolab.view.design_calculator import DesignCalculator, design_calculator
from dolab.view.hotkey_panel import HotKeyPanel, hot_key_panel
from dolab.view.latency_explorer import LatencyExplorer, latency_explorer

__all__ = ["CartPanel", "ChatPanel", "DesignCalculator", "HotKeyPanel", "LatencyExplorer", "cart_panel", "chat_panel",
           "design_calculator", "hot_key_panel", "latency_explorer"]
