"""DataFrames, charts, maps and widgets: the only layer that imports pandas, matplotlib,
ipywidgets and tqdm.

What lives here: ``report`` (traces as tidy DataFrames), ``plots``, ``scaleplots`` and ``storageplots`` (charts),
``maps`` (the world map), ``widgets`` (thin ipywidgets panels over ``dolab.lessons``), and one
module per chapter view: ``cart_panel`` and ``clickplots`` (01), ``gateplots`` and ``gate_explorer`` (02),
``costplots`` (03), ``alarm_timeline`` (06), ``chat_panel`` and ``room_costs`` (07), ``storageplots`` (09),
``collab_panel`` and ``collabplots`` (11), ...

It may import: every layer below it (``dolab.runtime``, ``dolab.sim``, ``dolab.lessons``).
"""
