"""The distributed deployment end to end: docker-compose.yaml's topology as processes (``dev/stack``),
the Zoom sandbox as Zoom, and a person driving Airflow through its REST API.

One profile in approval mode whose activity sweep runs as 4 shards, on an account whose connection
uses the refresh-token grant. The person unpauses and triggers the DAG, tests the connection with the
form's Test button while the run waits for them, approves, and waits for the run. Then:

* the shards ran on both workers (each task instance's ``hostname``);
* no second of the run sent more requests of a category than the account's limit: the sandbox admits
  twice the limit the connection names, so a burst over it is served and counted in the per-second
  figures of its request log instead of being refused out of sight (checked last);
* the warehouse holds what a single-process ``dag.test()`` run of the same account leaves
  (``tests/deploy/reference.py``, run meanwhile into a database and a sandbox of its own);
* Zoom ends as the plan said: every reclaim action the warehouse records as done is so in Zoom,
  and the account's users end as the reference run left its copy of the account;
* the refresh-token chain every worker rotated is still valid: the Test (which runs on the
  api-server under a temporary connection id) used none of it up, the api-server's views read the
  same warehouse, and Zoom accepts the chain's newest refresh token at the end.

``make stack-test`` runs this file alone; ``STACK_USERS=100000`` sizes the account (the deadlines
grow with it) and ``STACK_PLAN=business`` gives the connection a Business plan's limits. The logs of
every component stay in the printed folder, whatever the outcome.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import sqlalchemy as sa
from cryptography.fernet import Fernet

from project import ROOT, airflow_environment
from stack.rest import AirflowApi
from stack.scenario import (ALIAS, CONN_ID, DAG_ID, POOL, SHARDS, is_over, over_limit, profile, sandbox, start_run,
                            task_lines, zoom_side)
from stack.topology import WORKERS, Databases, Stack, StackError, redis, wait_for
from tests.deploy.reference import differences, landed
from tests.support.sandbox import consent, direct_client
from zoom_sam.warehouse.engine import engine_for_url
from zoom_sam.zoom.auth import authorize_url
from zoom_sam.zoom.ratelimit import PLAN_LIMITS
from zoom_sandbox.process import SandboxProcess

USERS = int(os.environ.get("ZOOM_SAM_STACK_USERS") or 600)
PLAN = os.environ.get("ZOOM_SAM_STACK_PLAN") or "pro"
LIMITS = PLAN_LIMITS[PLAN]
TOKEN_TTL_S = 30  # short enough that tasks on both workers rotate the chain during the run
REDIRECT = "http://127.0.0.1:1/zoom/oauth/callback"
# The run's Zoom calls are bounded by the Medium limit: about one settings read and one history
# listing per licensed user, and a real reclaim's re-checks; three times that, plus Airflow's own time.
RUN_DEADLINE_S = 300 + 3 * USERS / LIMITS["Medium"]


pytestmark = [pytest.mark.stack, pytest.mark.postgres, pytest.mark.timeout(int(2 * RUN_DEADLINE_S + 600))]


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture
def services():
    """PostgreSQL and Redis on 127.0.0.1: skipped without them locally, a failure in CI."""
    try:
        sa.create_engine("postgresql+psycopg2://postgres@127.0.0.1:5432/postgres").connect().close()
        redis(("PING",))
    except (sa.exc.OperationalError, OSError, StackError) as exc:
        if _in_ci():
            pytest.fail(f"the stack test needs PostgreSQL and Redis on 127.0.0.1: {exc}")
        pytest.skip(f"PostgreSQL or Redis not reachable on 127.0.0.1: {exc}")


def _sandbox(anchor: datetime) -> SandboxProcess:
    return sandbox(USERS, anchor.date(), LIMITS, token_ttl_s=TOKEN_TTL_S)


def _refresh_token(sandbox: SandboxProcess, client_id: str, secret: str, account_id: str) -> str:
    """What an admin of the account hands over after authorizing the app."""
    url = authorize_url(client_id, REDIRECT, state="stack", base=f"{sandbox.root_url}/oauth/authorize")
    code = parse_qs(urlsplit(consent(url, account_id=account_id)).query)["code"][0]
    exchange = requests.post(f"{sandbox.root_url}/oauth/token", auth=(client_id, secret), timeout=10,
                             data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT})
    assert exchange.status_code == 200, exchange.text
    return exchange.json()["refresh_token"]


def _connection(sandbox: SandboxProcess, **extra) -> dict:
    conn = json.loads(sandbox.connection_json())
    conn["extra"].update(plan=PLAN, **extra)
    return conn


def _chain(warehouse_url: str) -> dict:
    engine = engine_for_url(warehouse_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(sa.text("SELECT refresh_token, rotations, exchange_lost_at FROM oauth_token_chain "
                                       "WHERE conn_id = :c"), {"c": CONN_ID}).mappings().one()
            return dict(row)
    finally:
        engine.dispose()


def _users(client) -> dict[str, tuple]:
    return {u.get("id") or u["email"]: (u["email"], u["type"], u["status"])
            for status in ("active", "inactive", "pending") for u in client.list_users(status)}


def test_a_sharded_approval_run_on_the_distributed_stack(services):
    anchor = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    work = Path(tempfile.mkdtemp(prefix="zoom-sam-stack-"))
    print(f"\nstack test: {USERS:,} users, {PLAN} limits {LIMITS}, logs under {work}", flush=True)
    with _sandbox(anchor) as zoom, _sandbox(anchor) as reference_zoom:
        stack_conn = _connection(zoom, grant_type="refresh_token", token_store_conn_id="zoom_sam_warehouse")
        client_id, secret = stack_conn["login"], stack_conn["password"]
        account_id = stack_conn["extra"].pop("account_id")
        stack_conn["extra"]["refresh_token"] = _refresh_token(zoom, client_id, secret, account_id)
        profiles = work / "profiles"
        profiles.mkdir()
        (profiles / f"{ALIAS}.yaml").write_text(profile("approval", POOL))
        databases = Databases("zoom_sam_stack_ref")
        reference = None
        try:
            reference_wh = databases.create("warehouse")
            reference = _start_reference(work, anchor, reference_zoom, reference_wh)
            stack = Stack(work / "airflow-home", profiles, {CONN_ID: json.dumps(stack_conn)})
            try:
                with stack:
                    instances = _drive(stack, anchor, lambda: _wait_reference(reference, work))
                    stats = requests.get(f"{zoom.root_url}/_sandbox/stats", timeout=30).json()
                    _check(stack, zoom, reference_zoom, reference_wh, instances, stats, client_id, secret)
            finally:
                print(stack.where(), flush=True)
        finally:
            if reference is not None and reference.poll() is None:
                reference.kill()
                reference.wait()
            databases.drop()


def _start_reference(work: Path, anchor: datetime, zoom: SandboxProcess, warehouse_url: str) -> subprocess.Popen:
    """The same account and profile (automatic instead of approval: nobody answers a dag.test()),
    run by ``tests/deploy/reference.py`` in the background while the stack starts."""
    profiles = work / "reference-profiles"
    profiles.mkdir()
    (profiles / f"{ALIAS}.yaml").write_text(profile("automatic", None))
    env = {**os.environ, **airflow_environment(work / "reference-home"),
           "ZOOM_SAM_PROFILES_DIR": str(profiles), "ZOOM_SAM_TASK_RETRIES": "0",
           f"AIRFLOW_CONN_{CONN_ID.upper()}": json.dumps(_connection(zoom)),
           "AIRFLOW_CONN_ZOOM_SAM_WAREHOUSE": warehouse_url}
    log = (work / "reference.log").open("wb")
    return subprocess.Popen([sys.executable, "-m", "tests.deploy.reference", anchor.isoformat()], env=env, cwd=ROOT,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _wait_reference(reference: subprocess.Popen, work: Path) -> None:
    try:
        code = reference.wait(timeout=RUN_DEADLINE_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the reference run did not finish in {RUN_DEADLINE_S:.0f} s; log {work / 'reference.log'}")
    log = (work / "reference.log").read_text(errors="replace")
    assert code == 0, f"the reference run failed ({work / 'reference.log'}):\n{log[-3000:]}"


def _drive(stack: Stack, anchor: datetime, settled: Callable[[], None]) -> list[dict]:
    """What a person does in the UI, through the REST API: returns the run's task instances.

    ``settled`` returns once the reference run has ended: it runs while the stack starts, but not
    beside the measured run, whose requests per second a CPU-starved sandbox would bunch up.
    """
    settled()
    api, run_id = start_run(stack, anchor)

    deadline = time.monotonic() + RUN_DEADLINE_S
    wait_for("the approval request", lambda: bool(api.open_requests(DAG_ID, run_id)) or is_over(api, run_id),
             deadline, stack.check)
    requests_open = api.open_requests(DAG_ID, run_id)
    assert len(requests_open) == 1, _states(api, run_id)
    (request,) = requests_open
    assert request["task_instance"]["task_id"] == "approve" and "Approve" in request["options"], request

    # The form's Test button while nothing else uses the chain: it must leave it as it is.
    before = _chain(stack.warehouse_url)
    tested = api.test_connection(CONN_ID, "zoom")
    assert tested["status"] is False and "no refresh-token chain is stored" in tested["message"], tested
    assert _chain(stack.warehouse_url) == before

    api.answer(DAG_ID, run_id, "approve", -1, ["Approve"])
    wait_for(f"{DAG_ID} run {run_id} to end", lambda: is_over(api, run_id), deadline, stack.check)
    assert api.dag_run(DAG_ID, run_id)["state"] == "success", _states(api, run_id)
    instances = api.task_instances(DAG_ID, run_id)
    jobs = api.call("GET", f"/zoom-sam/api/profiles/{ALIAS}/jobs")
    assert "reclaim" in json.dumps(jobs), "the api-server's views do not see the run's job records"
    return instances


def _states(api: AirflowApi, run_id: str) -> str:
    run = api.dag_run(DAG_ID, run_id)
    return f"run {run_id} {run['state']}: " + ", ".join(
        f"{ti['task_id']}[{ti['map_index']}]={ti['state']}@{ti['hostname']}"
        for ti in api.task_instances(DAG_ID, run_id))


def _report(instances: list[dict], stats: dict) -> None:
    """Each task's time and host, and Zoom's side of the run: the figures README's "Running at
    scale" table asks for (``make stack-test`` shows them; ``make test`` only when the test fails)."""
    for line in [*task_lines(instances), *zoom_side(stats, LIMITS)]:
        print(f"  {line}")

