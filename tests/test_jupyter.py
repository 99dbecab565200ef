"""Both call styles inside a real Jupyter kernel, whose own asyncio loop is already running."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

CELLS = [
    """
from dolab import DurableObject, Lab
import threading

class Cart(DurableObject):
    async def add(self, n=1):
        count = (await self.ctx.storage.get("count")) or 0
        await self.ctx.storage.put("count", count + n)
        return count + n

lab = Lab(durable_objects={"CART": Cart})
stub = lab.env.CART.getByName("alice")
""",
    "first = await stub.add(2)  # top-level await on the kernel's running loop",
    "second = lab.run(stub.add(2))  # sync call while that loop is running",
    """
import ipywidgets as widgets
button = widgets.Button(description="Add to cart")
clicks = []
button.on_click(lambda b: clicks.append(lab.run(stub.add(1))))
button.click(); button.click()
""",
    """
import asyncio
both = await asyncio.gather(stub.add(10), stub.add(100))
kernel_loop_alive = await asyncio.sleep(0, result="yes")
got = (first, second, clicks, both, kernel_loop_alive)
assert got == (2, 4, [5, 6], [16, 116], "yes"), got
print("OK", lab.now)
""",
]


def test_await_and_run_work_inside_a_kernel(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src.strip()) for src in CELLS]
    client = NotebookClient(nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    out = nb.cells[-1].outputs
    assert out and out[0]["text"].strip() == "OK 0.0"
