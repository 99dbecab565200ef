"""The real parts around the lab: the ``dolab`` command and what it does outside a notebook.

What lives here: reading a learner's source without running it (``source``: a ``.py`` file, a
``module:attr`` or a notebook), the Python Workers SDK's names (``sdk``), ``dolab check-port``'s
table of rules (``portability``), ``dolab export`` to a deployable Python Workers project
(``export``) and the command line (``cli``); later ``serve``.

It may import: ``dolab.runtime``, ``dolab.sim``, its own modules and the standard library. No
presentation libraries (pandas, matplotlib, ipywidgets, tqdm): it writes files and prints lines.
"""
