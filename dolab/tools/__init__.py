"""The real parts around the lab: the ``dolab`` command and what it does outside a notebook.

What lives here: reading a learner's source without running it (``source``: a ``.py`` file, a
``module:attr`` or a notebook), the Python Workers SDK's names (``sdk``), ``dolab check-port``'s
table of rules (``portability``), ``dolab export`` to a deployable Python Workers project
(``export``), ``dolab serve``: a lab's Worker and objects on a real local HTTP and WebSocket server
(``serve``, the ASGI bridge in ``asgi``, the source-to-lab step in ``runner``), and the command line
(``cli``).

It may import: ``dolab.runtime``, ``dolab.sim``, its own modules, the standard library, and for
serving Starlette, uvicorn and websockets. No presentation libraries (pandas, matplotlib, ipywidgets,
tqdm): it writes files, prints lines and answers requests.
"""
