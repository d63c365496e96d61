"""A Zoom account on the sandbox and the warehouse rows that describe it, built case by case.

Each reclaim test states its users (:meth:`World.licensed`), their candidates
(:meth:`World.candidate`, inserted the way reconcile leaves them) and then runs
:func:`zoom_sam.reclaim.process.reclaim` against the sandbox, with the profile's rules recorded as
the run's download records them; the assertions read the sandbox's request log and account and the
warehouse's ``removal_candidate`` / ``reclaim_action`` rows.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from tests.support.sandbox import direct_client
from zoom_sam.licensing import SEAT_IDENTIFIER, SEAT_MODEL
from zoom_sam.process import GivenZoom, context_for
from zoom_sam.profiles import Profile
from zoom_sam.process import Summary
from zoom_sam.reclaim import approval
from zoom_sam.reclaim.approval import APPROVAL_ANSWER
from zoom_sam.reclaim.outcome import Outcome
from zoom_sam.reclaim.process import reclaim
from zoom_sam.rules import Rules
from zoom_sam.vocabulary import Mode
from zoom_sam.warehouse.schema import (
    activity_coverage,
    entitlement,
    license_position,
    reclaim_action,
    reclamation_rule,
    removal_candidate,
    software_subscription,
    zoom_user,
)
from zoom_sam.zoom.client import ZoomClient

ALIAS = "acme"
AS_OF = datetime(2026, 11, 28, tzinfo=timezone.utc)
LONG_AGO = AS_OF - timedelta(days=400)
WRITE_METHODS = ("PATCH", "DELETE", "POST", "PUT")
ADDON_MODELS = {"webinar": "zoom_webinar_500", "large_meeting": "zoom_large_meeting_500"}
PERSON = {"id": "sam", "name": "SAM manager"}
RUN_ID = "scheduled__2026-11-28"
APPROVE, APPROVE_ALL_BUT, REJECT = "Approve", "Approve all but the listed users", "Reject"


def event(option: str, leave_out: list[str] | None = None, *, by: dict[str, str] | None = PERSON,
          timedout: bool = False) -> dict[str, Any]:
    """An answer as Airflow hands it to the approve task when it resumes (and, as XCom, to reclaim)."""
    return {"chosen_options": [option], "params_input": {"leave_out": leave_out or []},
            "responded_at": AS_OF + timedelta(hours=9), "responded_by_user": by, "timedout": timedout}


class World:
    def __init__(self, sb, engine) -> None:
        self.sb = sb
        self.engine = engine
        self.account = sb.account()
        self._n = 0

    # ------------------------------------------------------------------ building

    def licensed(self, name: str | None = None, *, addons: tuple[str, ...] = (), pending: bool = False,
                 dept: str | None = None, refusal: int | None = None) -> dict[str, Any]:
        """A Licensed user in Zoom (no hosting history) and in the warehouse, with its subscriptions."""
        self._n += 1
        email = f"{name or f'user{self._n}'}@example.com"
        features = {flag: True for flag in addons}
        user = self.account.add_user(email, type=2, status="pending" if pending else "active",
                                     created_at=LONG_AGO, features=features, dept=dept)
        key = email if pending else user["id"]
        with self.engine.begin() as conn:
            conn.execute(zoom_user.insert().values(
                profile_alias=ALIAS, user_id=key, email=email, user_type=2, status=user["status"], dept=dept,
                group_ids=[], user_created_at=LONG_AGO, present=True, first_seen_at=LONG_AGO, last_seen_at=AS_OF,
                updated_at=AS_OF))
            for identifier, model in [(SEAT_IDENTIFIER, SEAT_MODEL)] + [(f"{a}:500", ADDON_MODELS[a]) for a in addons]:
                conn.execute(software_subscription.insert().values(
                    profile_alias=ALIAS, user_id=key, identifier=identifier, email=email, software_model=model,
                    capacity=None if model == SEAT_MODEL else 500, user_status=user["status"], active=True,
                    excluded=False, first_seen_at=LONG_AGO, last_seen_at=AS_OF, updated_at=AS_OF))
        if refusal is not None:
            self.account.set_refusal(email, refusal)
        return {"key": key, "email": email, "id": user.get("id")}

    def candidate(self, user: dict[str, Any], addon: str | None = None, *, state: str = "ready",
                  as_of: datetime = AS_OF, last_activity_at: str | None = None, inactive_days: int = 400) -> int:
        """A removal candidate as reconcile opens it, for the seat or one add-on of ``user``."""
        identifier, model = (SEAT_IDENTIFIER, SEAT_MODEL) if addon is None else (f"{addon}:500", ADDON_MODELS[addon])
        evidence = {"as_of": as_of.isoformat(), "last_activity_at": last_activity_at, "inactive_days": inactive_days,
                    "threshold_days": 60, "reason": "never_hosted" if last_activity_at is None else "inactive"}
        with self.engine.begin() as conn:
            return conn.execute(removal_candidate.insert().values(
                profile_alias=ALIAS, user_id=user["key"], identifier=identifier, email=user["email"],
                software_model=model, state=state, reason="never_hosted", evidence=evidence, threshold_days=60,
                opened_as_of=as_of, evaluated_as_of=as_of, run_id="scheduled__reconcile", created_at=as_of,
                updated_at=as_of)).inserted_primary_key[0]

    def entitle(self, model: str = SEAT_MODEL, purchased: int = 100, unit_cost: str = "149.90") -> None:
        with self.engine.begin() as conn:
            conn.execute(entitlement.insert().values(profile_alias=ALIAS, software_model=model, purchased=purchased,
                                                     unit_cost=unit_cost, currency="USD"))

    def covered(self) -> None:
        """The activity is complete from long ago to the as-of, so the reconcile a reclaim runs again
        judges still-idle subscriptions as candidates (instead of closing them for want of history)."""
        with self.engine.begin() as conn:
            conn.execute(activity_coverage.insert().values(profile_alias=ALIAS, source="user_meetings",
                                                           covered_from=LONG_AGO, covered_to=AS_OF, updated_at=AS_OF))

    def position(self, model: str = SEAT_MODEL, unit_cost: str | None = "149.90") -> None:
        """A license_position row for the as-of, as reconcile writes it before reclaim runs."""
        zero = {c: 0 for c in ("purchased", "assigned", "active", "stale", "excluded", "reclaimable", "dist_0_30",
                               "dist_30_60", "dist_60_90", "dist_90_120", "dist_120_plus", "dist_never")}
        with self.engine.begin() as conn:
            conn.execute(license_position.insert().values(
                profile_alias=ALIAS, as_of=AS_OF, software_model=model, threshold_days=60, unit_cost=unit_cost,
                currency="USD", over_licensed_cost=0, true_up_cost=0, potential_savings=0, actual_savings=0,
                computed_at=AS_OF, **zero))

    # ------------------------------------------------------------------ running

    def client(self, **overrides) -> ZoomClient:
        overrides.setdefault("backoff_base", 0.01)
        overrides.setdefault("backoff_max", 0.05)
        return direct_client(self.sb.connection_json(), **overrides)

    def record_rules(self, profile: Profile) -> None:
        """The profile's rules in ``reclamation_rule``, as the run's download records them."""
        with self.engine.begin() as conn:
            models = conn.execute(sa.select(software_subscription.c.software_model).distinct()
                                  .where(software_subscription.c.profile_alias == ALIAS)).scalars().all()
            conn.execute(reclamation_rule.delete().where(reclamation_rule.c.profile_alias == ALIAS))
            rows = Rules.from_profile(profile).recorded_rows(ALIAS, models)
            if rows:
                conn.execute(reclamation_rule.insert(), rows)

    def ask(self, *, run_id: str = RUN_ID, **profile: Any) -> Summary:
        """The approve task's request for this run (approval mode): its candidates are stamped."""
        settings = make_profile("approval", **profile)
        self.record_rules(settings)
        return approval.run(context_for(self.engine, settings, AS_OF, run_id=run_id), GivenZoom())

    def answer(self, event: dict[str, Any], *, run_id: str = RUN_ID, **profile: Any) -> Summary:
        """The approve task's answer step: ``event`` recorded on the request's candidates."""
        ctx = context_for(self.engine, make_profile("approval", **profile), AS_OF, run_id=run_id,
                          inputs={APPROVAL_ANSWER: event})
        return approval.answer(ctx, GivenZoom())

    def reclaim(self, mode: str = "automatic", *, approved: bool = False, answer: dict[str, Any] | None = None,
                client_factory=None, run_id: str = RUN_ID, **profile: Any) -> Outcome:
        """Reclaim with ``make_profile(mode, **profile)``, its rules recorded first. ``approved``: the
        approve task asked and a person approved all first; ``answer``: the approval answer handed to
        reclaim as it is (asked and answered before, or not). The Zoom client, if opened, is closed after."""
        settings = make_profile(mode, **profile)
        self.record_rules(settings)
        if approved:
            answer = event(APPROVE)
            self.ask(run_id=run_id, **profile)
            self.answer(answer, run_id=run_id, **profile)
        ctx = context_for(self.engine, settings, AS_OF, run_id=run_id, inputs={APPROVAL_ANSWER: answer})
        opened: list[ZoomClient] = []

        def open_client() -> ZoomClient:
            opened.append((client_factory or self.client)())
            return opened[-1]

        try:
            return reclaim(ctx, GivenZoom(factory=open_client), Mode(mode), settle_pause=0)
        finally:
            for client in opened:
                client.close()

    # ------------------------------------------------------------------ reading

    def states(self) -> dict[int, tuple[str, str | None]]:
        """candidate_id -> (state, close_reason)."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(removal_candidate.c.candidate_id, removal_candidate.c.state,
                                          removal_candidate.c.close_reason))
            return {r.candidate_id: (r.state, r.close_reason) for r in rows}

    def state(self, candidate_id: int) -> str:
        return self.states()[candidate_id][0]

    def actions(self, dry_run: bool = False) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(
                sa.select(reclaim_action).where(reclaim_action.c.dry_run.is_(dry_run))
                .order_by(reclaim_action.c.action_id)).mappings()]

    def writes(self) -> list[tuple[str, str]]:
        """(method, path) of every write the sandbox received, in order."""
        return [(r.method, r.path) for r in self.sb.log if r.method in WRITE_METHODS and r.path.startswith("/v2/")]

    def api_calls(self) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.sb.log if r.path.startswith("/v2/")]

    def user(self, user: dict[str, Any]) -> dict[str, Any] | None:
        return self.account.user(user["email"])


def make_profile(mode: str = "automatic", **fields: Any) -> Profile:
    reclaim_settings = {"mode": mode, "max_per_run": fields.pop("max_per_run", 100),
                        "max_fraction": fields.pop("max_fraction", 1.0)}
    data = {"alias": ALIAS, "zoom_conn_id": "zoom_test", "reclaim_subscriptions": True, "reclaim": reclaim_settings,
            "rules": [{"software_model": "*", "last_activity_threshold_days": 60}], **fields}
    return Profile.model_validate(data)
