"""The views as a person sees them: a real browser, Airflow's own login page, a real demo run behind.

One demo run and one api-server serve every test (``tests/ui/conftest.py``). The figures each
page shows are compared with the warehouse the run wrote, read here with SQLAlchemy rather than
through the views' code, so a view that reads the wrong rows fails here. Every page is kept as a
screenshot in the artifacts folder for a person to look at.

SimpleAuthManager gives every role read access to every DAG, so it cannot draw the per-profile
permission boundary (403); tests/ui/test_access.py tests it at the API level with an auth manager
that grants single DAGs. Here: no login, no data (401); Airflow's read-only role sees the views.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import sqlalchemy as sa

from zoom_sam.ui.queries import LAST_ACTIVITY_BUCKETS
from zoom_sam.warehouse.schema import (
    job_result,
    license_position,
    removal_candidate,
    software_subscription,
    unrecognized_subscription_identifier,
)
from zoom_sam.zoom.scopes import PROCESS_SCOPES

pytestmark = [pytest.mark.airflow_db, pytest.mark.timeout(600)]  # the demo run and the server start come first

ALIAS = "demo"
PAGES = {"overview": "/zoom-sam/", "profile": f"/zoom-sam/profiles/{ALIAS}",
         "usage": f"/zoom-sam/profiles/{ALIAS}/usage", "candidates": f"/zoom-sam/profiles/{ALIAS}/candidates"}
# The position table's columns that are license_position's own figures, under the views' names.
POSITION_COLUMNS = {"purchased": "purchased", "assigned": "assigned", "used": "active", "stale": "stale",
                    "excluded": "excluded", "reclaimable": "reclaimable", "potential_savings": "potential_savings",
                    "realised_savings": "actual_savings", "threshold_days": "threshold_days"}
CHARTS = ("chart-assigned-used", "chart-last-activity", "chart-simulation")


@pytest.fixture(scope="module")
def warehouse(ui_server) -> Iterator[sa.Connection]:
    """The demo's warehouse through a plain SQLAlchemy engine: zoom-sam's own SQLite engine begins
    every transaction IMMEDIATE (a write lock), and an open one would hold the server's reads off."""
    engine = sa.create_engine(ui_server.warehouse_url)
    with engine.connect() as conn:
        yield conn
    engine.dispose()


@pytest.fixture(scope="module")
def admin(browser, ui_server, artifacts):
    """A page logged in as admin the way a person does it: the views' 401 page links to Airflow's
    login form, which brings the browser back to the views once signed in."""
    context = browser.new_context(base_url=ui_server.base_url, viewport={"width": 1440, "height": 900})
    page = context.new_page()
    assert page.goto(PAGES["overview"]).status == 401
    page.get_by_test_id("login-link").click()
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(ui_server.passwords["admin"])
    page.screenshot(path=artifacts / "login.png")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{ui_server.base_url}{PAGES['overview']}")
    yield page
    context.close()


def _open(page, path: str, artifacts, name: str):
    """Go to ``path`` as the page's user, expect 200, keep a full-page screenshot."""
    response = page.goto(path)
    assert response.status == 200, f"{path}: {response.status} {page.content()[:500]}"
    page.screenshot(path=artifacts / f"{name}.png", full_page=True)
    return page


def _attribute(locator, name: str) -> list[str]:
    return locator.evaluate_all(f"elements => elements.map(e => e.getAttribute('{name}'))")


def _total(page, pager: str) -> int:
    """The row count a table's pager states ("page 1 of 3 · 120 rows")."""
    return int(re.search(r"(\d+) rows", page.get_by_test_id(pager).inner_text())[1])


def _count(warehouse, table, *where) -> int:
    return warehouse.execute(sa.select(sa.func.count()).select_from(table)
                             .where(table.c.profile_alias == ALIAS, *where)).scalar_one()


def test_overview_shows_each_task_s_latest_run(admin, artifacts, warehouse):
    page = _open(admin, PAGES["overview"], artifacts, "overview")
    assert page.get_by_test_id(f"profile-card-{ALIAS}").get_attribute("data-state") == "healthy"
    latest = {}
    for task, seconds in warehouse.execute(sa.select(job_result.c.task_id, job_result.c.duration_s)
                                           .where(job_result.c.profile_alias == ALIAS)
                                           .order_by(job_result.c.started_at)):
        latest[task] = seconds
    rows = page.get_by_test_id(f"last-runs-{ALIAS}").locator("tr[data-task]")
    assert sorted(_attribute(rows, "data-task")) == sorted(latest)
    for task, seconds in latest.items():
        shown = page.locator(f'[data-testid="last-runs-{ALIAS}"] tr[data-task="{task}"] [data-value]')
        assert float(shown.get_attribute("data-value")) == pytest.approx(seconds), task


