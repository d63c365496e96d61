"""A profile's own rows in the warehouse: the profile itself, entitlements, rules, exclusions.

They are written so that the warehouse alone explains every later result: which threshold made a
candidate (including the 60-day default a model got because no rule matched it), which rule
excluded a user, what the account owns. They are replaced wholesale on every run (the profile
file is the source of truth), inside the caller's transaction.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zoom_sam.profiles import Profile, activity_start
from zoom_sam.rules import Rules
from zoom_sam.warehouse.schema import (
    activity_coverage,
    entitlement,
    exclusion_rule,
    integration_profile,
    reclamation_rule,
)
from zoom_sam.warehouse.upsert import upsert


def first_as_of(conn: Connection, alias: str) -> datetime | None:
    """The as-of of the profile's first validated run, if there was one."""
    return conn.execute(
        sa.select(integration_profile.c.first_as_of).where(integration_profile.c.profile_alias == alias)
    ).scalar_one_or_none()


def has_activity_history(conn: Connection, alias: str) -> bool:
    """Whether any activity has been pulled for the profile (its onboarding window is then fixed)."""
    found = conn.execute(
        sa.select(activity_coverage.c.source).where(activity_coverage.c.profile_alias == alias).limit(1)
    ).first()
    return found is not None


def upsert_profile(conn: Connection, profile: Profile, as_of: datetime) -> None:
    """The ``integration_profile`` row: settings, and the first run's as-of once it is known."""
    now = datetime.now(timezone.utc)
    first = first_as_of(conn, profile.alias) or as_of
    row = {
        "profile_alias": profile.alias,
        "display_name": profile.display_name,
        "zoom_conn_id": profile.zoom_conn_id,
        "warehouse_conn_id": profile.warehouse_conn_id,
        "settings": profile.settings(),
        "activity_start": activity_start(profile, first),
        "first_as_of": first,
        "created_at": now,
        "updated_at": now,
    }
    upsert(conn, integration_profile, [row], update=[c for c in row if c != "created_at"])


def replace_profile_tables(conn: Connection, profile: Profile, models: Iterable[str]) -> None:
    """Entitlements, reclamation rules and exclusion rules of the profile, as the file says now.

    ``models`` are the software model keys the profile has (found or entitled); each one that no
    profile rule matches gets an explicit default rule row (60 days, ``source = 'default'``).
    """
    alias = profile.alias
    for table in (entitlement, reclamation_rule, exclusion_rule):
        conn.execute(table.delete().where(table.c.profile_alias == alias))
    upsert(conn, entitlement, [
        {"profile_alias": alias, "software_model": e.software_model, "purchased": e.purchased,
         "unit_cost": e.unit_cost, "currency": e.currency}
        for e in profile.entitlements
    ])
    upsert(conn, reclamation_rule, Rules.from_profile(profile).recorded_rows(alias, list(models)))
    exclusions = [{"kind": "user", "field": u.field, "pattern": u.pattern} for u in profile.exclusions.users]
    exclusions += [{"kind": "identifier", "field": "identifier", "pattern": p} for p in profile.exclusions.identifiers]
    upsert(conn, exclusion_rule, [{"profile_alias": alias, "rule_index": i, **row} for i, row in enumerate(exclusions)])
