"""The views page subscriptions and candidates through indexes of their own, in new warehouses and
in warehouses a version-3 zoom-sam created (schema version 4)."""
from __future__ import annotations

import sqlalchemy as sa

from tests.support.warehouse import warehouse  # noqa: F401  (fixture)
from zoom_sam.warehouse.migrate import ensure_schema
from zoom_sam.warehouse.schema import SCHEMA_VERSION, schema_version

VIEW_INDEXES = {"software_subscription": "ix_software_subscription_email",
                "removal_candidate": "ix_removal_candidate_evaluated"}


def _indexes(engine) -> dict[str, set[str]]:
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        return {table: {i["name"] for i in inspector.get_indexes(table)} for table in VIEW_INDEXES}


def test_a_new_warehouse_has_the_views_indexes(warehouse):  # noqa: F811  (the imported fixture)
    found = _indexes(warehouse.engine)
    assert all(name in found[table] for table, name in VIEW_INDEXES.items())


def test_a_version_3_warehouse_gets_them_when_migrated(warehouse):  # noqa: F811
    with warehouse.engine.begin() as conn:
        for name in VIEW_INDEXES.values():
            conn.execute(sa.text(f"DROP INDEX {name}"))
        conn.execute(schema_version.update().values(version=3))
    assert ensure_schema(warehouse.engine) == 3
    found = _indexes(warehouse.engine)
    assert all(name in found[table] for table, name in VIEW_INDEXES.items())
    assert ensure_schema(warehouse.engine) == SCHEMA_VERSION
