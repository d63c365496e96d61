"""The JSON API gives what the warehouse holds, in the contract's shape, paged and filtered."""
from __future__ import annotations

from datetime import timedelta

from tests.reconcile.account import AS_OF, positions, table_rows
from tests.ui.world import EARLIER, airflow_db, views, warehouse  # noqa: F401  (fixtures)
from zoom_sam.warehouse.schema import removal_candidate, software_subscription, threshold_simulation

SEAT, WEBINAR = "zoom_meetings_licensed", "zoom_webinar_500"


def _all(views, path: str, **params) -> list[dict]:
    """Every row of a paged list, read page by page with a small page size."""
    rows, page = [], 1
    while True:
        answer = views.get(path, page=page, page_size=7, **params).json()
        rows += answer["rows"]
        if page * 7 >= answer["total"]:
            assert len(rows) == answer["total"]
            return rows
        page += 1


def test_profiles_give_state_last_runs_and_coverage(views):
    found = {p["alias"]: p for p in views.get("/api/profiles").json()["profiles"]}
    assert list(found) == ["acme", "fresh", "globex"]
    acme = found["acme"]
    assert (acme["state"], acme["dag_id"], acme["display_name"]) == ("healthy", "zoom_sam__acme", "Acme Corp")
    assert set(acme["last_runs"]) == {"validate_profile", "download_subscriptions", "reconcile"}
    last = acme["last_runs"]["reconcile"]
    assert last["run_id"] == "scheduled__2" and last["as_of"] == AS_OF.isoformat() and last["status"] == "success"
    assert {"finished_at", "duration_s", "counts", "api"} <= set(last)
    assert acme["coverage"] == {"from": (AS_OF.replace(month=8, day=20)).isoformat(), "to": AS_OF.isoformat()}
    assert acme["next_run"] is None  # the DAG was never parsed into this metadata database
    assert found["globex"]["state"] == "failing"
    assert found["globex"]["last_runs"]["reconcile"]["message"] == "ZoomError: boom"
    assert found["fresh"] == {"alias": "fresh", "display_name": "Fresh Corp", "dag_id": "zoom_sam__fresh",
                              "state": "never_run", "last_runs": {}, "coverage": None, "next_run": None}


def test_a_profile_gives_its_settings_and_recorded_lists(views):
    acme = views.get("/api/profiles/acme").json()
    assert acme["settings"]["warehouse_conn_id"] == "wh_acme" and acme["settings"]["alias"] == "acme"
    assert [m["software_model"] for m in acme["software_models"]] == [SEAT, WEBINAR]
    assert acme["exclusion_rules"] == [{"rule_index": 0, "kind": "user", "field": "email", "pattern": "svc-*@example.com"}]
    assert {e["software_model"]: e["purchased"] for e in acme["entitlements"]} == {SEAT: 30, WEBINAR: 5}
    fresh = views.get("/api/profiles/fresh").json()
    assert (fresh["software_models"], fresh["exclusion_rules"], fresh["entitlements"]) == ([], [], [])


