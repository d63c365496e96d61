"""Which profiles the views know, the warehouse each is read from, and what Airflow plans next.

The profiles are the files of ``ZOOM_SAM_PROFILES_DIR`` read on every request, like the DAG
processor reads them, so an edited or added profile shows without restarting the API server; a
file that does not validate is left out here (its DAG shows the import error in Airflow). Each
profile is read from its own warehouse; engines are cached per connection id because creating one
resolves the Airflow connection and opens a pool, which must not happen on every request.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache

from sqlalchemy.engine import Connection, Engine

from zoom_sam.profiles import Profile, load_profiles
from zoom_sam.ui.queries import has_schema
from zoom_sam.warehouse.engine import get_engine


def all_profiles() -> list[Profile]:
    """The valid profiles, in file order."""
    return [loaded.profile for loaded in load_profiles().profiles]


@lru_cache(maxsize=None)
def warehouse_engine(warehouse_conn_id: str) -> Engine:
    return get_engine(warehouse_conn_id, read_only=True)


@contextmanager
def reading(profile: Profile) -> Iterator[Connection | None]:
    """A connection to the profile's warehouse, or None when no run has created its tables yet."""
    with warehouse_engine(profile.warehouse_conn_id).connect() as conn:
        yield conn if has_schema(conn) else None


def next_runs(dag_ids: list[str]) -> dict[str, datetime | None]:
    """dag_id -> when Airflow creates its next run; None for a paused DAG or one not parsed yet."""
    import sqlalchemy as sa
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session

    with create_session() as session:
        found = session.execute(
            sa.select(DagModel.dag_id, DagModel.next_dagrun_create_after, DagModel.is_paused)
            .where(DagModel.dag_id.in_(dag_ids))
        ).all()
    planned = {dag_id: None if paused else after for dag_id, after, paused in found}
    return {dag_id: planned.get(dag_id) for dag_id in dag_ids}
