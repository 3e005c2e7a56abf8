"""The local iteration UI (``modelyard ui``): a Dash app that draws a workflow's execution graph,
runs it (or one node) in a worker process, and explores what the nodes left behind.

Modules: ``status`` (the per-workflow status record), ``worker`` (the run subprocess), ``jobs``
(starting and watching that subprocess), ``data`` (reading the repo, warehouse, store and run
folders), ``panels`` (what a clicked node shows, by kind), ``layout``, ``callbacks``, ``app``.
"""