def test_the_position_is_license_position_in_the_views_words(views):
    answer = views.get("/api/profiles/acme/position").json()
    assert answer["as_of"] == AS_OF.isoformat()
    assert answer["as_ofs"] == [AS_OF.isoformat(), EARLIER.isoformat()]
    assert answer["currency"] == "USD"
    stored = positions(views.engine)
    for model in answer["models"]:
        row = stored[model["software_model"]]
        basis = row["assigned"] - row["excluded"]
        assert model == {
            "software_model": row["software_model"], "purchased": row["purchased"], "assigned": row["assigned"],
            "used": row["active"], "stale": row["stale"], "excluded": row["excluded"], "reclaimable": row["reclaimable"],
            "over_licensed": max(row["purchased"] - basis, 0), "true_up": max(basis - row["purchased"], 0),
            "potential_savings": float(row["potential_savings"]), "realised_savings": float(row["actual_savings"]),
            "threshold_days": row["threshold_days"], "unit_cost": float(row["unit_cost"]), "currency": "USD",
            "over_licensed_cost": float(row["over_licensed_cost"]), "true_up_cost": float(row["true_up_cost"])}
    seat = next(m for m in answer["models"] if m["software_model"] == SEAT)
    assert seat["over_licensed_cost"] == seat["over_licensed"] * seat["unit_cost"]
    assert [(h["as_of"], h["software_model"]) for h in answer["history"]] == [
        (EARLIER.isoformat(), SEAT), (EARLIER.isoformat(), WEBINAR), (AS_OF.isoformat(), SEAT), (AS_OF.isoformat(), WEBINAR)]
    buckets = {(b["software_model"], b["bucket"]): b["subscriptions"] for b in answer["last_activity"]}
    assert buckets[(SEAT, "never")] == stored[SEAT]["dist_never"] and buckets[(SEAT, "0-30")] == stored[SEAT]["dist_0_30"]
    simulated = {(r["software_model"], r["threshold_days"]): r["candidates"] for r in table_rows(views.engine, threshold_simulation)
                 if r["as_of"] == AS_OF}
    assert {(s["software_model"], s["threshold_days"]): s["stale"] for s in answer["simulation"]} == simulated


def test_an_earlier_as_of_gives_that_position_and_history_up_to_it(views):
    answer = views.get("/api/profiles/acme/position", as_of=EARLIER.date().isoformat()).json()
    assert answer["as_of"] == EARLIER.isoformat()
    assert {m["software_model"]: m["used"] for m in answer["models"]} == {
        m: r["active"] for m, r in positions(views.engine, EARLIER).items()}
    assert {h["as_of"] for h in answer["history"]} == {EARLIER.isoformat()}
    empty = views.get("/api/profiles/acme/position", as_of="2020-01-01").json()
    assert (empty["models"], empty["simulation"], empty["as_ofs"][0]) == ([], [], AS_OF.isoformat())
    never = views.get("/api/profiles/fresh/position", as_of="2020-01-01").json()
    assert (never["as_of"], never["as_ofs"], never["models"]) == ("2020-01-01T00:00:00+00:00", [], [])


def test_candidates_carry_evidence_recheck_and_reclaim_history(views):
    rows = _all(views, "/api/profiles/acme/candidates")
    stored = table_rows(views.engine, removal_candidate)
    assert sorted(r["candidate_id"] for r in rows) == sorted(c["candidate_id"] for c in stored)
    assert [(r["evaluated_as_of"], r["candidate_id"]) for r in rows] == sorted(
        ((r["evaluated_as_of"], r["candidate_id"]) for r in rows), reverse=True)
    closed = next(r for r in rows if r["state"] == "closed_canceled")
    assert closed["recheck"]["close_reason"] == "re-check: hosted a meeting at 09:00" and closed["recheck"]["closed_at"]
    acted = next(r for r in rows if r["actions"])
    assert [(a["action"], a["status"], a["dry_run"], a["run_id"]) for a in acted["actions"]] == [
        ("downgrade_to_basic", "dry_run", True, "scheduled__2")]
    assert acted["recheck"] is None
    assert acted["approval"] == {"run_id": "scheduled__2", "decision": "approved", "by": "SAM manager (sam)",
                                 "at": (AS_OF + timedelta(minutes=50)).isoformat()}
    assert closed["approval"] is None
    assert all(isinstance(r["evidence"], dict) and r["evidence"]["reason"] == r["reason"] for r in rows)


def test_candidates_filter_by_state_model_reason_and_as_of(views):
    stored = table_rows(views.engine, removal_candidate)
    for params, keep in (({"state": "ready"}, lambda c: c["state"] == "ready"),
                         ({"software_model": WEBINAR}, lambda c: c["software_model"] == WEBINAR),
                         ({"reason": "never_hosted"}, lambda c: c["reason"] == "never_hosted"),
                         ({"as_of": EARLIER.date().isoformat()}, lambda c: c["evaluated_as_of"] == EARLIER),
                         ({"state": "ready", "software_model": SEAT, "as_of": AS_OF.isoformat()},
                          lambda c: c["state"] == "ready" and c["software_model"] == SEAT and c["evaluated_as_of"] == AS_OF)):
        found = sorted(r["candidate_id"] for r in _all(views, "/api/profiles/acme/candidates", **params))
        assert found == sorted(c["candidate_id"] for c in stored if keep(c)), params


