"""``python -m dolab``: the ``dolab`` command (see ``dolab.tools.cli``)."""

from dolab.tools.cli import main

raise SystemExit(main())
