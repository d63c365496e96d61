"""What the view tests (tests/ui/test_*.py) look at: two reconciled profiles, one never run, three users.

- ``acme``: the reconcile suite's varied account (tests/reconcile/account.py), reconciled at two
  as-ofs, with job results, software models, unrecognized identifiers, exclusion rules, a
  candidate closed by a re-check and one with reclaim actions;
- ``globex``: the same warehouse, job results only, its latest reconcile failed;
- ``fresh``: a warehouse no run has touched.

Users come with tokens signed the way Airflow signs them (the auth manager's ``generate_jwt``),
and the auth manager is SimpleAuthManager with per-DAG grants (:class:`DagGrantAuthManager`), so a
permission boundary between two profiles can be drawn. The views run in a FastAPI app mounted at
``/zoom-sam`` exactly as Airflow's API server mounts the plugin's app.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import timedelta

import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager
from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
from tests.reconcile.account import AS_OF, Account, run, varied_account
from tests.support.airflow import airflow_db  # noqa: F401  (fixture)
from tests.support.warehouse import warehouse  # noqa: F401  (fixture)
from zoom_sam.warehouse.schema import (
    exclusion_rule,
    job_result,
    reclaim_action,
    removal_candidate,
    software_model,
    unrecognized_subscription_identifier,
)
from zoom_sam.warehouse.upsert import upsert

DAY = timedelta(days=1)
EARLIER = AS_OF - DAY
# user -> the DAGs they may read (None: every DAG).
GRANTS = {"admin": None, "acme_reader": {"zoom_sam__acme"}, "nobody": set()}
# Who may also edit the DAGs they read and the connections: who may connect a Zoom account.
EDITORS = {"admin"}


class DagGrantAuthManager(SimpleAuthManager):
    """SimpleAuthManager whose users may read only the DAGs :data:`GRANTS` gives them, and change
    DAGs and connections only when :data:`EDITORS` names them."""

    def is_authorized_dag(self, *, method, user, access_entity=None, details=None) -> bool:
        allowed = GRANTS.get(user.get_name(), set())
        readable = allowed is None or (details is not None and details.id in allowed)
        return readable and (method == "GET" or user.get_name() in EDITORS)

    def is_authorized_connection(self, *, method, user, details=None) -> bool:
        return user.get_name() in EDITORS


def _profile_yaml(alias: str, conn_id: str) -> str:
    return (f"alias: {alias}\ndisplay_name: {alias.title()} Corp\nzoom_conn_id: zoom_{alias}\n"
            f"warehouse_conn_id: {conn_id}\nentitlements:\n  - software_model: zoom_meetings_licensed\n"
            "    purchased: 30\n    unit_cost: 149.90\n")


def _job(alias: str, run_id: str, task_id: str, as_of, status: str, minutes: int) -> dict:
    started = as_of + timedelta(minutes=minutes)
    return {"profile_alias": alias, "run_id": run_id, "task_id": task_id, "as_of": as_of, "status": status,
            "try_number": 1, "started_at": started, "finished_at": started + timedelta(seconds=3), "duration_s": 3.0,
            "counts": {"subscriptions": 40, "api_budget": {"calls": 2, "minimal": 2, "ratio": 1.0}},
            "api": {"calls": 2}, "message": "ZoomError: boom" if status == "failed" else None}


def fill_acme(engine) -> None:
    """The acme profile's warehouse after two daily runs and a reclaim."""
    account = Account(engine, "acme")
    varied_account(account)
    run(engine, EARLIER, run_id="scheduled__1")
    run(engine, AS_OF, run_id="scheduled__2")
    with engine.begin() as conn:
        opened = conn.execute(removal_candidate.select().where(removal_candidate.c.profile_alias == "acme",
                                                               removal_candidate.c.evaluated_as_of == AS_OF)
                              .order_by(removal_candidate.c.candidate_id)).mappings().all()
        closed, acted = opened[0], opened[1]
        conn.execute(removal_candidate.update().where(removal_candidate.c.candidate_id == closed["candidate_id"])
                     .values(state="closed_canceled", close_reason="re-check: hosted a meeting at 09:00",
                             closed_at=AS_OF + timedelta(hours=1)))
        conn.execute(removal_candidate.update().where(removal_candidate.c.candidate_id == acted["candidate_id"])
                     .values(approval_run_id="scheduled__2", approval_requested_at=AS_OF + timedelta(minutes=30),
                             approval_decision="approved", approval_by="SAM manager (sam)",
                             approval_at=AS_OF + timedelta(minutes=50)))
        conn.execute(reclaim_action.insert().values(
            profile_alias="acme", candidate_id=acted["candidate_id"], run_id="scheduled__2", user_id=acted["user_id"],
            email=acted["email"], software_model=acted["software_model"], action="downgrade_to_basic",
            status="dry_run", dry_run=True, requested_at=AS_OF + timedelta(hours=1), attempts=0))
    upsert(engine, software_model, [
        {"profile_alias": "acme", "software_model": m, "publisher": "Zoom", "product": p, "edition": None,
         "capacity": c, "source": "builtin", "first_seen_at": EARLIER, "last_seen_at": AS_OF}
        for m, p, c in (("zoom_meetings_licensed", "Zoom Meetings", None), ("zoom_webinar_500", "Zoom Webinars", 500))])
    upsert(engine, unrecognized_subscription_identifier, [
        {"profile_alias": "acme", "identifier": i, "subscription_count": n, "first_seen_at": EARLIER,
         "last_seen_at": AS_OF} for i, n in (("zoom_phone", 7), ("cloud_recording:1tb", 2))])
    upsert(engine, exclusion_rule, [{"profile_alias": "acme", "rule_index": 0, "kind": "user", "field": "email",
                                     "pattern": "svc-*@example.com"}])
    upsert(engine, job_result, [_job("acme", f"scheduled__{n}", task, as_of, "success", i)
                                for n, as_of in ((1, EARLIER), (2, AS_OF))
                                for i, task in enumerate(("validate_profile", "download_subscriptions", "reconcile"))])


