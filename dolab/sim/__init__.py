"""The simulated world: where users and objects are, and how long each hop takes.

What lives here: geography and the measured latency matrix (``geo``, ``latency``), the network
that places objects near their first request (``network``), an external database in one home
region (``externaldb``), the designs to compare (``designs``), workloads, ``simulate()`` and its
``Trace`` of plain records, and the cost meter (``pricing``).

It may import: ``dolab.runtime`` and its own modules. No presentation libraries (pandas,
matplotlib, ipywidgets, tqdm): a trace is plain records, and ``dolab.view`` draws them.
"""
