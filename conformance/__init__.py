"""Conformance suite: how faithfully dolab behaves compared with workerd, Cloudflare's runtime.

``cases`` is the catalogue (Python operations), ``sdk_model`` the Python Workers SDK's value
conversions, ``record`` runs the catalogue on workerd through Miniflare and keeps the answers in
``expected/``, ``run`` performs the same operations on dolab and compares them op by op.
"""
