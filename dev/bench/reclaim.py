"""Reclaim 1,000 candidates in automatic mode on the sandbox (Business plan, 100 ms latency).

``python -m bench reclaim [--quick]`` (quick: 100 candidates). The account has 5,000 generated
users (quick: 500) plus the idle Licensed users to reclaim: 900 holding only the seat and 50 also
holding a webinar add-on (seat and add-on both candidates), so 1,000 subscriptions in all
(quick: 90 + 5). The warehouse is a temporary SQLite file with the candidates inserted as
reconcile leaves them. Printed:

* API calls per reclaimed subscription, by step (re-check, writes, confirmation), against the
  minimum this design needs and why;
* wall time against the rate-limit floor (calls of each category / the plan's limit; the slowest
  category bounds the run), the busiest second per category as the sandbox measured it, 429s.

The minimum, with the seven default scopes (no ``GET /users/{id}``):

* seat only, 4 calls: settings (still there, which add-ons must go first), previous meetings
  since the as-of (hosting), upcoming meetings (protection), ``PATCH type 1``. Presence and
  ``type`` come from one user listing before the writes, and the downgrade is confirmed by one
  listing after them: 2 x users/300 calls for the whole run, a small fraction per subscription.
* seat + webinar add-on, 7 calls for 2 subscriptions: the 3 reads above plus the webinar
  listing (hosting and upcoming webinars), ``PATCH settings``, the settings read that confirms
  the add-on is gone before the seat is touched, ``PATCH type 1``.
"""
from __future__ import annotations

import os
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

from tests.support.sandbox import direct_client
from zoom_sam.licensing import SEAT_IDENTIFIER, SEAT_MODEL
from zoom_sam.process import GivenZoom, Summary, context_for
from zoom_sam.profiles import Profile
from zoom_sam.reclaim.process import run as reclaim
from zoom_sam.rules import Rules
from zoom_sandbox import AccountConfig, SandboxConfig, SandboxServer
from zoom_sandbox.config import PLAN_LIMITS
from zoom_sam.warehouse.engine import engine_for_url
from zoom_sam.warehouse.migrate import ensure_schema
from zoom_sam.warehouse.schema import entitlement, removal_candidate, software_subscription, zoom_user
from zoom_sam.zoom.client import ZoomClient

ALIAS = "bench"
AS_OF = datetime(2026, 11, 28, tzinfo=timezone.utc)
LONG_AGO = AS_OF - timedelta(days=400)
PLAN = "business"
LATENCY_MS = 100
WEBINAR_MODEL = "zoom_webinar_500"


def run(quick: bool) -> None:
    seats, with_webinar, generated = (90, 5, 500) if quick else (900, 50, 5_000)
    folder = tempfile.mkdtemp(prefix="zoom-sam-bench-reclaim-")
    path = Path(folder) / "warehouse.db"
    cfg = SandboxConfig(accounts=[AccountConfig(users=generated, seed=3, plan=PLAN)], anchor=AS_OF,
                        latency_ms=LATENCY_MS, log_limit=100_000)
    engine = engine_for_url(f"sqlite:///{path}")
    try:
        with SandboxServer(cfg, port=0) as sb:
            ensure_schema(engine)
            users = _populate(sb, engine, seats, with_webinar)
            candidates = seats + 2 * with_webinar
            profile = _profile(candidates)
            ctx = context_for(engine, profile, AS_OF, run_id="bench", rules=Rules.from_profile(profile))
            opened: list[ZoomClient] = []
            sb.log.clear()
            started = time.monotonic()
            try:
                summary = reclaim(ctx, GivenZoom(factory=lambda: opened.append(_client(sb)) or opened[-1]))
            finally:
                for client in opened:
                    client.close()
            wall = time.monotonic() - started
            _report(sb, summary, wall, candidates, users)
    finally:
        engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        os.rmdir(folder)