def test_subscriptions_search_filter_and_page(views):
    stored = table_rows(views.engine, software_subscription)
    rows = _all(views, "/api/profiles/acme/subscriptions")
    assert [(r["email"], r["identifier"]) for r in rows] == sorted((s["email"], s["identifier"]) for s in stored)
    assert {type(r["active"]) for r in rows} == {bool}

    def ids(**params):
        return sorted((r["user_id"], r["identifier"]) for r in _all(views, "/api/profiles/acme/subscriptions", **params))

    assert ids(q="H1") == sorted((s["user_id"], s["identifier"]) for s in stored if "h1" in s["user_id"])
    assert ids(q="%") == [] and ids(q="_") == []  # wildcards are searched for, not used
    assert ids(software_model=WEBINAR) == sorted((s["user_id"], s["identifier"]) for s in stored
                                                 if s["software_model"] == WEBINAR)
    assert ids(state="active") == sorted((s["user_id"], s["identifier"]) for s in stored if s["active"])
    assert ids(state="ended") == sorted((s["user_id"], s["identifier"]) for s in stored if not s["active"])
    cut = AS_OF.replace(day=1)
    assert ids(last_activity_before=cut.date().isoformat()) == sorted(
        (s["user_id"], s["identifier"]) for s in stored if s["last_activity_at"] is None or s["last_activity_at"] < cut)


def test_paging_counts_every_row_and_a_page_past_the_end_is_empty(views):
    first = views.get("/api/profiles/acme/subscriptions").json()
    assert (first["page"], first["page_size"], len(first["rows"])) == (1, 50, first["total"])
    beyond = views.get("/api/profiles/acme/subscriptions", page=99, page_size=10).json()
    assert (beyond["total"], beyond["page"], beyond["rows"]) == (first["total"], 99, [])
    assert len(views.get("/api/profiles/acme/subscriptions", page_size=500).json()["rows"]) == first["total"]


def test_unrecognized_identifiers_with_their_counts(views):
    rows = views.get("/api/profiles/acme/unrecognized").json()["rows"]
    assert [(r["identifier"], r["subscriptions"]) for r in rows] == [("zoom_phone", 7), ("cloud_recording:1tb", 2)]
    assert views.get("/api/profiles/fresh/unrecognized").json() == {"rows": []}


def test_jobs_newest_first_paged(views):
    answer = views.get("/api/profiles/acme/jobs", page_size=2).json()
    assert answer["total"] == 6 and [r["task_id"] for r in answer["rows"]] == ["reconcile", "download_subscriptions"]
    rows = _all(views, "/api/profiles/acme/jobs")
    assert [r["started_at"] for r in rows] == sorted((r["started_at"] for r in rows), reverse=True)
    assert rows[0]["counts"]["api_budget"]["ratio"] == 1.0


def test_invalid_parameters_are_422_naming_the_parameter(views):
    for path, params, name in (("subscriptions", {"page_size": 501}, "page_size"), ("subscriptions", {"page": 0}, "page"),
                               ("jobs", {"page_size": "many"}, "page_size"), ("subscriptions", {"state": "gone"}, "state"),
                               ("candidates", {"state": "open"}, "state"), ("candidates", {"reason": "idle"}, "reason"),
                               ("candidates", {"as_of": "yesterday"}, "as_of"), ("position", {"as_of": "2026-13-01"}, "as_of"),
                               ("subscriptions", {"last_activity_before": "soon"}, "last_activity_before"),
                               ("jobs", {"format": "pdf"}, "format")):
        resp = views.get(f"/api/profiles/acme/{path}", **params)
        assert resp.status_code == 422, (path, params)
        assert resp.json()["detail"].startswith(f"{name}:"), resp.json()
