"""The SAM manager's day in the Airflow UI, end to end: connect Zoom, run the profile, approve all but
one user, and see Zoom, the warehouse and the notifications agree.

Each piece has tests of its own; this one exists for the seams between them, which only real
processes have: the refresh-token chain that "Connect Zoom account" starts in the api-server is
the one the scheduler's tasks then use; the run is started with the Trigger button of the DAG page
(the React UI's modal, "Unpause on trigger" and the run Params included), not by a test calling
``dag.test``; the answer is given in Airflow's own Required Actions form, opened from the link of
the "approval waiting" e-mail, not written into the metadata database by the test; and the
notifications leave the tasks for a local webhook and SMTP server through the profile's Airflow
connections, their links absolute from ``[api] base_url`` (the "reclaim done" one opens the views'
candidates). The run's progress is polled through the REST API, with deadlines.

The stack: api-server, scheduler (LocalExecutor) and dag-processor on a PostgreSQL metadata
database of the test's own (Airflow 3.3 accepts LocalExecutor on SQLite too, but there the
scheduler, the dag-processor and the api-server would share one file's single write lock, which no
deployment does; the Human-in-the-loop task waits in ``awaiting_input`` and resumes through the
api-server, so no triggerer), the embedded SQLite warehouse in the home, and a
sandbox of 300 users whose clock starts at today's midnight (the run's as-of is the moment it is
triggered). Screenshots of every step go to the artifacts folder.
"""
from __future__ import annotations

import json
import queue
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from stack.rest import AirflowApi
from tests.support.airflow_stack import RUNNERS, AirflowServer, airflow, api_server, environment
from tests.support.receivers import Mailbox, Webhook, mailbox, webhook  # noqa: F401  (fixtures)
from tests.support.sandbox import FAST_LIMITS, connection_json, make_sandbox  # noqa: F401  (fixture)
from zoom_sam.licensing import builtin_model_for, held_subscriptions, user_key
from zoom_sam.warehouse.schema import oauth_token_chain, reclaim_action, removal_candidate
from zoom_sam.zoom.scopes import PROCESS_SCOPES

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(400)]

ALIAS = "e2e"
DAG_ID = f"zoom_sam__{ALIAS}"
SAM_TEAM = "sam-team@example.com"
PROFILE = f"""\
alias: {ALIAS}
display_name: Zoom end to end
zoom_conn_id: zoom_e2e
download_activity: true
reclaim_subscriptions: true
reclaim:
  mode: approval
  max_per_run: 10000
  max_fraction: 1.0
rules:
  - software_model: "*"
    last_activity_threshold_days: 30
entitlements:
  - software_model: zoom_meetings_licensed
    purchased: 300
    unit_cost: 149.90
    currency: USD
notifications:
  webhooks:
    - conn_id: e2e_webhook
  email:
    - conn_id: e2e_smtp
      to: [{SAM_TEAM}]
"""
ALL_BUT = "Approve all but the listed users"
# How long each wait may take at most; a healthy run needs a fraction of each (docs/ui.md).
DAG_PARSED_S, AWAITING_S, FINISHED_S, POLL_S = 120, 180, 120, 0.5


@pytest.fixture
def zoom(make_sandbox):  # noqa: F811 - the fixture imported above
    """300 users; today's midnight as the sandbox's "now", near the run's as-of (the trigger's moment)."""
    return make_sandbox(users=300, seed=11, rate_limits=FAST_LIMITS, anchor=None)


@pytest.fixture
def stack(tmp_path, pg_url, zoom, webhook, mailbox) -> Iterator[AirflowServer]:  # noqa: F811
    """Airflow on a fresh PostgreSQL database, the profile in approval mode telling both receivers,
    and the Zoom connection of an admin-managed app that nobody has connected yet."""
    home = tmp_path / "airflow"
    profiles = home / "profiles"
    profiles.mkdir(parents=True)
    (profiles / f"{ALIAS}.yaml").write_text(PROFILE)
    env = {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": pg_url,
           "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
           "AIRFLOW__CORE__PARALLELISM": "4",
           "ZOOM_SAM_PROFILES_DIR": str(profiles),
           "ZOOM_SAM_TASK_RETRIES": "0",
           "AIRFLOW_CONN_ZOOM_E2E": connection_json(zoom, grant_type="refresh_token"),
           "AIRFLOW_CONN_E2E_WEBHOOK": json.dumps({"conn_type": "http", "host": f"{webhook.url}/hooks/sam"}),
           "AIRFLOW_CONN_E2E_SMTP": json.dumps({
               "conn_type": "smtp", "host": mailbox.host, "port": mailbox.port,
               "extra": {"from_email": "zoom-sam@example.com", "disable_tls": True, "disable_ssl": True}})}
    airflow({**environment(home), **env}, "db", "migrate")
    with api_server(home, {"admin": "admin"}, env, RUNNERS) as server:
        yield server


