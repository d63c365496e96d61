"""What this run's download read about the candidates' users, from the warehouse.

The download task of the same run read every user's status and settings a few minutes before
reclaim starts. A dry run plans from that (it writes nothing, so nothing read from Zoom again
would be fresh at a write), and a real run's budget counts the reads its re-checks will need from
it (who holds the webinar add-on, how many pages the user listing has).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from zoom_sam.licensing import Held
from zoom_sam.warehouse.sql import run_sql


@dataclass(frozen=True)
class Downloaded:
    """The candidates' users as downloaded: status and holdings, and the account's users per status."""

    records: dict[str, dict[str, Any]]   # user key -> {"status": ...}; absent: not listed any more
    held: dict[str, list[Held]]          # user key -> active subscriptions
    users_by_status: dict[str, int]

    def holds(self, user_id: str, flag: str) -> bool:
        """Whether the user holds the add-on ``flag`` (``webinar``, ``large_meeting``) at any capacity."""
        return any(h.identifier.split(":", 1)[0] == flag for h in self.held.get(user_id, ()))


def load_downloaded(engine: Engine, profile_alias: str, as_of: datetime) -> Downloaded:
    """The state of the users with open candidates of the reconcile for ``as_of``."""
    params = {"profile_alias": profile_alias, "as_of": as_of}
    records: dict[str, dict[str, Any]] = {}
    held: dict[str, list[Held]] = {}
    with engine.connect() as conn:
        for user_id, status, identifier, capacity in run_sql(conn, "reclaim/downloaded_state", params):
            records[user_id] = {"status": status}
            if identifier is not None:
                held.setdefault(user_id, []).append(Held(identifier, capacity))
        by_status = {status: int(n) for status, n in run_sql(conn, "reclaim/users_by_status", params)}
    return Downloaded(records, held, by_status)
