"""What the reconcile suites build and read: an account written row by row (:class:`Account`), so
each case shows the data it judges, and typed readers of what reconcile wrote."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from zoom_sam.process import GivenZoom, context_for

from zoom_sam.licensing import SEAT_IDENTIFIER, SEAT_MODEL
from zoom_sam.profiles import Profile
from zoom_sam.vocabulary import EventType, Mode
from zoom_sam.warehouse.schema import (
    activity_coverage,
    activity_event,
    entitlement,
    reclamation_rule,
    software_subscription,
    zoom_user,
)
from zoom_sam.warehouse.upsert import upsert

ALIAS = "acme"
AS_OF = datetime(2026, 11, 28, tzinfo=timezone.utc)
DAY = timedelta(days=1)
LONG_AGO = AS_OF - 400 * DAY


def identifier_of(model: str) -> str:
    """The identifier the download gives a model's subscription (licensing.py's naming)."""
    if model == SEAT_MODEL:
        return SEAT_IDENTIFIER
    kind, capacity = model.removeprefix("zoom_").rsplit("_", 1)
    return f"{kind}:{capacity}"


class Account:
    """Writes warehouse rows the way download_subscriptions and pull_activity leave them."""

    def __init__(self, engine, alias: str = ALIAS):
        self.engine = engine
        self.alias = alias
        self._events = 0

    def _insert(self, table, **row):
        with self.engine.begin() as conn:
            conn.execute(table.insert().values(profile_alias=self.alias, **row))

    def user(self, user_id: str, *, created: datetime | None = LONG_AGO, status: str = "active") -> str:
        self._insert(zoom_user, user_id=user_id, email=_email(user_id), user_type=2, status=status,
                     user_created_at=created, present=True, first_seen_at=LONG_AGO, last_seen_at=AS_OF,
                     updated_at=AS_OF)
        return user_id

    def holds(self, user_id: str, model: str = SEAT_MODEL, *, excluded: bool = False, active: bool = True,
              user_status: str = "active", held_since: datetime = LONG_AGO, first_seen: datetime | None = None) -> None:
        """``held_since``: the as-of of the snapshot that began this holding (the profile's first
        snapshot is LONG_AGO, when the other subscriptions were first seen); ``first_seen`` when the
        subscription was seen at all, if earlier (it ended and came back)."""
        self._insert(software_subscription, user_id=user_id, identifier=identifier_of(model), email=_email(user_id),
                     software_model=model, user_status=user_status, active=active, excluded=excluded,
                     exclusion_rule="email=svc-*" if excluded else None, first_seen_at=first_seen or held_since,
                     held_since=held_since, last_seen_at=AS_OF, ended_at=None if active else AS_OF, updated_at=AS_OF)

    def seat(self, user_id: str, *, created: datetime | None = LONG_AGO, **holds) -> str:
        """A user holding the Licensed seat: the common case."""
        self.user(user_id, created=created)
        self.holds(user_id, **holds)
        return user_id

    def hosted(self, user_id: str, at: datetime, event_type: EventType = EventType.MEETING_HOSTED) -> None:
        self._events += 1
        self._insert(activity_event, event_type=event_type, event_id=f"ev{self._events}", user_id=user_id,
                     occurred_at=at, source="test", pulled_at=AS_OF)

    def covered(self, start: datetime, end: datetime = AS_OF, source: str = "user_meetings") -> None:
        """Events of ``source`` are complete in [start, end); a later call moves the bounds."""
        upsert(self.engine, activity_coverage, [{"profile_alias": self.alias, "source": source,
                                                 "covered_from": start, "covered_to": end, "updated_at": AS_OF}])

    def entitled(self, model: str, purchased: int, unit_cost: str, currency: str = "USD") -> None:
        self._insert(entitlement, software_model=model, purchased=purchased, unit_cost=unit_cost, currency=currency)

    def rule(self, index: int, pattern: str, days: int, *, disassociate: bool = False, source: str = "profile"):
        self._insert(reclamation_rule, rule_index=index, software_model_pattern=pattern,
                     last_activity_threshold_days=days, disassociate_pending_invitations=disassociate, source=source)

    def end(self, user_id: str, model: str = SEAT_MODEL) -> None:
        """The download no longer saw the subscription: inactive from now on."""
        with self.engine.begin() as conn:
            conn.execute(software_subscription.update().where(
                software_subscription.c.profile_alias == self.alias, software_subscription.c.user_id == user_id,
                software_subscription.c.identifier == identifier_of(model),
            ).values(active=False, ended_at=AS_OF))

    def exclude(self, user_id: str, model: str = SEAT_MODEL) -> None:
        with self.engine.begin() as conn:
            conn.execute(software_subscription.update().where(
                software_subscription.c.profile_alias == self.alias, software_subscription.c.user_id == user_id,
                software_subscription.c.identifier == identifier_of(model),
            ).values(excluded=True, exclusion_rule="user_id=" + user_id))


def _email(user_id: str) -> str:
    return user_id if "@" in user_id else f"{user_id}@example.com"



def varied_account(account: Account) -> None:
    """Idle stretches on both sides of every simulated threshold, with every non-candidate kind."""
    account.covered(AS_OF - 100 * DAY)  # short of 120: the longest threshold lacks history
    for i, days in enumerate((1, 14, 15, 16, 29, 30, 44, 45, 46, 59, 60, 61, 89, 90, 91, 99, 100)):
        user = account.seat(f"h{i}")
        account.hosted(user, AS_OF - days * DAY)
        account.holds(user, "zoom_webinar_500")
        if days % 2:
            account.hosted(user, AS_OF - (days + 7) * DAY, "webinar_hosted")
    account.seat("never")
    account.seat("new", created=AS_OF - 20 * DAY)
    account.seat("svc", excluded=True)
    account.user("inv@example.com", created=AS_OF - 130 * DAY, status="pending")
    account.holds("inv@example.com", user_status="pending")
    account.entitled(SEAT_MODEL, 30, "149.90")
    account.entitled("zoom_webinar_500", 5, "690.00")


def profile_of(alias: str = ALIAS, mode: Mode = Mode.DRY_RUN) -> Profile:
    """The smallest profile reconcile runs for: its alias and reclaim mode (the rules are the recorded rows)."""
    return Profile.model_validate({"alias": alias, "zoom_conn_id": "zoom_test", "reclaim": {"mode": mode.value}})


def run(engine, as_of: datetime = AS_OF, mode: Mode = Mode.DRY_RUN, run_id: str = "scheduled__test") -> dict:
    """Reconcile the account as its task would; returns the task's report (its XCom)."""
    from zoom_sam.reconcile.process import run as reconcile

    return reconcile(context_for(engine, profile_of(mode=mode), as_of, run_id=run_id), GivenZoom()).report


