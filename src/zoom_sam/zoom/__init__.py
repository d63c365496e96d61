"""A plain Zoom REST API v2 client (no Airflow imports): OAuth, paging, rate limits, retries.

Import the pieces from their modules: ``zoom_sam.zoom.client.ZoomClient`` / ``ZoomConfig``,
``zoom_sam.zoom.errors``, ``zoom_sam.zoom.scopes``, ``zoom_sam.zoom.endpoints``,
``zoom_sam.zoom.ratelimit``, ``zoom_sam.zoom.auth``, ``zoom_sam.zoom.validate``.
This module stays import-free so that Airflow's plugin scan of ``plugins/`` stays cheap.
"""
