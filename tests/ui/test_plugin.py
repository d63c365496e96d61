"""The plugin as Airflow loads it: found through the installed entry point, cheap to import, its
app mounted at /zoom-sam and its views linked from the navigation and every DAG."""
from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points

from fastapi import FastAPI
from fastapi.testclient import TestClient

from airflow.api_fastapi.core_api.datamodels.plugins import ExternalViewResponse
from tests.ui.world import airflow_db, views, warehouse  # noqa: F401  (fixtures)
from zoom_sam.ui.plugin import URL_PREFIX, LazyApp, ZoomSamPlugin


def test_the_installed_package_registers_the_plugin():
    found = {ep.name: ep.value for ep in entry_points(group="airflow.plugins")}
    assert found.get("zoom_sam") == "zoom_sam.ui.plugin:ZoomSamPlugin"


def test_importing_the_plugin_loads_neither_the_app_nor_the_warehouse_nor_pandas():
    """Every Airflow component imports plugins; only the API server's first request builds the app."""
    probe = ("import sys, json; import airflow.plugins_manager; before = set(sys.modules); "
             "import zoom_sam.ui.plugin; print(json.dumps(sorted(set(sys.modules) - before)))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert set(json.loads(done.stdout.strip().splitlines()[-1])) <= {"zoom_sam", "zoom_sam.ui", "zoom_sam.ui.plugin"}


def test_the_plugin_declares_one_app_and_two_views_airflow_accepts():
    assert ZoomSamPlugin.name == "zoom_sam"
    [app] = ZoomSamPlugin.fastapi_apps
    assert app["url_prefix"] == URL_PREFIX == "/zoom-sam" and isinstance(app["app"], LazyApp)
    views = [ExternalViewResponse.model_validate(v) for v in ZoomSamPlugin.external_views]
    assert [(v.name, v.destination, v.href) for v in views] == [
        ("Zoom licenses", "nav", "/zoom-sam/"), ("Zoom licenses", "dag", "/zoom-sam/dags/{DAG_ID}")]
    assert len({v.url_route for v in views}) == 2


def test_the_lazy_app_serves_the_views_once_mounted(views):
    parent = FastAPI()
    parent.mount(URL_PREFIX, LazyApp())
    auth = {"Authorization": f"Bearer {views.token('admin')}"}
    with TestClient(parent) as client:
        resp = client.get("/zoom-sam/api/profiles", headers=auth)
        page = client.get("/zoom-sam/", headers=auth)  # a page builds URLs (static files, links)
    assert resp.status_code == 200 and resp.json()["profiles"][0]["alias"] == "acme"
    assert page.status_code == 200 and 'href="http://testserver/zoom-sam/static/' in page.text


def test_the_first_request_freezes_what_the_server_holds_out_of_the_garbage_collector():
    """Full collections then walk only what requests create: no half-second pause inside a page."""
    probe = ("import gc, json; from fastapi import FastAPI; from fastapi.testclient import TestClient; "
             "from zoom_sam.ui.plugin import LazyApp; parent = FastAPI(); parent.mount('/zoom-sam', LazyApp()); "
             "before = gc.get_freeze_count(); status = TestClient(parent).get('/zoom-sam/api/profiles').status_code; "
             "print(json.dumps([before, gc.get_freeze_count(), status]))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    before, after, status = json.loads(done.stdout.strip().splitlines()[-1])
    assert (before, status) == (0, 401) and after > 100_000
