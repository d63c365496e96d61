"""Airflow DAG file of the demo (``docker compose --profile sandbox``): the DAG of the demo profile.

The sandbox service copies this file and the demo profile into the ``zoom-sam-demo`` volume, which
every Airflow service reads as a DAG bundle of its own. The user's profiles folder stays untouched, and
without the sandbox the bundle is empty, so a production deployment shows only the user's profiles.
"""
from pathlib import Path

from zoom_sam.dag_factory import register_dags

register_dags(Path(__file__).resolve().parents[1] / "profiles")
