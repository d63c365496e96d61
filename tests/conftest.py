"""Test session setup shared by every suite.

Airflow reads its configuration when first imported, so the environment is fixed here, before any
test module imports airflow: a throw-away AIRFLOW_HOME (never the user's ~/airflow), this
checkout's dags/ and code (src/, dev/, the root: ahead of whatever the virtualenv has installed), no examples.
"""
from __future__ import annotations

import os
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_HOME = tempfile.mkdtemp(prefix="zoom-sam-airflow-")
os.environ["AIRFLOW_HOME"] = _HOME
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "dags")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__TEST_CONNECTION"] = "Enabled"
for _path in (ROOT, ROOT / "dev", ROOT / "src"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))
from project import pythonpath  # noqa: E402  (dev/ is on sys.path only from here)

os.environ["PYTHONPATH"] = pythonpath()

PG_ADMIN_URL = os.environ.get("ZOOM_SAM_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def airflow_home() -> Path:
    return Path(_HOME)


@pytest.fixture
def pg_url():
    """A fresh PostgreSQL database for one test, dropped afterwards.

    Outside CI a missing server skips; in CI it fails, because a skipped PostgreSQL suite there
    would hide exactly the regressions it exists to catch.
    """
    import sqlalchemy as sa

    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text("select 1"))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        if _in_ci():
            pytest.fail(f"PostgreSQL is required in CI but unreachable: {exc}")
        pytest.skip("PostgreSQL not reachable on 127.0.0.1:5432")
    name = f"zoom_sam_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