def _check(stack: Stack, zoom: SandboxProcess, reference_zoom: SandboxProcess, reference_wh: str,
           instances: list[dict], stats: dict, client_id: str, secret: str) -> None:
    _report(instances, stats)
    shards = [ti for ti in instances if ti["task_id"] == "sweep_activity"]
    assert len(shards) == SHARDS and {ti["state"] for ti in shards} == {"success"}, shards
    assert {ti["hostname"] for ti in shards} == set(WORKERS), [(ti["map_index"], ti["hostname"]) for ti in shards]

    expected, got = landed(reference_wh), landed(stack.warehouse_url)
    assert sum(map(len, got.values())) and not differences(expected, got), "\n".join(differences(expected, got))

    _check_zoom(stack, zoom, reference_zoom)

    chain = _chain(stack.warehouse_url)
    assert chain["rotations"] >= 2 and chain["exchange_lost_at"] is None, chain
    newest = Fernet(stack.fernet_key.encode()).decrypt(chain["refresh_token"].encode()).decode()
    still = requests.post(f"{zoom.root_url}/oauth/token", auth=(client_id, secret), timeout=10,
                          data={"grant_type": "refresh_token", "refresh_token": newest})
    assert still.status_code == 200, f"the chain's newest refresh token was refused: {still.text}"

    over = over_limit(stats, LIMITS)
    assert not over, f"the run exceeded the account's limits {LIMITS} in some second: {over}"

def _check_zoom(stack: Stack, zoom: SandboxProcess, reference_zoom: SandboxProcess) -> None:
    engine = engine_for_url(stack.warehouse_url)
    with engine.connect() as conn:
        actions = conn.execute(sa.text("SELECT user_id, email, action, status FROM reclaim_action "
                                       "WHERE NOT dry_run")).mappings().all()  # as many refused as in the reference
    engine.dispose()
    done = [a for a in actions if a["status"] == "succeeded"]
    assert done, actions
    client = direct_client(zoom.connection_json())
    users = _users(client)
    for a in done:
        if a["action"] == "downgrade_to_basic":
            assert users[a["user_id"]][1] == 1, a
        elif a["action"] == "disassociate_invitation":
            assert a["user_id"] not in users and a["email"] not in users, a
        else:
            flag = a["action"].removeprefix("remove_")
            assert client.get_user_settings(a["user_id"])["feature"].get(flag) is False, a
    client.close()
    reference = direct_client(reference_zoom.connection_json())
    assert users == _users(reference)
    reference.close()
