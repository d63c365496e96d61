"""DAG-level fixtures: a profiles folder, and a runner that parses the real DAG file and runs one
DAG with ``dag.test()`` (on the session's migrated Airflow database)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.airflow import airflow_db  # noqa: F401  (fixture)
from tests.support.sandbox import ANCHOR, connection_json, sandbox  # noqa: F401  (fixture)
from tests.support.warehouse import warehouse  # noqa: F401  (fixture)

PROFILE = """\
alias: acme
zoom_conn_id: zoom_test
warehouse_conn_id: wh_test
exclusions:
  users:
    - email: "svc-*@example.com"
entitlements:
  - software_model: zoom_meetings_licensed
    purchased: 100
    unit_cost: 149.90
"""


@pytest.fixture
def profiles(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "profiles"
    folder.mkdir()
    monkeypatch.setenv("ZOOM_SAM_PROFILES_DIR", str(folder))
    monkeypatch.setenv("ZOOM_SAM_TASK_RETRIES", "0")  # dag.test would wait out real retry delays
    return folder


@pytest.fixture
def profile_dag(airflow_db, profiles, sandbox, warehouse, monkeypatch):  # noqa: F811
    """The acme profile on the sandbox and the parametrized warehouse; returns a runner by day."""
    (profiles / "acme.yaml").write_text(PROFILE)
    monkeypatch.setenv("AIRFLOW_CONN_ZOOM_TEST", connection_json(sandbox))
    monkeypatch.setenv("AIRFLOW_CONN_WH_TEST", warehouse.connection_json())
    return DagRunner("zoom_sam__acme")


class DagRunner:
    def __init__(self, dag_id: str):
        self.dag_id = dag_id

    def dag(self):
        from airflow.dag_processing.dagbag import DagBag

        bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
        assert not bag.import_errors, bag.import_errors
        return bag.dags[self.dag_id]

    def run(self, logical_date=ANCHOR, run_conf=None):
        """Parse the DAG file again (profiles may have changed) and run one interval, with the run's
        parameters ``run_conf`` when given (as a run triggered by hand)."""
        return self.dag().test(logical_date=logical_date, run_conf=run_conf)
