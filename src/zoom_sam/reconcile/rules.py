"""Which reclamation rule, and which kind of hosting, each software model is reconciled with.

Rule matching (fnmatch globs, first match in profile order) cannot be written as SQL that SQLite
and PostgreSQL agree on, and there are only a handful of models, so it is resolved here, once per
run, and written to ``reconcile_rule`` for the as-of. The set-based statements join that table,
and the rows stay as the record of which threshold produced each position and candidate.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zoom_sam.licensing import threshold_for
from zoom_sam.warehouse.schema import entitlement, reclamation_rule, reconcile_rule, software_subscription

MEETING_HOSTED = "meeting_hosted"
WEBINAR_HOSTED = "webinar_hosted"
WEBINAR_MODEL_PREFIX = "zoom_webinar_"
LARGE_MEETING_MODEL_PREFIX = "zoom_large_meeting_"


def counted_activity(model: str) -> tuple[str, ...]:
    """The event types that show a subscription of ``model`` in use (hosting only: docs/reconcile.md).

    A webinar add-on is used by hosting webinars, a large-meeting add-on by hosting meetings. The
    seat is used by either (a webinar needs the seat), and so is any model a profile mapped an
    unrecognized identifier to: it is held on top of the seat, and hosting is all we can see.
    """
    if model.startswith(WEBINAR_MODEL_PREFIX):
        return (WEBINAR_HOSTED,)
    if model.startswith(LARGE_MEETING_MODEL_PREFIX):
        return (MEETING_HOSTED,)
    return (MEETING_HOSTED, WEBINAR_HOSTED)


def rule_row(profile_alias: str, as_of: datetime, model: str, rules: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The ``reconcile_rule`` row of one model, given the profile's ``reclamation_rule`` rows in order.

    The download writes an explicit ``source = 'default'`` row for every model no profile rule
    matched; a model seen only now (an entitlement, say) gets the same 60-day default here.
    """
    match = threshold_for(model, [
        {"software_model": r["software_model_pattern"],
         "last_activity_threshold_days": r["last_activity_threshold_days"],
         "disassociate_pending_invitations": r["disassociate_pending_invitations"]}
        for r in rules
    ])
    if match.rule_index is None:
        rule_index, source = None, match.source
    else:
        rule_index, source = rules[match.rule_index]["rule_index"], rules[match.rule_index]["source"]
    activity = counted_activity(model)
    return {
        "profile_alias": profile_alias,
        "as_of": as_of,
        "software_model": model,
        "rule_index": rule_index,
        "software_model_pattern": match.pattern,
        "source": source,
        "last_activity_threshold_days": match.threshold_days,
        "disassociate_pending_invitations": match.disassociate_pending_invitations,
        "counts_meetings": MEETING_HOSTED in activity,
        "counts_webinars": WEBINAR_HOSTED in activity,
        "window_start": as_of - timedelta(days=match.threshold_days),
        "evidence": {
            "rule_index": rule_index,
            "pattern": match.pattern,
            "source": source,
            "disassociate_pending_invitations": match.disassociate_pending_invitations,
            "activity": list(activity),
        },
    }


def write_rules(conn: Connection, profile_alias: str, as_of: datetime) -> int:
    """Replace the profile's ``reconcile_rule`` rows of ``as_of``: one per model held or entitled.

    Returns the number of models.
    """
    models = sa.union(
        sa.select(software_subscription.c.software_model).where(
            software_subscription.c.profile_alias == profile_alias, software_subscription.c.active
        ),
        sa.select(entitlement.c.software_model).where(entitlement.c.profile_alias == profile_alias),
    )
    rules = conn.execute(
        sa.select(reclamation_rule).where(reclamation_rule.c.profile_alias == profile_alias)
        .order_by(reclamation_rule.c.rule_index)
    ).mappings().all()
    rows = [rule_row(profile_alias, as_of, model, rules) for model in sorted(conn.execute(models).scalars())]
    conn.execute(reconcile_rule.delete().where(
        reconcile_rule.c.profile_alias == profile_alias, reconcile_rule.c.as_of == as_of
    ))
    if rows:
        conn.execute(reconcile_rule.insert(), rows)
    return len(rows)

