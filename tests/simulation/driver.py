"""A month (or more) of daily zoom-sam runs against an account that changes under them.

Day ``d`` (as-of ``A = start + d days``, midnight UTC), in sandbox time:

* ``A + 5 min``: validate, download, activity pull (every shard, then the coverage), as the DAG's
  tasks do (``pipeline.py``); the ledger records what the download should have landed;
* ``A + 10 .. 40 min``: the deliberate changes between download and reclaim;
* ``A + 1 h``: reconcile, then reclaim in automatic mode; every write Zoom received during the run
  is judged by the oracle against the ledger as it was before the writes; then the ledger reads
  the written users again and the run's figures are taken;
* on re-run days, the same date runs twice more (as a cleared DAG run would);
* ``A + 3 h``: an admin gives back some of the seats the run reclaimed (``SimConfig.relicense``);
* ``A + 2 h`` to the next midnight: the day's events.

The clock only moves forward through ``SandboxClock.advance``; nothing sleeps.

Figures per run (:class:`DayRow`) and in total (:class:`Figures`): wrong writes, eligible
subscriptions left unreclaimed by the run that should have reclaimed them, whether the warehouse's
active subscriptions after the run match the account (what the download saw, less what the run
reclaimed: changes made after the download are the next download's), and re-runs of a date that
did not converge (a second candidate for a subscription and as-of, a write, a different position).
"""
from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from tests.simulation import pipeline
from tests.simulation.events import TIMEZONES, Event, Life, apply
from tests.simulation.figures import DayRow, Figures
from tests.simulation.ledger import SEAT, Ledger
from tests.simulation.oracle import Oracle, model_of
from tests.support.sandbox import connection_json
from tests.support.warehouse import Warehouse
from zoom_sam.profiles import Profile
from zoom_sandbox import DEFAULT_SCOPES, AccountConfig, SandboxConfig, SandboxServer
from zoom_sam.warehouse.engine import engine_for_url
from zoom_sam.warehouse.migrate import ensure_schema
from zoom_sam.warehouse.schema import (
    license_position,
    removal_candidate,
    software_subscription,
    unrecognized_subscription_identifier,
)

ALIAS = "sim"
CONN_ID = "zoom_sim"
WAREHOUSE_CONN_ID = "zoom_sim_warehouse"
START = datetime.fromisoformat("2027-01-04T00:00:00+00:00")
RUN_AT = timedelta(minutes=5)
RECLAIM_AT = timedelta(hours=1)
RERUN_AT = timedelta(hours=1, minutes=10)
RELICENSE_AT = timedelta(hours=3)
LOOKBACK_DAYS = 30
GUARD_USERS = 3  # seats made removable on each guard day
# The optional scope: reclaim then reads each user record with GET /users/{id} (with the seven
# default scopes it reads the user listing instead; the PostgreSQL variant runs that way).
USER_READ = "user:read:user:admin"


def sim_profile(max_per_run: int = 100_000, max_fraction: float = 1.0, shards: int = 2) -> Profile:
    """The simulated integration profile: automatic reclaim, short thresholds, guards out of the way."""
    return Profile.model_validate({
        "alias": ALIAS, "zoom_conn_id": CONN_ID, "warehouse_conn_id": WAREHOUSE_CONN_ID,
        "max_lookback_days": LOOKBACK_DAYS, "download_activity": True,
        "activity_shards": shards, "reclaim_subscriptions": True,
        "reclaim": {"mode": "automatic", "max_per_run": max_per_run, "max_fraction": max_fraction},
        "rules": [
            {"software_model": "zoom_meetings_licensed", "last_activity_threshold_days": 30,
             "disassociate_pending_invitations": True},
            {"software_model": "zoom_webinar_*", "last_activity_threshold_days": 20},
            {"software_model": "zoom_large_meeting_*", "last_activity_threshold_days": 25},
        ],
        "exclusions": {"users": [{"email": "svc-*"}, {"dept": "Legal"}], "identifiers": ["large_meeting:1000"]},
        "entitlements": [
            {"software_model": "zoom_meetings_licensed", "purchased": 200, "unit_cost": 149.90},
            {"software_model": "zoom_webinar_500", "purchased": 20, "unit_cost": 690},
            {"software_model": "zoom_webinar_1000", "purchased": 10, "unit_cost": 3400},
            {"software_model": "zoom_large_meeting_500", "purchased": 10, "unit_cost": 600},
        ],
    })