def _populate(sb, engine, seats: int, with_webinar: int) -> list[dict]:
    """Idle Licensed users in Zoom and, for each, the rows download and reconcile would leave."""
    account = sb.account()
    users = []
    for n in range(seats + with_webinar):
        webinar = n >= seats
        user = account.add_user(f"idle{n:05d}@bench.example.com", type=2, created_at=LONG_AGO,
                                features={"webinar": True} if webinar else None)
        users.append({**user, "webinar": webinar})
    subs = [(u, SEAT_IDENTIFIER, SEAT_MODEL) for u in users] + [
        (u, "webinar:500", WEBINAR_MODEL) for u in users if u["webinar"]]
    common = {"profile_alias": ALIAS, "first_seen_at": LONG_AGO, "last_seen_at": AS_OF, "updated_at": AS_OF}
    with engine.begin() as conn:
        conn.execute(entitlement.insert(), [
            {"profile_alias": ALIAS, "software_model": SEAT_MODEL, "purchased": len(users) + 100, "unit_cost": 149.90,
             "currency": "USD"},
            {"profile_alias": ALIAS, "software_model": WEBINAR_MODEL, "purchased": with_webinar, "unit_cost": 690.00,
             "currency": "USD"}])
        conn.execute(zoom_user.insert(), [
            {**common, "user_id": u["id"], "email": u["email"], "user_type": 2, "status": "active", "group_ids": [],
             "user_created_at": LONG_AGO, "present": True} for u in users])
        conn.execute(software_subscription.insert(), [
            {**common, "user_id": u["id"], "identifier": ident, "email": u["email"], "software_model": model,
             "user_status": "active", "active": True, "excluded": False} for u, ident, model in subs])
        conn.execute(removal_candidate.insert(), [
            {"profile_alias": ALIAS, "user_id": u["id"], "identifier": ident, "email": u["email"],
             "software_model": model, "state": "ready", "reason": "never_hosted",
             "evidence": {"as_of": AS_OF.isoformat(), "last_activity_at": None}, "threshold_days": 60,
             "opened_as_of": AS_OF, "evaluated_as_of": AS_OF, "created_at": AS_OF, "updated_at": AS_OF}
            for u, ident, model in subs])
    return users


def _profile(candidates: int) -> Profile:
    return Profile.model_validate({
        "alias": ALIAS, "zoom_conn_id": "bench", "reclaim_subscriptions": True,
        "reclaim": {"mode": "automatic", "max_per_run": candidates, "max_fraction": 1.0},
        "rules": [{"software_model": "*", "last_activity_threshold_days": 60}]})


def _client(sb) -> ZoomClient:
    return direct_client(sb.connection_json())


def _step(method: str, path: str, query: dict) -> str:
    parts = path.strip("/").split("/")
    if method != "GET":
        return "write: " + ("PATCH settings" if path.endswith("/settings") else f"{method} user")
    if len(parts) == 2:
        return "listing: GET /users (presence before, confirmation after)"
    kind = parts[-1]
    if kind == "meetings":
        return f"re-check: GET meetings type={query.get('type')}"
    if kind == "webinars":
        return f"re-check: GET webinars type={query.get('type', 'scheduled')}"
    return "re-check / confirm: GET settings"


def _report(sb, summary: Summary, wall: float, candidates: int, users: list[dict]) -> None:
    records = [r for r in sb.log if r.path.startswith("/v2/")]
    steps = Counter(_step(r.method, r.path, r.query) for r in records)
    by_category = Counter(r.category for r in records)
    limits = PLAN_LIMITS[PLAN]
    counts = summary.report
    reclaimed = counts["closed_complete"]
    seat_only = sum(1 for u in users if not u["webinar"])
    webinar_users = len(users) - seat_only
    listing_pages = steps["listing: GET /users (presence before, confirmation after)"]
    minimum = 4 * seat_only + 7 * webinar_users + listing_pages
    print(f"candidates {candidates} ({seat_only} seats alone, {webinar_users} seats + webinar add-on); "
          f"account {sb.account().total('active')} active users; Business plan, {LATENCY_MS} ms latency")
    print(f"outcome: {counts['closed_complete']} closed_complete, {counts['closed_skipped']} skipped, "
          f"{counts['closed_canceled']} canceled, {counts['attention_required']} attention, {counts['open']} open")
    print("calls by step:")
    for step, n in sorted(steps.items()):
        print(f"  {step:62s} {n:6d}")
    print(f"calls: {len(records)} for {reclaimed} reclaimed subscriptions = {len(records) / max(reclaimed, 1):.2f} "
          f"per subscription; design minimum {minimum} ({4} per seat alone, {7} per seat + webinar pair, "
          f"+{listing_pages} listing pages) -> ratio {len(records) / minimum:.3f}")
    floors = {cat: n / limits[cat] for cat, n in by_category.items() if cat}
    floor = max(floors.values())
    print("rate-limit floor: " + ", ".join(f"{cat} {n} calls / {limits[cat]}/s = {floors[cat]:.1f}s"
                                            for cat, n in sorted(by_category.items()) if cat))
    print(f"wall time {wall:.1f}s vs floor {floor:.1f}s -> ratio {wall / floor:.2f}")
    stats = sb.log.stats()
    for acct, cats in stats.items():
        for cat, s in cats.items():
            print(f"  {cat}: busiest second {s['max_per_second']} (limit {limits[cat]}), 429s {s['rate_limited']}")
    print(f"client: {summary.api}")
