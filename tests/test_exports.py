"""The front door: ``dolab.__all__`` is sorted and lists exactly the public names."""

from __future__ import annotations

import dolab


def test_all_is_sorted_and_complete() -> None:
    public = {name for name in vars(dolab) if not name.startswith("_") and name not in {"annotations"}}
    modules = {name for name in public if type(getattr(dolab, name)).__name__ == "module"}
    assert dolab.__all__ == sorted(dolab.__all__)
    assert set(dolab.__all__) == public - modules


def test_public_names_read_as_dolab() -> None:
    assert dolab.Lab.__module__ == "dolab"
    assert repr(dolab.DurableObject) == "<class 'dolab.DurableObject'>"


def test_runtime_imports_no_presentation_libraries() -> None:
    import subprocess
    import sys

    code = "import sys, dolab; bad = {'pandas', 'matplotlib', 'ipywidgets'} & set(sys.modules); print(sorted(bad))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
