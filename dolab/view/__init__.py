"""DataFrames, charts, maps and widgets: the only layer that imports pandas, matplotlib,
ipywidgets and tqdm.

What lives here: ``report`` (traces as tidy DataFrames), ``plots``, ``clickplots``, ``gateplots``, ``costplots``,
``scaleplots`` and ``storageplots`` (charts), ``maps`` (the world map), ``widgets`` and ``gate_explorer``
(thin ipywidgets panels over ``dolab.lessons``).

It may import: every layer below it (``dolab.runtime``, ``dolab.sim``, ``dolab.lessons``).
"""