def fill_globex(engine) -> None:
    upsert(engine, job_result, [_job("globex", "scheduled__1", "validate_profile", AS_OF, "success", 0),
                                _job("globex", "scheduled__1", "reconcile", AS_OF, "failed", 1)])


@dataclass
class Views:
    """The mounted views, tokens of every user and the warehouse they read."""

    client: TestClient
    auth: DagGrantAuthManager
    engine: object

    def token(self, user: str, **kwargs) -> str:
        return self.auth.generate_jwt(SimpleAuthManagerUser(username=user, role="viewer"), **kwargs)

    def get(self, path: str, user: str | None = "admin", **params):
        headers = {"Authorization": f"Bearer {self.token(user)}"} if user else {}
        return self.client.get(f"/zoom-sam{path}", params=params or None, headers=headers)

    def forged_token(self, user: str) -> str:
        """A token whose claims look like Airflow's but signed with another key."""
        claims = jwt.decode(self.token(user), options={"verify_signature": False})
        return jwt.encode(claims, secrets.token_hex(32), algorithm=jwt.get_unverified_header(self.token(user))["alg"])


@pytest.fixture
def views(warehouse, airflow_db, tmp_path, monkeypatch):  # noqa: F811  (the imported fixtures)
    """The views over acme and globex (one warehouse, two connection ids) and a never-run profile."""
    from airflow.api_fastapi import app as airflow_app

    from zoom_sam.ui.app import create_app
    from zoom_sam.ui.catalog import warehouse_engine

    profiles = tmp_path / "profiles"
    profiles.mkdir()
    for alias, conn_id in (("acme", "wh_acme"), ("globex", "wh_globex"), ("fresh", "wh_fresh")):
        (profiles / f"{alias}.yaml").write_text(_profile_yaml(alias, conn_id))
    monkeypatch.setenv("ZOOM_SAM_PROFILES_DIR", str(profiles))
    monkeypatch.setenv("AIRFLOW_CONN_WH_ACME", warehouse.connection_json())
    monkeypatch.setenv("AIRFLOW_CONN_WH_GLOBEX", warehouse.connection_json())
    monkeypatch.setenv("AIRFLOW_CONN_WH_FRESH", f'{{"conn_type": "sqlite", "host": "{tmp_path / "fresh.db"}"}}')
    monkeypatch.setenv("AIRFLOW__CORE__AUTH_MANAGER", f"{DagGrantAuthManager.__module__}.DagGrantAuthManager")
    os.environ.setdefault("AIRFLOW__API_AUTH__JWT_SECRET", secrets.token_hex(32))  # the session's signing key
    fill_acme(warehouse.engine)
    fill_globex(warehouse.engine)
    warehouse_engine.cache_clear()
    monkeypatch.setattr(airflow_app._AuthManagerState, "instance", None)
    auth = airflow_app.create_auth_manager()
    parent = FastAPI()
    parent.mount("/zoom-sam", create_app())
    with TestClient(parent) as client:
        yield Views(client, auth, warehouse.engine)
    for engine in (warehouse_engine(c) for c in ("wh_acme", "wh_globex", "wh_fresh")):
        engine.dispose()
    warehouse_engine.cache_clear()
