"""The one transaction that turns a complete staged snapshot into the warehouse's current state.

Everything a reader sees changes at once: users, models, identifiers, subscriptions (new ones
active, missing ones ended), unrecognized identifiers, the profile's rows. If anything fails the
transaction rolls back and the previous snapshot stays exactly as it was. It runs under the
profile's ``state`` lock (the caller's), and only for the try that still owns the run's staging,
so two runs never merge into each other and a superseded try never merges at all. The set-based
statements are in ``src/zoom_sam/include/sql/download/``; the few dozen model rows are written from Python
because their descriptions come from :mod:`zoom_sam.licensing`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from zoom_sam.licensing import describe_model, model_for
from zoom_sam.profile_rows import replace_profile_tables, upsert_profile
from zoom_sam.profiles import Profile
from zoom_sam.subscriptions.staging import release
from zoom_sam.warehouse.owner import Owner
from zoom_sam.warehouse.schema import (
    software_model,
    software_subscription,
    subscription_identifier,
    unrecognized_subscription_identifier,
)
from zoom_sam.warehouse.sql import run_sql
from zoom_sam.warehouse.upsert import upsert


@dataclass
class MergeResult:
    new: int = 0
    gone: int = 0
    users_gone: int = 0
    # model -> {"active": n, "excluded": n, "ended": n}
    by_model: dict[str, dict[str, int]] = field(default_factory=dict)
    # identifier -> subscriptions holding it in this snapshot
    unrecognized: dict[str, int] = field(default_factory=dict)


def merge_snapshot(engine: Engine, profile: Profile, owner: Owner, as_of: datetime) -> MergeResult:
    """Merge the snapshot ``owner`` staged for its run and clear that run's staging, atomically."""
    params = {"alias": profile.alias, "run_id": owner.run_id, "as_of": as_of, "now": datetime.now(timezone.utc)}
    result = MergeResult()
    with engine.begin() as conn:
        release(conn, profile.alias, owner)
        if conn.dialect.name == "postgresql":  # SQLite plans these statements by their keys already
            run_sql(conn, "download/analyze_snapshot")
        params["held_since"] = _holding_start(conn, profile.alias, as_of)
        result.new = run_sql(conn, "download/count_new_subscriptions", params).scalar_one()
        run_sql(conn, "download/merge_users", params)
        result.users_gone = run_sql(conn, "download/mark_users_gone", params).rowcount
        _merge_models(conn, profile, params)
        result.gone = run_sql(conn, "download/end_missing_subscriptions", params).rowcount
        run_sql(conn, "download/merge_subscriptions", params)
        run_sql(conn, "download/merge_unrecognized", params)
        run_sql(conn, "download/zero_unrecognized", params)
        upsert_profile(conn, profile, as_of)
        models = conn.execute(
            sa.select(software_model.c.software_model).where(software_model.c.profile_alias == profile.alias)
        ).scalars()
        replace_profile_tables(conn, profile, list(models))
        run_sql(conn, "download/clear_stage_subscriptions", params)
        run_sql(conn, "download/clear_stage_users", params)
        for model, active, excluded, ended in run_sql(conn, "download/subscriptions_by_model", params):
            result.by_model[model] = {"active": int(active), "excluded": int(excluded), "ended": int(ended)}
        result.unrecognized = dict(
            conn.execute(
                sa.select(
                    unrecognized_subscription_identifier.c.identifier,
                    unrecognized_subscription_identifier.c.subscription_count,
                )
                .where(
                    unrecognized_subscription_identifier.c.profile_alias == profile.alias,
                    unrecognized_subscription_identifier.c.subscription_count > 0,
                )
                .order_by(unrecognized_subscription_identifier.c.identifier)
            ).all()
        )
    return result


def _holding_start(conn: Connection, alias: str, as_of: datetime) -> datetime:
    """When a holding that begins in this snapshot is dated: its as-of, or the latest snapshot's.

    A backfill run downloads today's account under an older as-of; an assignment it is the
    first to see happened after the latest snapshot, so dating it earlier would start its
    inactivity clock before the seat was even assigned.
    """
    latest = conn.execute(
        sa.select(sa.func.max(software_subscription.c.last_seen_at))
        .where(software_subscription.c.profile_alias == alias)
    ).scalar_one_or_none()
    return max(as_of, latest) if latest is not None else as_of


def _merge_models(conn: Connection, profile: Profile, params: dict) -> None:
    """``software_model`` and ``subscription_identifier`` rows for what was found and entitled."""
    alias, as_of = profile.alias, params["as_of"]
    models, identifiers = {}, []
    for identifier, model_key in run_sql(conn, "download/staged_models", params):
        if model_key is None:
            continue
        model = model_for(identifier, profile.identifier_models)
        models[model.key] = model
        identifiers.append({"profile_alias": alias, "identifier": identifier, "software_model": model.key,
                            "source": model.source, "first_seen_at": as_of, "last_seen_at": as_of})
    upsert(conn, software_model, [_model_row(alias, m, as_of) for m in models.values()],
           update=["publisher", "product", "edition", "capacity", "source"])
    upsert(conn, software_model,
           [_model_row(alias, describe_model(e.software_model, "entitlement"), as_of) for e in profile.entitlements],
           update=[])
    upsert(conn, subscription_identifier, identifiers, update=["software_model", "source"])
    run_sql(conn, "download/touch_models", params)
    run_sql(conn, "download/touch_identifiers", params)


def _model_row(alias: str, model, as_of: datetime) -> dict:
    return {"profile_alias": alias, "software_model": model.key, "publisher": model.publisher,
            "product": model.product, "edition": model.edition, "capacity": model.capacity,
            "source": model.source, "first_seen_at": as_of, "last_seen_at": as_of}
