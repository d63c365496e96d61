"""The pages render what the API answers, with the hooks the browser tests find them by."""
from __future__ import annotations

import re
from html.parser import HTMLParser

from tests.reconcile.account import AS_OF
from tests.ui.world import EARLIER, airflow_db, views, warehouse  # noqa: F401  (fixtures)


class Elements(HTMLParser):
    """Every start tag of a page as (tag, attributes), in document order."""

    def __init__(self, html: str):
        super().__init__()
        self.found: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))

    def with_attr(self, name: str, value: str | None = None) -> list[tuple[str, dict[str, str]]]:
        return [(t, a) for t, a in self.found if name in a and (value is None or a[name] == value)]

    def inside(self, testid: str, tag: str) -> list[dict[str, str]]:
        """The ``tag`` elements after the element with ``data-testid=testid`` up to the next testid'd table or svg."""
        start = next(i for i, (_, a) in enumerate(self.found) if a.get("data-testid") == testid)
        out = []
        for t, a in self.found[start + 1:]:
            if t in ("table", "svg") and "data-testid" in a:
                break
            if t == tag:
                out.append(a)
        return out


def _page(views, path: str, **params) -> Elements:
    resp = views.get(path, **params)
    assert resp.status_code == 200, resp.text[:500]
    assert resp.headers["content-type"].startswith("text/html")
    return Elements(resp.text)


def test_the_overview_has_a_card_per_readable_profile(views):
    page = _page(views, "/")
    cards = {a["data-testid"]: a["data-state"] for _, a in page.with_attr("data-testid") if a["data-testid"].startswith("profile-card-")}
    assert cards == {"profile-card-acme": "healthy", "profile-card-globex": "failing", "profile-card-fresh": "never_run"}
    assert {a["data-task"] for a in page.inside("last-runs-acme", "tr") if "data-task" in a} == {
        "validate_profile", "download_subscriptions", "reconcile"}


def test_the_profile_page_has_every_related_list_with_downloads(views):
    page = _page(views, "/profiles/acme")
    for testid in ("models-table", "unrecognized-table", "subscriptions-table", "jobs-table", "exclusions-table",
                   "entitlements-table", "settings"):
        assert page.with_attr("data-testid", testid), testid
    assert {a["data-table"] for _, a in page.with_attr("data-testid", "export-csv")} == {"subscriptions", "jobs", "unrecognized"}
    assert [a["data-identifier"] for a in page.inside("unrecognized-table", "tr") if "data-identifier" in a] == [
        "zoom_phone", "cloud_recording:1tb"]


def test_the_subscriptions_list_filters_pages_and_its_download_keeps_the_filter(views):
    api = views.get("/api/profiles/acme/subscriptions", software_model="zoom_webinar_500", page_size=5, page=2).json()
    page = _page(views, "/profiles/acme", software_model="zoom_webinar_500", page_size=5, page=2)
    shown = [a["data-user-id"] for a in page.inside("subscriptions-table", "tr") if "data-user-id" in a]
    assert shown == [r["user_id"] for r in api["rows"]]
    csv_link = next(a["href"] for _, a in page.with_attr("data-testid", "export-csv") if a["data-table"] == "subscriptions")
    assert "software_model=zoom_webinar_500" in csv_link and "format=csv" in csv_link and "page=" not in csv_link
    assert views.client.get(csv_link, headers={"Authorization": f"Bearer {views.token('admin')}"}).status_code == 200
    assert page.with_attr("rel", "prev") and page.with_attr("rel", "next")


