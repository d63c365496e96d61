"""A plain Zoom REST API v2 client (no Airflow imports), one module per job.

``client`` (ZoomClient, the facade the processes call), ``config`` (ZoomConfig) and ``extras``
(a connection's extras and their ranges), ``transport`` (sending, limits) with ``retry`` (the one
retry policy) and ``answers`` (what an answer means), ``paging``, ``concurrency`` (the thread
pool), ``auth`` and ``refresh_chain`` (the grants) with ``token_cache`` and ``token_endpoint``,
``endpoints``, ``scopes``, ``ratelimit``, ``errors``, ``validate``. Import the pieces from their
modules: this one stays import-free so that importing the package stays cheap.
"""
