"""DataFrames, charts, maps and widgets: the only layer that imports pandas, matplotlib,
ipywidgets and tqdm.

What lives here: ``report`` (traces as tidy DataFrames), ``plots``, ``scaleplots`` and ``storageplots`` (charts),
``maps`` (the world map), ``widgets`` (thin ipywidgets panels over ``dolab.lessons``).

It may import: every layer below it (``dolab.runtime``, ``dolab.sim``, ``dolab.lessons``).
"""