def test_profile_lists_match_the_warehouse(admin, artifacts, warehouse):
    page = _open(admin, PAGES["profile"], artifacts, "profile")
    assert _total(page, "subscriptions-pager") == _count(warehouse, software_subscription) > 0
    first_page = warehouse.execute(
        sa.select(software_subscription.c.user_id).where(software_subscription.c.profile_alias == ALIAS)
        .order_by(software_subscription.c.email, software_subscription.c.identifier)
        .limit(page.get_by_test_id("subscriptions-table").locator("tr[data-user-id]").count())).scalars().all()
    assert _attribute(page.get_by_test_id("subscriptions-table").locator("tr[data-user-id]"), "data-user-id") \
        == first_page
    assert _total(page, "jobs-pager") == _count(warehouse, job_result) > 0
    tasks = warehouse.execute(sa.select(job_result.c.task_id).where(job_result.c.profile_alias == ALIAS)).scalars()
    assert sorted(_attribute(page.get_by_test_id("jobs-table").locator("tr[data-task]"), "data-task")) \
        == sorted(tasks)
    identifiers = warehouse.execute(sa.select(unrecognized_subscription_identifier.c.identifier).where(
        unrecognized_subscription_identifier.c.profile_alias == ALIAS)).scalars().all()
    assert sorted(_attribute(page.get_by_test_id("unrecognized-table").locator("tr[data-identifier]"),
                             "data-identifier")) == sorted(identifiers)


def test_usage_shows_the_position_and_draws_it(admin, artifacts, warehouse):
    as_of = warehouse.execute(sa.select(sa.func.max(license_position.c.as_of))
                              .where(license_position.c.profile_alias == ALIAS)).scalar_one()
    page = _open(admin, f"{PAGES['usage']}?as_of={as_of.date().isoformat()}", artifacts, "usage")
    stored = {row.software_model: row for row in warehouse.execute(
        sa.select(license_position).where(license_position.c.profile_alias == ALIAS,
                                          license_position.c.as_of == as_of))}
    assert stored, "the demo run wrote no position"
    table = page.get_by_test_id("position-table")
    assert sorted(_attribute(table.locator("tr[data-model]"), "data-model")) == sorted(stored)
    for model, row in stored.items():
        cells = table.locator(f'tr[data-model="{model}"] td[data-col]').evaluate_all(
            "cells => Object.fromEntries(cells.map(c => [c.dataset.col, c.dataset.value]))")
        for col, column in POSITION_COLUMNS.items():
            assert Decimal(cells[col]) == Decimal(str(getattr(row, column))), (model, col)
    for chart in CHARTS:
        svg = page.get_by_test_id(chart)
        assert svg.evaluate("e => e.tagName") == "svg"
        assert svg.locator("[data-value]").count() > 0, f"{chart} is drawn without data"
    for model, row in stored.items():
        for series, column in (("assigned", "assigned"), ("used", "active")):
            point = page.get_by_test_id("chart-assigned-used").locator(
                f'[data-model="{model}"][data-series="{series}"][data-as-of="{as_of.isoformat()}"]')
            assert Decimal(point.get_attribute("data-value")) == getattr(row, column), (model, series)
        for column, bucket in LAST_ACTIVITY_BUCKETS.items():
            bar = page.get_by_test_id("chart-last-activity").locator(f'[data-model="{model}"][data-bucket="{bucket}"]')
            assert Decimal(bar.get_attribute("data-value")) == getattr(row, column), (model, bucket)


def test_candidates_are_the_warehouse_s_newest_first(admin, artifacts, warehouse):
    page = _open(admin, PAGES["candidates"], artifacts, "candidates")
    shown = [int(i) for i in _attribute(page.get_by_test_id("candidates-table").locator("tr[data-candidate-id]"),
                                        "data-candidate-id")]
    assert shown, "no candidate shown"
    newest_first = warehouse.execute(
        sa.select(removal_candidate.c.candidate_id).where(removal_candidate.c.profile_alias == ALIAS)
        .order_by(removal_candidate.c.evaluated_as_of.desc(), removal_candidate.c.candidate_id.desc())
        .limit(len(shown))).scalars().all()
    assert shown == newest_first
    assert _total(page, "candidates-pager") == _count(warehouse, removal_candidate)


