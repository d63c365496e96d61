"""``airflow_db``: a migrated Airflow metadata database for the session (dag.test needs its tables).

Import the fixture into a suite's conftest; pytest runs it once per session however many suites
use it.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def airflow_db(airflow_home):
    """``airflow db migrate`` for the session's AIRFLOW_HOME (about 3 s on SQLite)."""
    airflow = Path(sys.executable).with_name("airflow")
    done = subprocess.run([str(airflow), "db", "migrate"], env=os.environ.copy(), capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return airflow_home