@dataclass(frozen=True)
class SimConfig:
    days: int = 60
    generated_users: int = 80       # the account's users on the first day (the sandbox generates them)
    seed: int = 20270104
    user_read_scope: bool = True
    shards: int = 2
    rerun_every: int = 7            # every n-th day runs its date again, twice
    guard_days: bool = True         # one day tests max_fraction, one max_per_run (needs 20+ days)
    relicense: float = 0.3          # share of the seats a run downgrades that an admin gives back that day


class Simulation:
    """Drives one sandbox account and one warehouse (``url``) through ``config.days`` daily runs;
    the profile file lives in ``folder``."""

    def __init__(self, config: SimConfig, url: str, folder: Path) -> None:
        self.config = config
        self.url = url
        self.engine = engine_for_url(url)
        scopes = DEFAULT_SCOPES + ((USER_READ,) if config.user_read_scope else ())
        self.sandbox = SandboxServer(SandboxConfig(
            accounts=[AccountConfig(users=config.generated_users, seed=config.seed % 1000, scopes=scopes,
                                    dates_in_user_timezone=True, rate_limits={"Light": 2000, "Medium": 2000,
                                                                              "Heavy": 2000})],
            anchor=START, log_limit=10_000_000), port=0)
        self.account = self.sandbox.account()
        self.ledger = Ledger(history_start=START - timedelta(days=LOOKBACK_DAYS))
        self.profile = sim_profile(shards=config.shards)
        self.pipeline = pipeline.Pipeline(folder / f"{ALIAS}.yaml", self.profile)
        self.oracle = Oracle(self.ledger, self.profile)
        self.life = Life(config.seed, self.ledger, config.generated_users)
        self.rows: list[DayRow] = []
        self.duplicates: set[tuple] = set()  # (user, identifier, as-of) with two candidates, reported once
        half = config.days // 2
        self.guard_days = ({half: "max_fraction", half + 7: "max_per_run"}
                           if config.guard_days and config.days >= 20 else {})

    # ------------------------------------------------------------------ the run

    def run(self) -> Figures:
        started = time.monotonic()
        warehouse = Warehouse(self.engine.dialect.name, self.url, self.engine)
        connections = {CONN_ID: connection_json(self.sandbox), WAREHOUSE_CONN_ID: warehouse.connection_json()}
        os.environ.update({f"AIRFLOW_CONN_{c.upper()}": v for c, v in connections.items()})  # read by the tasks
        ensure_schema(self.engine)
        try:
            with self.sandbox:
                self._setup()
                for day in range(self.config.days):
                    self.rows.append(self._day(day))
        finally:
            for c in connections:
                del os.environ[f"AIRFLOW_CONN_{c.upper()}"]
            self.engine.dispose()
        return Figures(self.rows, sum(u.exists for u in self.ledger.users.values()), time.monotonic() - started)

    def _setup(self) -> None:
        """The account as it is before the first run: generated users spread over the timezones."""
        rng = self.life.rng
        for user in list(self.account.users()):
            self.account.update_profile(user["email"], {"timezone": rng.choice(TIMEZONES)})
            if user["settings"]["feature"].get("webinar"):
                self.life.no_webinar_grants.add(user["email"].lower())
        now = self.sandbox.clock.now()
        emails = [u["email"] for u in self.account.users()]
        self.ledger.sync(self.account, emails, now)
        for email in emails:
            self.ledger.observe_hosting(self.account, email.lower(), self.ledger.history_start)
        for day in self.guard_days:
            self._reserve_for_guard_day(day)

    def _advance_to(self, moment: datetime) -> datetime:
        clock = self.sandbox.clock
        gap = (moment - clock.now()).total_seconds()
        return clock.advance(gap) if gap > 0 else clock.now()

    def _apply(self, events: list[Event]) -> int:
        applied = 0
        for event in sorted(events, key=lambda e: e.at):
            now = self._advance_to(event.at)
            instance = apply(event, self.account)
            if instance is not None:
                self.ledger.record_instance(event.email, instance, event.args["webinar"])
            self.ledger.sync(self.account, [event.email], now)
            applied += 1
        return applied

    def _day(self, day: int) -> DayRow:
        as_of = START + timedelta(days=day)
        row = DayRow(day, as_of)
        guard = self.guard_days.get(day)
        downgraded = self._run(row, as_of, guard)
        if day % self.config.rerun_every == self.config.rerun_every - 1 and guard is None:
            self._rerun(row, as_of)
        taken = set(downgraded)  # only ``relicense`` gives a seat back the day it was reclaimed
        events = self.life.relicense(as_of + RELICENSE_AT, downgraded, self.config.relicense)
        events += self.life.day(as_of, taken)
        events += self.life.targeted(as_of, self.oracle.plan(as_of + timedelta(days=1)))
        row.events += self._apply(events)
        return row

    def _run(self, row: DayRow, as_of: datetime, guard: str | None) -> set[str]:
        """One scheduled run of ``as_of``; returns the users whose seat it downgraded."""
        self._advance_to(as_of + RUN_AT)
        log_start = len(self.sandbox.log)
        profile = self.profile
        self.pipeline.write_profile(profile)
        self.pipeline.run_until_download(as_of)
        self.ledger.downloaded(as_of)
        self.pipeline.pull_activity(as_of)
        at_download = self.oracle.plan(as_of)
        if guard:  # the profile file changes before reconcile and reclaim read it
            profile = self._tight_guard(profile, guard, at_download, as_of)
            self.pipeline.write_profile(profile)
            row.guard = f"{guard} {getattr(profile.reclaim, guard):g}"
        users, per_model = self.oracle.removals(at_download)
        breach = self.oracle.guard_breach(users, per_model, as_of, profile.reclaim)
        if breach:
            row.guard += f" (plan exceeds: {breach})"
        row.events += self._apply(self.life.between(as_of, at_download, as_of + RECLAIM_AT))
        self._advance_to(as_of + RECLAIM_AT)
        eligible = self.oracle.plan(as_of)
        reclaim_started = self.sandbox.clock.now()
        result = self.pipeline.reconcile_and_reclaim(as_of)
        if breach:
            row.guard += ": the guard stopped the run" if result.guard_stopped else ": the guard did NOT stop the run"
        else:
            row.failure = result.reclaim_failure
        writes = self.oracle.judge(list(self.sandbox.log)[log_start:], as_of, breach)
        row.writes += len(writes)
        row.wrong += [w for w in writes if not w.verdict.ok]
        self.ledger.sync(self.account, sorted({w.email for w in writes if w.email}), self.sandbox.clock.now())
        if breach is None:
            row.missed += [f"{h.email} {h.identifier}: {self.oracle.eligible(h, as_of).why}" for h in eligible
                           if h.end is None and not self.ledger.users[h.email].refusal]
        reclaimed = {(h.key, h.identifier) for h in self.ledger.holdings if h.end and h.end >= reclaim_started}
        row.mismatch += self._mismatch(self.ledger.snapshots[as_of], reclaimed)
        row.unconverged += self._duplicate_candidates()
        row.candidates = result.reconcile["candidates"]["opened"]
        return {w.email for w in writes if w.what == "downgrade" and w.status == 204}

    def _rerun(self, row: DayRow, as_of: datetime) -> None:
        """The same date twice more (a cleared DAG run): it must converge."""
        first = self._position(as_of)
        seen = []
        for attempt in (1, 2):
            self._advance_to(as_of + RERUN_AT)
            log_start = len(self.sandbox.log)
            self.pipeline.run_until_download(as_of)
            self.pipeline.pull_activity(as_of)
            self.pipeline.reconcile_and_reclaim(as_of)
            writes = self.oracle.judge(list(self.sandbox.log)[log_start:], as_of, None)
            row.wrong += [w for w in writes if not w.verdict.ok]
            row.unconverged += [f"re-run {attempt} wrote {w.method} {w.path}" for w in writes]
            self.ledger.sync(self.account, sorted({w.email for w in writes if w.email}), self.sandbox.clock.now())
            seen.append((self._position(as_of), self._candidates()))
        (position, candidates), (position_again, candidates_again) = seen
        row.unconverged += [f"second re-run changed the position of {m}: {position.get(m)} -> {position_again.get(m)}"
                            for m in sorted(set(position) | set(position_again))
                            if position.get(m) != position_again.get(m)]
        row.unconverged += [f"second re-run changed candidate {c}: {candidates.get(c)} -> {candidates_again.get(c)}"
                            for c in sorted(set(candidates) | set(candidates_again))
                            if candidates.get(c) != candidates_again.get(c)]
        row.unconverged += [f"re-run changed the realised savings of {m}: {first[m][-1]} -> {position[m][-1]}"
                            for m in sorted(set(first) & set(position)) if first[m][-1] != position[m][-1]]
        row.unconverged += self._duplicate_candidates()

    # ------------------------------------------------------------------ the guard scenario

    def _reserve_for_guard_day(self, day: int) -> None:
        """Seats that become removable exactly on a guard day: each hosted one meeting 30.5 days
        before it and is left alone until then, so the guard has a plan to stop."""
        guard_as_of = START + timedelta(days=day)
        last_meeting = guard_as_of - timedelta(days=30, hours=12)
        reserved = 0
        for email in sorted(self.ledger.users):
            user = self.ledger.users[email]
            held = self.ledger.held_by(email)
            if reserved == GUARD_USERS or user.status != "active" or user.refusal or email in self.life.reserved \
                    or self.oracle.user_excluded(email) or [h.identifier for h in held] != [SEAT] \
                    or any(i.start > last_meeting - timedelta(days=30) for i in self.ledger.instances(email)):
                continue
            instance = self.account.add_meeting(email, last_meeting, duration=30)
            self.ledger.record_instance(email, instance, webinar=False)
            self.life.reserve(email, guard_as_of + timedelta(days=1))
            reserved += 1

    def _tight_guard(self, profile: Profile, guard: str, plan, as_of: datetime) -> Profile:
        """Today's profile with ``guard`` just below what the plan needs, so nothing may be reclaimed."""
        users, per_model = self.oracle.removals(plan)
        if not users:
            return profile
        if guard == "max_per_run":
            limits = {"max_per_run": len(users) - 1}
        else:
            assigned = self.oracle.assigned(as_of)
            limits = {"max_fraction": 0.99 * max(n / assigned[m] for m, n in per_model.items())}
        return profile.model_copy(update={"reclaim": profile.reclaim.model_copy(update=limits)})

    # ------------------------------------------------------------------ reading the warehouse

    def _mismatch(self, snapshot: set[tuple[str, str]], reclaimed: set[tuple[str, str]]) -> list[str]:
        """The warehouse after a run against the account: modelled subscriptions one by one, as the
        download saw them less what the run reclaimed; unrecognized identifiers by the download's
        count of holders (a reclaim changes no count)."""
        sub, unrecognized = software_subscription.c, unrecognized_subscription_identifier.c
        with self.engine.connect() as conn:
            landed = {tuple(r) for r in conn.execute(
                sa.select(sub.user_id, sub.identifier).where(sub.profile_alias == ALIAS, sub.active))}
            counted = {i: n for i, n in conn.execute(
                sa.select(unrecognized.identifier, unrecognized.subscription_count)
                .where(unrecognized.profile_alias == ALIAS, unrecognized.subscription_count > 0))}
        expected = {(k, i) for k, i in snapshot - reclaimed if model_of(i)}
        held = Counter(i for _, i in snapshot if not model_of(i))
        return ([f"in the warehouse, not in the account: {k}" for k in sorted(landed - expected)[:5]]
                + [f"in the account, not in the warehouse: {k}" for k in sorted(expected - landed)[:5]]
                + [f"unrecognized {i}: {counted.get(i, 0)} counted, {held.get(i, 0)} held"
                   for i in sorted(set(counted) | set(held)) if counted.get(i, 0) != held.get(i, 0)])

    def _duplicate_candidates(self) -> list[str]:
        c = removal_candidate.c
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(c.user_id, c.identifier, c.opened_as_of, sa.func.count())
                                .where(c.profile_alias == ALIAS)
                                .group_by(c.user_id, c.identifier, c.opened_as_of)
                                .having(sa.func.count() > 1)).all()
        found = [f"{n} candidates for {u} {i} opened as of {o:%Y-%m-%d}" for u, i, o, n in rows
                 if (u, i, o) not in self.duplicates]
        self.duplicates.update((u, i, o) for u, i, o, _ in rows)
        return found

    def _position(self, as_of: datetime) -> dict[str, tuple]:
        p = license_position.c
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(p.software_model, p.assigned, p.active, p.stale, p.excluded, p.reclaimable,
                                          p.potential_savings, p.actual_savings)
                                .where(p.profile_alias == ALIAS, p.as_of == as_of)).all()
        return {r[0]: tuple(float(v) for v in r[1:]) for r in rows}

    def _candidates(self) -> dict[int, tuple]:
        c = removal_candidate.c
        with self.engine.connect() as conn:
            return {r[0]: tuple(r[1:]) for r in conn.execute(
                sa.select(c.candidate_id, c.email, c.identifier, c.state).where(c.profile_alias == ALIAS))}