def test_the_usage_page_shows_the_position_and_its_three_charts(views):
    position = views.get("/api/profiles/acme/position").json()
    html = views.get("/profiles/acme/usage").text
    page = Elements(html)
    rows = {a["data-model"] for a in page.inside("position-table", "tr") if "data-model" in a}
    assert rows == {m["software_model"] for m in position["models"]}
    cells = {(m["software_model"], c): m[c] for m in position["models"]
             for c in ("purchased", "assigned", "used", "stale", "excluded", "reclaimable", "over_licensed", "true_up",
                       "potential_savings", "realised_savings")}
    for model in rows:
        row = re.search(rf'<tr data-model="{model}">(.*?)</tr>', html, re.S).group(1)
        for col, value in re.findall(r'data-col="(\w+)" data-value="([^"]+)"', row):
            if (model, col) in cells:
                assert float(value) == cells[(model, col)], (model, col)
    points = page.inside("chart-assigned-used", "circle")
    assert len(points) == 2 * len(position["history"])
    assert {(p["data-model"], p["data-series"], p["data-as-of"], float(p["data-value"])) for p in points} == {
        (h["software_model"], s, h["as_of"], h[s]) for h in position["history"] for s in ("assigned", "used")}
    bars = page.inside("chart-last-activity", "rect")
    assert {(b["data-model"], b["data-bucket"], float(b["data-value"])) for b in bars} == {
        (b["software_model"], b["bucket"], b["subscriptions"]) for b in position["last_activity"]}
    simulated = page.inside("chart-simulation", "circle")
    assert {(p["data-model"], int(p["data-threshold"]), float(p["data-value"])) for p in simulated} == {
        (s["software_model"], s["threshold_days"], s["stale"]) for s in position["simulation"]}


def test_the_usage_page_follows_the_chosen_as_of(views):
    page = _page(views, "/profiles/acme/usage", as_of=EARLIER.date().isoformat())
    assert {p["data-as-of"] for p in page.inside("chart-assigned-used", "circle")} == {EARLIER.isoformat()}
    assert [a["value"] for t, a in page.found if t == "option" and "selected" in a] == [EARLIER.date().isoformat()]


def test_the_candidates_page_lists_the_filtered_candidates_with_their_history(views):
    api = views.get("/api/profiles/acme/candidates", state="ready", as_of=AS_OF.date().isoformat()).json()
    html = views.get("/profiles/acme/candidates", state="ready", as_of=AS_OF.date().isoformat()).text
    page = Elements(html)
    shown = [int(a["data-candidate-id"]) for a in page.inside("candidates-table", "tr") if "data-candidate-id" in a]
    assert shown == [r["candidate_id"] for r in api["rows"]]
    acted = next(r for r in api["rows"] if r["actions"])
    assert page.with_attr("data-action-id", str(acted["actions"][0]["action_id"]))
    everything = Elements(views.get("/profiles/acme/candidates", page_size=500).text)
    assert len(everything.inside("candidates-table", "tr")) - 1 == views.get("/api/profiles/acme/candidates").json()["total"]
    assert "re-check: hosted a meeting at 09:00" in views.get("/profiles/acme/candidates", state="closed_canceled").text
    assert "approved by SAM manager (sam)" in views.get("/profiles/acme/candidates", page_size=500).text


def test_the_dag_tab_leads_to_the_profile_or_says_it_is_not_zoom_sam(views):
    resp = views.client.get("/zoom-sam/dags/zoom_sam__acme", follow_redirects=False,
                            headers={"Authorization": f"Bearer {views.token('admin')}"})
    assert resp.status_code == 303 and resp.headers["location"].endswith("/zoom-sam/profiles/acme")
    other = views.get("/dags/example_bash_operator")
    assert other.status_code == 404 and "example_bash_operator is not a zoom-sam DAG" in other.text


def test_a_never_run_profile_renders_empty(views):
    for path in ("/profiles/fresh", "/profiles/fresh/usage", "/profiles/fresh/candidates"):
        assert "nothing yet" in views.get(path).text or "no candidate" in views.get(path).text, path


def test_an_unknown_page_is_a_404_page(views):
    resp = views.get("/profiles/acme/nothing-here")
    assert resp.status_code == 404 and 'data-testid="error"' in resp.text


def test_an_invalid_parameter_is_a_422_page(views):
    resp = views.get("/profiles/acme", page_size=0)
    assert resp.status_code == 422 and resp.headers["content-type"].startswith("text/html")
    assert "page_size:" in resp.text


def test_the_static_files_ship_with_the_package(views):
    for name in ("zoom_sam.css", "zoom_sam.js"):
        assert views.client.get(f"/zoom-sam/static/{name}").status_code == 200
