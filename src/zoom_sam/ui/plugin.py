"""The Airflow plugin: mounts the views at ``/zoom-sam`` and links them from Airflow's UI.

Every Airflow component imports plugins (the scheduler and the workers too), so this module
imports nothing but ``AirflowPlugin``: the FastAPI app, the warehouse code and pandas are
imported by the API server on the first request that reaches ``/zoom-sam``.
"""
from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

URL_PREFIX = "/zoom-sam"


class LazyApp:
    """An ASGI app that builds the real one (``zoom_sam.ui.app.create_app``) when first called.

    Once built, the objects the API server holds by then (about 600,000: Airflow, FastAPI,
    SQLAlchemy, pandas) are frozen out of the garbage collector. Otherwise every full collection
    walks them all, and a page that builds a chart's data triggers one every few requests: a
    pause of 0.4 to 0.6 s in the middle of a request, measured on the license usage page. Frozen,
    a full collection walks only what requests created since (under 30 ms).
    """

    def __init__(self) -> None:
        self._app = None

    async def __call__(self, scope, receive, send) -> None:
        if self._app is None:
            import gc

            from zoom_sam.ui.app import create_app

            self._app = create_app()
            gc.freeze()
        # Airflow mounts this object, not the app, so the router in the scope is Airflow's, which
        # cannot see the app's routes: url_for ("static", the pages' links) resolves in the app's
        # own router and keeps the mount's prefix as the root of the URLs it builds.
        await self._app({**scope, "router": self._app.router, "app_root_path": scope.get("root_path", "")},
                        receive, send)


class ZoomSamPlugin(AirflowPlugin):
    name = "zoom_sam"
    fastapi_apps = [{"app": LazyApp(), "url_prefix": URL_PREFIX, "name": "zoom-sam views"}]
    # With a url_route the Airflow UI shows the view inside its own frame (at /plugin/<url_route>);
    # a DAG tab is only shown when it has one. Each route must be unique across all plugins.
    external_views = [
        {"name": "Zoom licenses", "href": f"{URL_PREFIX}/", "destination": "nav", "category": "browse",
         "url_route": "zoom-licenses"},
        {"name": "Zoom licenses", "href": URL_PREFIX + "/dags/{DAG_ID}", "destination": "dag",
         "url_route": "zoom-licenses-dag"},
    ]