def test_the_sam_manager_connects_runs_and_approves_all_but_one_user(stack, zoom, webhook, mailbox, browser,
                                                                     artifacts):  # noqa: F811
    api, inbox = AirflowApi(stack.base_url, "admin", stack.passwords["admin"]), Inbox(webhook, mailbox)
    context = browser.new_context(base_url=stack.base_url, viewport={"width": 1440, "height": 900})
    page = context.new_page()
    try:
        _sign_in(page, stack)
        _connect_and_validate(page, stack, artifacts)
        run_id = _trigger(page, stack, api, artifacts)
        _until(stack, "the approve task awaits its answer", lambda: _approve_awaits(api, run_id), AWAITING_S)
        waiting, waiting_mail = inbox.wait_for("approval_waiting")
        kept = _a_candidate_to_keep(stack, run_id)
        answer = _approve_all_but(page, waiting_mail, kept, artifacts)
        state = _until(stack, "the run ends", lambda: _ended(api, run_id), FINISHED_S)
        assert state == "success", f"task states: {_task_states(api, run_id)}"
        page.goto(f"/dags/{DAG_ID}/runs/{quote(run_id, safe='')}")
        page.get_by_text("Success", exact=True).first.wait_for()
        page.screenshot(path=artifacts / "act-run-done.png")
        done, done_mail = inbox.wait_for("reclaim_done")
        _open_candidates(page, done["links"]["Candidates"], artifacts)
    finally:
        context.close()

    requested = _zoom_agrees(stack, zoom, run_id, kept)
    _answer_recorded(stack, run_id, kept, answer, requested)
    assert waiting["links"]["Approve or reject"] == (f"{stack.base_url}/dags/{DAG_ID}/runs/{quote(run_id, safe='')}"
                                                    "/tasks/approve/required_actions?map_index=-1")
    assert done["facts"]["closed_complete"] == sum(c.state == "closed_complete" for c in requested) > 0
    assert {done_mail["To"], waiting_mail["To"]} == {SAM_TEAM}
    inbox.drain()
    secrets = _secrets(stack, zoom)
    for told in inbox.everything():
        assert not [s for s in secrets if s in told], f"a secret in a notification: {told[:300]}"


@dataclass
class Inbox:
    """Everything the webhook and the mailbox received, kept for the secrets check at the end."""

    webhook: Webhook
    mailbox: Mailbox
    posts: list[dict] = field(default_factory=list)
    mails: list[EmailMessage] = field(default_factory=list)

    def wait_for(self, event: str) -> tuple[dict, EmailMessage]:
        """The webhook's JSON of ``event`` and the e-mail with its title (both sent by the task that
        raised it, before it ended: waiting on the receivers' queues is only a safety margin)."""
        try:
            while not (found := [p for p in self.posts if p["event"] == event]):
                self.posts.append(self.webhook.next()["json"])
            subject = f"[zoom-sam {ALIAS}] {found[0]['title']}"
            while not (mail := [m for m in self.mails if m["Subject"] == subject]):
                self.mails.append(self.mailbox.next()[2])
        except queue.Empty:
            pytest.fail(f"no {event} message; received: {[p['event'] for p in self.posts]}, "
                        f"{[m['Subject'] for m in self.mails]}")
        return found[0], mail[0]

    def drain(self) -> None:
        while not self.webhook.empty():
            self.posts.append(self.webhook.next()["json"])
        while not self.mailbox.empty():
            self.mails.append(self.mailbox.next()[2])

    def everything(self) -> list[str]:
        return [json.dumps(p) for p in self.posts] + [m.as_string() for m in self.mails]


