"""The reconcile task: profile, warehouse and as-of from the run, a job_result row, an Asset event."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pendulum
import sqlalchemy as sa
from airflow.sdk import Asset
from airflow.sdk.execution_time.context import OutletEventAccessors

from tests.reconcile.account import DAY, Account

from zoom_sam.operators.reconcile import ReconcileOperator, license_position_asset
from zoom_sam.warehouse.engine import engine_for_url
from zoom_sam.warehouse.migrate import ensure_schema
from zoom_sam.warehouse.schema import job_result, license_position

PROFILE = """\
alias: acme
display_name: Acme Zoom
zoom_conn_id: zoom_acme
warehouse_conn_id: acme_warehouse
download_activity: true
reclaim_subscriptions: false
reclaim: {mode: approval}
"""


def test_the_asset_names_the_profile():
    assert license_position_asset("acme") == Asset(name="zoom_sam_license_position_acme",
                                                   uri="zoom-sam://acme/license_position", group="zoom_sam")
    task = ReconcileOperator(task_id="reconcile", profile_path="acme.yaml", profile_alias="acme")
    assert task.outlets == [license_position_asset("acme")]
    assert task.max_active_tis_per_dag == 1


def test_the_task_reconciles_as_of_the_interval_end_and_announces_the_position(tmp_path, monkeypatch):
    path = tmp_path / "acme.yaml"
    path.write_text(PROFILE)
    db = tmp_path / "w.db"
    monkeypatch.setenv("AIRFLOW_CONN_ACME_WAREHOUSE", json.dumps({"conn_type": "sqlite", "host": str(db)}))
    as_of = pendulum.datetime(2026, 11, 28, tz="UTC")
    engine = engine_for_url(f"sqlite:///{db}")
    ensure_schema(engine)
    account = Account(engine)
    account.covered(as_of - 40 * DAY)  # a 60-day default rule: history too short to judge "idle"
    account.seat("idle")
    account.entitled("zoom_meetings_licensed", 2, "149.90")  # as download_subscriptions writes them
    outlet_events = OutletEventAccessors()
    context = {"data_interval_end": as_of, "run_id": "scheduled__2026-11-28", "ti": SimpleNamespace(try_number=1, map_index=-1),
               "outlet_events": outlet_events}

    summary = ReconcileOperator(task_id="reconcile", profile_path=str(path), profile_alias="acme").execute(context)

    assert summary["as_of"] == "2026-11-28T00:00:00+00:00" and summary["mode"] == "approval"
    assert outlet_events[license_position_asset("acme")].extra == {"as_of": "2026-11-28T00:00:00+00:00", "models": 1}
    with engine.connect() as conn:
        job = conn.execute(sa.select(job_result)).mappings().one()
        position = conn.execute(sa.select(license_position)).mappings().one()
    assert job["task_id"] == "reconcile" and job["status"] == "insufficient_history"
    assert job["counts"]["insufficient_history"] == 1 and job["counts"]["candidates_opened"] == 0
    assert "does not span their threshold window" in job["message"]
    assert (position["purchased"], position["assigned"], position["stale"]) == (2, 1, 1)
    engine.dispose()