def table_rows(engine, table, *, exclude: tuple[str, ...] = ()) -> list[dict]:
    """A table's rows through its typed columns (aware datetimes, Decimals, parsed JSON), so the
    two back ends give comparable values; in primary-key order."""
    import sqlalchemy as sa

    order = list(table.primary_key.columns)
    with engine.connect() as conn:
        return [{k: v for k, v in row.items() if k not in exclude}
                for row in conn.execute(sa.select(table).order_by(*order)).mappings()]


def verdicts(engine) -> dict[tuple[str, str], str]:
    """(user_id, identifier) -> the latest run's verdict."""
    from zoom_sam.warehouse.schema import reconcile_evaluation

    return {(r["user_id"], r["identifier"]): r["status"] for r in table_rows(engine, reconcile_evaluation)}


def candidates(engine) -> list[dict]:
    from zoom_sam.warehouse.schema import removal_candidate

    return table_rows(engine, removal_candidate)


def open_candidate(engine, user_id: str, identifier: str = SEAT_IDENTIFIER) -> dict | None:
    found = [c for c in candidates(engine) if c["user_id"] == user_id and c["identifier"] == identifier
             and c["state"] in ("ready", "awaiting_approval", "attention_required")]
    assert len(found) <= 1
    return found[0] if found else None


def positions(engine, as_of: datetime = AS_OF) -> dict[str, dict]:
    from zoom_sam.warehouse.schema import license_position

    return {r["software_model"]: r for r in table_rows(engine, license_position) if r["as_of"] == as_of}