def test_without_login_no_page_shows_data(browser, ui_server, artifacts, warehouse):
    """A browser without Airflow's cookie gets the 401 page: no table, no chart, no email."""
    context = browser.new_context(base_url=ui_server.base_url)
    page = context.new_page()
    emails = warehouse.execute(sa.select(software_subscription.c.email)
                               .where(software_subscription.c.profile_alias == ALIAS)).scalars().all()
    try:
        for name, path in PAGES.items():
            assert page.goto(path).status == 401, path
            page.screenshot(path=artifacts / f"unauthenticated-{name}.png", full_page=True)
            assert page.get_by_test_id("error").get_attribute("data-status") == "401"
            assert page.locator("table, svg, [data-value]").count() == 0, path
            html = page.content()
            assert not [email for email in emails if email in html], path
        assert page.goto("/zoom-sam/api/profiles").status == 401
    finally:
        context.close()


def test_a_viewer_reads_the_views_with_a_token_from_airflow(ui_server, warehouse):
    """Airflow's read-only role suffices, and POST /auth/token's JWT works as a bearer token."""
    headers = {"Authorization": f"Bearer {ui_server.token('viewer')}"}
    answer = requests.get(f"{ui_server.base_url}/zoom-sam/api/profiles/{ALIAS}/candidates", headers=headers,
                          params={"page_size": 1}, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json()["total"] == _count(warehouse, removal_candidate)


def test_airflow_s_own_ui_opens_the_views_in_its_frame(admin, artifacts):
    """The "Zoom licenses" entry of Airflow's Browse menu and the tab of the profile's DAG."""
    from playwright.sync_api import expect

    admin.goto("/")
    admin.get_by_role("button", name="Browse").click()
    admin.get_by_role("menuitem", name="Zoom licenses").click()
    expect(admin.frame_locator("iframe").get_by_test_id(f"profile-card-{ALIAS}")).to_be_visible()
    admin.screenshot(path=artifacts / "airflow-nav.png")
    admin.goto(f"/dags/zoom_sam__{ALIAS}")
    admin.get_by_role("link", name="Zoom licenses").click()
    expect(admin.frame_locator("iframe").get_by_test_id("subscriptions-table")).to_be_visible()
    admin.screenshot(path=artifacts / "airflow-dag-tab.png")


def test_an_admin_connects_the_zoom_account_and_validates_it(admin, artifacts, ui_server, ui_zoom):
    """Connect: the profile's button, the sandbox's consent page, back on the profile connected;
    then Validate shows every process with its scopes. The demo connection is an admin-managed app
    of the sandbox beside the server (``ui_zoom``)."""
    page = _open(admin, PAGES["profile"], artifacts, "connection-before")
    assert page.get_by_test_id("connection").get_attribute("data-state") == "not_connected"
    page.get_by_test_id("connect-button").click()
    page.wait_for_url(re.compile(r"^http://127\.0\.0\.1:\d+/oauth/authorize\?"))
    assert page.get_by_test_id("consent-scopes").locator("li").count() >= 7
    page.screenshot(path=artifacts / "zoom-consent.png", full_page=True)
    with page.expect_request(lambda r: "/zoom-sam/connect/callback" in r.url) as callback:
        page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{ui_server.base_url}{PAGES['profile']}?connect=connected")
    code = parse_qs(urlsplit(callback.value.url).query)["code"][0]
    log = (ui_server.home / "api-server.log").read_text()
    assert "path=/zoom-sam/connect/callback" in log and code not in log  # Airflow's access log masks it
    assert ui_zoom.config.account().client_secret not in log
    page.get_by_test_id("connection").scroll_into_view_if_needed()
    page.screenshot(path=artifacts / "connection-connected.png")
    assert page.get_by_test_id("connection").get_attribute("data-state") == "connected"
    assert page.get_by_test_id("connect-flash").is_visible()

    page.get_by_test_id("validate-button").click()
    page.wait_for_url(f"{ui_server.base_url}{PAGES['profile']}/validate")
    page.screenshot(path=artifacts / "validate.png", full_page=True)
    assert page.get_by_test_id("validate-summary").get_attribute("data-ok") == "true"
    rows = page.get_by_test_id("scopes-table").locator("tr[data-scope]")
    assert sorted(_attribute(rows, "data-scope")) == sorted(s for scopes in PROCESS_SCOPES.values() for s in scopes)
    assert set(_attribute(rows, "data-granted")) == {"true"}
    assert _attribute(page.locator("[data-allowed]"), "data-allowed") == ["true"] * len(PROCESS_SCOPES)