def _sign_in(page, stack) -> None:
    """Airflow's own login form, reached from the views' 401 page, brings the browser back."""
    profile = f"/zoom-sam/profiles/{ALIAS}"
    assert page.goto(profile).status == 401
    page.get_by_test_id("login-link").click()
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(stack.passwords["admin"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{stack.base_url}{profile}")


def _connect_and_validate(page, stack, artifacts) -> None:
    """Connect: the sandbox's consent page, Allow, back connected; Validate: every scope granted."""
    connection = page.get_by_test_id("connection")
    assert connection.get_attribute("data-state") == "not_connected"
    page.get_by_test_id("connect-button").click()
    page.wait_for_url(re.compile(r"^http://127\.0\.0\.1:\d+/oauth/authorize\?"))
    page.screenshot(path=artifacts / "act-zoom-consent.png", full_page=True)
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{stack.base_url}/zoom-sam/profiles/{ALIAS}?connect=connected")
    assert connection.get_attribute("data-state") == "connected"
    connection.scroll_into_view_if_needed()
    page.screenshot(path=artifacts / "act-connected.png")
    page.get_by_test_id("validate-button").click()
    page.wait_for_url(f"{stack.base_url}/zoom-sam/profiles/{ALIAS}/validate")
    page.screenshot(path=artifacts / "act-validated.png", full_page=True)
    assert page.get_by_test_id("validate-summary").get_attribute("data-ok") == "true"
    granted = page.get_by_test_id("scopes-table").locator("tr[data-scope]").evaluate_all(
        "rows => rows.map(r => [r.dataset.scope, r.dataset.granted])")
    assert sorted(granted) == sorted([scope, "true"] for scopes in PROCESS_SCOPES.values() for scope in scopes)


def _trigger(page, stack, api, artifacts) -> str:
    """The Trigger button of the DAG page: a single run, unpaused on trigger, every Param left off."""
    _until(stack, f"{DAG_ID} is parsed", lambda: api.status("GET", f"/api/v2/dags/{DAG_ID}") == 200 or None,
           DAG_PARSED_S)
    page.goto(f"/dags/{DAG_ID}")
    page.get_by_role("button", name="Trigger Dag").click()
    dialog = page.get_by_role("dialog")
    assert dialog.get_by_role("checkbox", name=f"Unpause {DAG_ID} on trigger").is_checked()
    page.screenshot(path=artifacts / "act-trigger.png")
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith(f"/dags/{DAG_ID}/dagRuns")) \
            as created:
        dialog.get_by_role("button", name="Trigger", exact=True).click()
    assert created.value.status == 200, created.value.text()
    run = created.value.json()
    assert run["triggered_by"] == "ui" and run["conf"] == {
        "dry_run_only": False, "reconcile_latest_snapshot_only": False, "skip_activity": False}
    return run["dag_run_id"]


def _task_states(api, run_id: str) -> dict[str, str | None]:
    return {t["task_id"] + (f"[{t['map_index']}]" if t["map_index"] >= 0 else ""): t["state"]
            for t in api.task_instances(DAG_ID, run_id)}


def _approve_awaits(api, run_id: str) -> bool | None:
    """True once ``approve`` waits for its answer; fails at once when a task of the run failed."""
    states = _task_states(api, run_id)
    assert not {"failed", "upstream_failed"} & set(states.values()), states
    return True if states.get("approve") == "awaiting_input" else None


def _ended(api, run_id: str) -> str | None:
    state = api.dag_run(DAG_ID, run_id)["state"]
    return state if state in ("success", "failed") else None


def _a_candidate_to_keep(stack, run_id: str) -> str:
    """The e-mail of a seat holder the request lists: the user the approver keeps."""
    c = removal_candidate.c
    with _warehouse(stack) as conn:
        return conn.execute(sa.select(c.email).where(c.approval_run_id == run_id,
                                                     c.software_model == "zoom_meetings_licensed",
                                                     c.reason != "pending_invitation")
                            .order_by(c.email).limit(1)).scalar_one()


def _approve_all_but(page, waiting_mail: EmailMessage, kept: str, artifacts) -> dict:
    """The e-mail's "Approve or reject" link opens the task's Required Actions form: the user to
    keep goes into "Users to leave out", then the option. Returns Airflow's record of the answer."""
    link = re.search(r'Approve or reject: <a href="([^"]+)"', waiting_mail.get_body(("html",)).get_content())[1]
    page.goto(link.replace("&amp;", "&"))
    field_ = page.locator("textarea#element_leave_out")  # its label is not tied to it: no get_by_label
    field_.fill(kept)
    field_.scroll_into_view_if_needed()
    page.screenshot(path=artifacts / "act-approve-all-but.png")
    with page.expect_response(lambda r: r.request.method == "PATCH" and "/hitlDetails" in r.url) as answered:
        page.get_by_role("button", name=ALL_BUT).click()
    assert answered.value.status == 200, answered.value.text()
    return answered.value.json()


def _open_candidates(page, link: str, artifacts) -> None:
    """The "reclaim done" message's link: the views' candidates of the run's as-of."""
    assert page.goto(link).status == 200, link
    assert page.get_by_test_id("candidates-table").locator("tr[data-candidate-id]").count() > 0
    page.screenshot(path=artifacts / "act-candidates.png")


def _zoom_agrees(stack, zoom, run_id: str, kept: str) -> list:
    """Zoom as the sandbox holds it now, against what the warehouse says of each candidate the
    request listed: reclaimed ones hold their subscription no longer, every other one still does
    (the kept user, and those the re-check stopped: an upcoming meeting, a Zoom refusal)."""
    held = {(user_key(u), builtin_model_for(h.identifier).key) for u in zoom.account().users()
            for h in held_subscriptions(u, u["settings"]) if builtin_model_for(h.identifier)}
    c = removal_candidate.c
    with _warehouse(stack) as conn:
        requested = conn.execute(sa.select(removal_candidate).where(c.approval_run_id == run_id)).all()
    assert requested
    for cand in requested:
        still_held = (cand.user_id, cand.software_model) in held
        assert still_held == (cand.state != "closed_complete"), (cand.email, cand.software_model, cand.state,
                                                                 cand.close_reason)
    assert {cand.state for cand in requested if cand.email == kept} == {"awaiting_approval"}
    written = {r.path.split("/")[3] for r in zoom.log if r.method in ("PATCH", "DELETE", "POST")
               and r.path.startswith("/v2/users/")}
    assert written and written <= {cand.user_id for cand in requested if cand.email != kept}
    return requested


def _answer_recorded(stack, run_id: str, kept: str, answer: dict, requested: list) -> None:
    """Who answered, when and what: on every candidate of the request and every write of the run."""
    by = answer["responded_by"]["name"]
    at = datetime.fromisoformat(answer["responded_at"])
    assert answer["chosen_options"] == [ALL_BUT] and answer["params_input"] == {"leave_out": [kept]}
    assert {(c.email == kept, c.approval_decision, c.approval_by, c.approval_at) for c in requested} == {
        (True, "left_out", by, at), (False, "approved", by, at)}
    a = reclaim_action.c
    with _warehouse(stack) as conn:
        actions = conn.execute(sa.select(reclaim_action).where(a.run_id == run_id)).all()
    assert actions and not [x for x in actions if x.dry_run or x.email == kept]
    assert {(x.approval_decision, x.approval_by, x.approval_at) for x in actions} == {("approved", by, at)}


def _secrets(stack, zoom) -> list[str]:
    """The Zoom app's client secret and the tokens of the chain the tasks used (decrypted)."""
    fernet = Fernet(stack.fernet_key)
    with _warehouse(stack) as conn:
        chain = conn.execute(sa.select(oauth_token_chain)).one()
    return [zoom.config.account().client_secret,
            *(fernet.decrypt(v.encode()).decode() for v in (chain.refresh_token, chain.access_token))]


@contextmanager
def _warehouse(stack) -> Iterator[sa.Connection]:
    """A plain SQLAlchemy connection to the embedded SQLite warehouse (zoom-sam's own engine
    begins IMMEDIATE, which would hold the tasks' writes off)."""
    engine = sa.create_engine(stack.warehouse_url)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def _until(stack: AirflowServer, what: str, probe, timeout_s: float):
    """Poll ``probe`` until it answers something other than None, pausing between polls the way
    the stack pauses (a process that exits fails the test at once); fail at the deadline."""
    deadline = time.monotonic() + timeout_s
    while (found := probe()) is None:
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout_s} s (the processes' logs are in {stack.home})")
        stack.pause(POLL_S)
    return found
