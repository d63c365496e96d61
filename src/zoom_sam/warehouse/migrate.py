"""Create or migrate the warehouse schema at the start of a run, idempotently and serialised.

Every task calls :func:`ensure_schema` first. When the recorded version already equals
``SCHEMA_VERSION`` that is one small read and nothing else. Otherwise the work runs in one
transaction under a lock (a PostgreSQL advisory transaction lock; on SQLite the ``BEGIN
IMMEDIATE`` write lock), so profiles starting together on one warehouse migrate it exactly once:

1. ``CREATE SCHEMA IF NOT EXISTS zoom_sam`` (PostgreSQL);
2. ``metadata.create_all``: creates the tables and indexes that are missing (new tables of a
   newer version arrive this way);
3. columns the code declares that an existing table lacks are added (``ALTER TABLE ... ADD
   COLUMN``; a new NOT NULL column therefore needs a ``server_default``);
4. the :data:`STEPS` between the recorded and the current version, for changes neither can make
   (a changed type, a renamed column, a data fix);
5. the new version in ``schema_version``.

Version history: 1, the table contract; 2, download staging tables, reconcile working tables,
``reclaim_action.attempts`` / ``confirmation``; 3, when a subscription is held since, per-run
staging, the token store, the run locks and the activity shards' leases (additive), and
``upcoming_event`` dropped: nothing read it, and reclaim reads upcoming meetings from Zoom when
it is about to write; 4, the indexes the views in the Airflow UI page by (docs/ui.md); 5, the
approval request and answer on ``removal_candidate`` and ``reclaim_action`` (additive columns) and
the index that finds a run's request (docs/reclaim.md); 6, the ``oauth_connect_state`` of
"Connect Zoom account" (additive); 7, ``sweep_lease.share_divisor``, the share each activity
shard sends at (additive).

A warehouse written by a newer zoom-sam than this one is refused with
:class:`SchemaTooNewError` instead of being written with a layout the code does not know.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from zoom_sam.errors import ZoomSamError
from zoom_sam.warehouse.engine import PG_SCHEMA
from zoom_sam.warehouse.schema import SCHEMA_VERSION, metadata, removal_candidate, schema_version, software_subscription

log = logging.getLogger(__name__)

COMPONENT = "warehouse"
# Any fixed 64-bit number; it names the lock "zoom-sam migrates this database".
PG_ADVISORY_LOCK_KEY = 0x7A6F6F6D73616D


def _drop_upcoming_event(conn: Connection) -> None:
    conn.execute(sa.text("DROP TABLE IF EXISTS upcoming_event"))


def _add_indexes(*names: str) -> Callable[[Connection], None]:
    """A step creating these indexes on tables that already exist (create_all adds an index only
    together with a new table)."""
    def step(conn: Connection) -> None:
        for table in (software_subscription, removal_candidate):
            for index in table.indexes:
                if index.name in names:
                    index.create(conn, checkfirst=True)

    return step


# target version -> step bringing the schema from (target - 1) to target, beyond create_all.
STEPS: dict[int, Callable[[Connection], None]] = {
    3: _drop_upcoming_event,
    4: _add_indexes("ix_software_subscription_email", "ix_removal_candidate_evaluated"),  # the views' paging
    5: _add_indexes("ix_removal_candidate_approval"),
}


class SchemaTooNewError(ZoomSamError):
    """The warehouse was migrated by a newer zoom-sam; this code must not write to it."""


def ensure_schema(engine: Engine) -> int:
    """Bring the warehouse to ``SCHEMA_VERSION``; returns the version it was at before."""
    with engine.connect() as conn:
        found = recorded_version(conn)
    _refuse_newer(engine, found)
    if found == SCHEMA_VERSION:
        return found
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_ADVISORY_LOCK_KEY})
            conn.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {PG_SCHEMA}"))
        found = recorded_version(conn)  # again: another process may have migrated meanwhile
        _refuse_newer(engine, found)
        if found == SCHEMA_VERSION:
            return found
        metadata.create_all(conn)
        if found:  # a fresh database got the current layout from create_all already
            add_missing_columns(conn)
            for target in range(found + 1, SCHEMA_VERSION + 1):
                if target in STEPS:
                    STEPS[target](conn)
        _record(conn, found)
    log.info("warehouse schema migrated from version %s to %s", found or "none", SCHEMA_VERSION)
    return found


def recorded_version(conn: Connection) -> int:
    """The schema version recorded in the warehouse, 0 for an empty database."""
    if not sa.inspect(conn).has_table(schema_version.name):
        return 0
    value = conn.execute(
        sa.select(schema_version.c.version).where(schema_version.c.component == COMPONENT)
    ).scalar_one_or_none()
    return value or 0


def add_missing_columns(conn: Connection) -> list[str]:
    """Add every column of the metadata that its (existing) table lacks; returns ``table.column``s."""
    inspector = sa.inspect(conn)
    ddl_compiler = conn.dialect.ddl_compiler(conn.dialect, None)
    added = []
    for table in metadata.sorted_tables:
        present = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            ddl = f"ALTER TABLE {table.name} ADD COLUMN {column.name} {column.type.compile(conn.dialect)}"
            default = ddl_compiler.get_column_default_string(column)
            if default is not None:
                ddl += f" DEFAULT {default}"
            if not column.nullable:
                ddl += " NOT NULL"
            conn.execute(sa.text(ddl))
            added.append(f"{table.name}.{column.name}")
    if added:
        log.info("warehouse columns added: %s", ", ".join(added))
    return added


def _refuse_newer(engine: Engine, found: int) -> None:
    if found > SCHEMA_VERSION:
        raise SchemaTooNewError(
            f"the warehouse at {engine.url.render_as_string(hide_password=True)} has schema version "
            f"{found}, newer than this zoom-sam knows ({SCHEMA_VERSION}); upgrade zoom-sam on every "
            "worker that writes to it (nothing was changed)"
        )


def _record(conn: Connection, previous: int) -> None:
    now = datetime.now(timezone.utc)
    if previous:
        conn.execute(
            schema_version.update()
            .where(schema_version.c.component == COMPONENT)
            .values(version=SCHEMA_VERSION, applied_at=now)
        )
    else:
        conn.execute(schema_version.insert().values(component=COMPONENT, version=SCHEMA_VERSION, applied_at=now))
