"""The experiments the chapters drive: plain functions and records that tests call directly.

What lives here: chapter 01's carts (``cart``), 02's concurrent adds to a database and to an object
(``concurrency``), 03's traditional fixes (``fixes``), 04's latency explorer (``explorer``),
05's scale sweep (``sweep``), 07's chat room, its traffic and its bill (``chat``), the same room for
real browser tabs (``chatroom``, with its page in ``chat_page/``), 09's storage experiments
(``storage``), and 11's collaborative document: the merge (``ot``), the document objects (``docroom``,
``crdtdoc``, with their pages in ``doc_page/``), the editors (``collab``) and a popular document (``crowd``).

It may import: ``dolab.runtime``, ``dolab.sim`` and its own modules. No presentation libraries:
the widgets in ``dolab.view`` only draw what these functions return.
"""
