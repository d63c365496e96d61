"""Which reclamation rule, and which kind of hosting, each software model is reconciled with.

Rule matching (:class:`zoom_sam.rules.Rules`, fnmatch globs, first match in order) cannot be
written as SQL that SQLite and PostgreSQL agree on, and there are only a handful of models, so it
is resolved here, once per run, and written to ``reconcile_rule`` for the as-of. The set-based
statements join that table, and the rows stay as the record of which threshold produced each
position and candidate.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zoom_sam.rules import Rules
from zoom_sam.vocabulary import EventType
from zoom_sam.warehouse.schema import entitlement, reconcile_rule, software_subscription

WEBINAR_MODEL_PREFIX = "zoom_webinar_"
LARGE_MEETING_MODEL_PREFIX = "zoom_large_meeting_"


def counted_activity(model: str) -> tuple[EventType, ...]:
    """The event types that show a subscription of ``model`` in use (hosting only: docs/reconcile.md).

    A webinar add-on is used by hosting webinars, a large-meeting add-on by hosting meetings. The
    seat is used by either (a webinar needs the seat), and so is any model a profile mapped an
    unrecognized identifier to: it is held on top of the seat, and hosting is all we can see.
    """
    if model.startswith(WEBINAR_MODEL_PREFIX):
        return (EventType.WEBINAR_HOSTED,)
    if model.startswith(LARGE_MEETING_MODEL_PREFIX):
        return (EventType.MEETING_HOSTED,)
    return (EventType.MEETING_HOSTED, EventType.WEBINAR_HOSTED)


def rule_row(profile_alias: str, as_of: datetime, model: str, rules: Rules) -> dict[str, Any]:
    """The ``reconcile_rule`` row of one model under the run's recorded rules.

    The download records an explicit ``default`` rule for every model no profile rule matched; a
    model seen only now (an entitlement, say) gets the same 60-day default from the resolver.
    """
    match = rules.for_model(model)
    activity = counted_activity(model)
    return {
        "profile_alias": profile_alias,
        "as_of": as_of,
        "software_model": model,
        "rule_index": match.rule_index,
        "software_model_pattern": match.pattern,
        "source": match.source,
        "last_activity_threshold_days": match.threshold_days,
        "disassociate_pending_invitations": match.disassociate_pending_invitations,
        "counts_meetings": EventType.MEETING_HOSTED in activity,
        "counts_webinars": EventType.WEBINAR_HOSTED in activity,
        "window_start": as_of - timedelta(days=match.threshold_days),
        "evidence": {
            "rule_index": match.rule_index,
            "pattern": match.pattern,
            "source": match.source,
            "disassociate_pending_invitations": match.disassociate_pending_invitations,
            "activity": [str(event) for event in activity],
        },
    }


def write_rules(conn: Connection, profile_alias: str, as_of: datetime, rules: Rules) -> int:
    """Replace the profile's ``reconcile_rule`` rows of ``as_of``: one per model held or entitled.

    Returns the number of models.
    """
    models = sa.union(
        sa.select(software_subscription.c.software_model).where(
            software_subscription.c.profile_alias == profile_alias, software_subscription.c.active
        ),
        sa.select(entitlement.c.software_model).where(entitlement.c.profile_alias == profile_alias),
    )
    rows = [rule_row(profile_alias, as_of, model, rules) for model in sorted(conn.execute(models).scalars())]
    conn.execute(reconcile_rule.delete().where(
        reconcile_rule.c.profile_alias == profile_alias, reconcile_rule.c.as_of == as_of
    ))
    if rows:
        conn.execute(reconcile_rule.insert(), rows)
    return len(rows)
