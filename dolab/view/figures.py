"""A matplotlib figure as PNG bytes, for an ``ipywidgets.Image``: what the chart widgets share."""

from __future__ import annotations

import io
from typing import Any


def png(fig: Any) -> bytes:
    """A figure as PNG bytes, for an ``ipywidgets.Image`` (works with or without a kernel)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()
