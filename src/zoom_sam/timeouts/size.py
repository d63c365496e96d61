"""What the warehouse knows of a profile's account: the counts its tasks' Zoom work scales with."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from zoom_sam.activity.holders import load_holders
from zoom_sam.vocabulary import RECLAIMABLE_STATES
from zoom_sam.warehouse.schema import removal_candidate, zoom_user


@dataclass(frozen=True)
class AccountSize:
    """The last snapshot's counts (all zero before the first download)."""

    users: int                 # users present in Zoom, every status
    holders: int               # active users holding a subscription: the settings read, the users swept
    webinar_holders: int       # holders of the webinar add-on, whose webinars are listed too
    candidates: int            # open removal candidates, which reclaim re-checks
    snapshot_at: datetime | None

    def describe(self) -> str:
        when = f"as of {self.snapshot_at:%Y-%m-%d}" if self.snapshot_at else "(no snapshot yet)"
        return (f"{self.users:,} users, {self.holders:,} holders ({self.webinar_holders:,} with webinars) and "
                f"{self.candidates:,} open removal candidates in the warehouse's snapshot {when}")


def account_size(engine: Engine, alias: str) -> AccountSize:
    present = sa.and_(zoom_user.c.profile_alias == alias, zoom_user.c.present)
    is_open = sa.and_(removal_candidate.c.profile_alias == alias, removal_candidate.c.state.in_(RECLAIMABLE_STATES))
    with engine.connect() as conn:
        users, latest = conn.execute(sa.select(sa.func.count(), sa.func.max(zoom_user.c.last_seen_at)).where(present)).one()
        candidates = conn.execute(sa.select(sa.func.count()).select_from(removal_candidate).where(is_open)).scalar_one()
        holders = load_holders(conn, alias)
    return AccountSize(users=users, holders=len(holders), webinar_holders=sum(h.webinar for h in holders),
                       candidates=candidates, snapshot_at=latest)
