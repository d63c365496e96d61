"""A sandbox account, a warehouse and the activity library wired together for the activity tests.

Subscriptions are landed by the real download (``zoom_sam.subscriptions``), so the holders the
sweep reads are exactly what production would read; the sandbox's own record of who hosted what
(``hosted_uuids``) is the truth the landed events are compared with.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from zoom_sam.process import GivenZoom, Summary, context_for
from tests.support.sandbox import ANCHOR, FAST_LIMITS, direct_client
from zoom_sam.activity import completion
from zoom_sam.activity import shard as sweep_shard
from zoom_sam.activity.coverage import read_coverage
from zoom_sam.profiles import Profile
from zoom_sam.subscriptions import process as download_process
from zoom_sam.zoom.client import ZoomClient

ALIAS = "acme"


def client_for(sb, **overrides) -> ZoomClient:
    overrides.setdefault("rate_limits", dict(FAST_LIMITS))
    overrides.setdefault("backoff_base", 0.01)
    overrides.setdefault("backoff_max", 0.05)
    return direct_client(sb.connection_json(), **overrides)


@dataclass
class ActivityAccount:
    sb: object
    client: ZoomClient
    engine: sa.Engine
    alias: str = ALIAS
    history_start: datetime = ANCHOR - timedelta(days=30)
    results: list = field(default_factory=list)

    # --- driving -------------------------------------------------------------------------------

    def profile(self, source: str = "per_user", retention_days: int = 365) -> Profile:
        """The profile the processes run for: its analysed history starts at ``history_start``."""
        return Profile(alias=self.alias, zoom_conn_id="zoom_acme", analyze_activity_from=self.history_start.date(),
                       activity_source=source, activity_retention_days=retention_days)

    def download(self, as_of: datetime = ANCHOR) -> None:
        ctx = context_for(self.engine, self.profile(), as_of, run_id=f"download-{as_of:%Y%m%d}")
        download_process.run(ctx, GivenZoom(self.client))

    def sweep(self, as_of: datetime = ANCHOR, interval_start: datetime | None = None, *, source: str = "per_user",
              shard: int = 0, shards: int = 1, run_id: str = "", **kw) -> dict:
        """One shard of the sweep (no coverage change); its report, as the completion receives it."""
        ctx = context_for(self.engine, self.profile(source), as_of, run_id=run_id,
                           interval_start=interval_start or as_of - timedelta(days=1),
                           inputs={"shard": shard, "shards": shards})
        return sweep_shard.run(ctx, GivenZoom(self.client), **kw).report

    def complete(self, results: list[dict], as_of: datetime = ANCHOR, *, retention_days: int = 365) -> Summary:
        """The sweep's completion over the shards' reports."""
        ctx = context_for(self.engine, self.profile(retention_days=retention_days), as_of,
                           run_id=f"run-{as_of:%Y%m%d}", inputs={"shard_results": results})
        return completion.run(ctx, GivenZoom())

    def pull(self, as_of: datetime = ANCHOR, *, shards: int = 1, retention_days: int = 365, **kw) -> Summary:
        """A whole activity pull: every shard, then the completion."""
        results = [self.sweep(as_of, shard=i, shards=shards, **kw) for i in range(shards)]
        return self.complete(results, as_of, retention_days=retention_days)

    def twin(self, engine: sa.Engine) -> ActivityAccount:
        """The same Zoom account landed in another warehouse."""
        other = ActivityAccount(self.sb, self.client, engine, self.alias, self.history_start)
        other.download()
        return other

    # --- reading the warehouse -----------------------------------------------------------------

    def events(self, event_type: str | None = None) -> set[tuple[str, str, str, datetime]]:
        """(event_type, event_id, user_id, occurred_at) of every landed event."""
        q = "SELECT event_type, event_id, user_id, occurred_at FROM activity_event WHERE profile_alias = :a"
        with self.engine.connect() as conn:
            rows = conn.execute(sa.text(q), {"a": self.alias}).all()
        return {(t, i, u, _utc(o)) for t, i, u, o in rows if event_type in (None, t)}

    def event_count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.text("SELECT COUNT(*) FROM activity_event")).scalar_one()

    def coverage(self):
        with self.engine.connect() as conn:
            return read_coverage(conn, self.alias)

    def holders(self) -> dict[str, bool]:
        """user id -> holds the webinar add-on, as the warehouse says."""
        q = ("SELECT user_id, MAX(CASE WHEN identifier LIKE 'webinar%' THEN 1 ELSE 0 END) FROM software_subscription "
             "WHERE profile_alias = :a AND active = TRUE AND user_status = 'active' GROUP BY user_id")
        with self.engine.connect() as conn:
            return {u: bool(w) for u, w in conn.execute(sa.text(q), {"a": self.alias})}

    # --- the truth, from the sandbox -----------------------------------------------------------

    def truth(self, start: datetime, end: datetime) -> set[tuple[str, str]]:
        """(event_type, uuid) of what the holders hosted in [start, end), per the sandbox."""
        account = self.sb.account()
        out = set()
        for user_id, webinar in self.holders().items():
            if account.user(user_id) is None:
                continue
            out |= {("meeting_hosted", u) for u in account.hosted_uuids(user_id, start, end, kind="meetings")}
            if webinar:
                out |= {("webinar_hosted", u) for u in account.hosted_uuids(user_id, start, end, kind="webinars")}
        return out

    def calls(self, since: int = 0) -> Counter:
        """(endpoint, type) -> API requests the sandbox answered after log position ``since``."""
        out = Counter()
        for r in list(self.sb.log)[since:]:
            if r.path.startswith("/v2/"):
                out[(_endpoint(r.path), r.query.get("type"))] += 1
        return out


def _endpoint(path: str) -> str:
    parts = path.split("/")
    return "report" if parts[2] == "report" else parts[-1] if len(parts) > 3 else parts[2]


def _utc(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value
