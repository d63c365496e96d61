"""The HTML pages: each renders the same answer the JSON API gives, plus links and charts.

Tables link to the API's CSV and Excel exports with the page's own filters, so a download holds
exactly what the page lists (all of it, not only the page shown).
"""
from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from zoom_sam.ui import answers
from zoom_sam.ui.access import ReadableProfile, ReadableProfiles, User
from zoom_sam.ui.catalog import all_profiles
from zoom_sam.ui.charts import usage_charts
from zoom_sam.ui.connect import connection_panel
from zoom_sam.ui.params import PAGE_SIZE, AsOf, Candidates, Paged, Subscriptions
from zoom_sam.ui.queries import Paging
from zoom_sam.ui.rendering import render
from zoom_sam.vocabulary import CandidateState, Reason

router = APIRouter()

def downloads(request: Request, route: str, alias: str, **filters: Any) -> dict[str, str]:
    """format -> the URL of the API route ``route`` exporting the table with these filters."""
    base = str(request.url_for(route, alias=alias))
    given = {k: v for k, v in filters.items() if v not in (None, "")}
    return {fmt: f"{base}?{urlencode({**given, 'format': fmt})}" for fmt in ("csv", "xlsx")}


def pager(request: Request, answer: dict[str, Any], param: str = "page") -> dict[str, Any]:
    """Previous and next links of a paged table (the request's other parameters kept)."""
    pages = max(-(-answer["total"] // answer["page_size"]), 1)

    def link(number: int) -> str | None:
        return str(request.url.include_query_params(**{param: number})) if 1 <= number <= pages else None

    return {"page": answer["page"], "pages": pages, "total": answer["total"],
            "previous": link(answer["page"] - 1), "next": link(answer["page"] + 1)}


@router.get("/", name="overview")
def overview(request: Request, readable: ReadableProfiles) -> Response:
    return render(request, "overview.html", {"profiles": answers.profile_summaries(readable)})


@router.get("/dags/{dag_id}", name="dag_tab")
def dag_tab(request: Request, dag_id: str, user: User) -> Response:
    """The tab Airflow shows on every DAG: the profile's page for zoom-sam DAGs, a plain no otherwise."""
    owner = next((p for p in all_profiles() if p.dag_id == dag_id), None)
    if owner is not None:
        return RedirectResponse(request.url_for("profile_page", alias=owner.alias), status_code=303)
    return render(request, "error.html", {"status": 404, "login_url": None,
                                          "message": f"{dag_id} is not a zoom-sam DAG: zoom-sam's views cover the "
                                                     "zoom_sam__<alias> DAGs of its profiles."}, status_code=404)


@router.get("/profiles/{alias}", name="profile_page")
def profile_page(request: Request, profile: ReadableProfile, user: User, where: Subscriptions, paging: Paged,
                 jobs_page: Annotated[int, Query(ge=1)] = 1) -> Response:
    subscriptions = answers.subscriptions(profile, where, paging)
    jobs = answers.jobs(profile, Paging(jobs_page, PAGE_SIZE))
    alias = profile.alias
    return render(request, "profile.html", {
        "profile": answers.profile_detail(profile), "where": where,
        "connection": connection_panel(request, profile, user),
        "unrecognized": answers.unrecognized(profile)["rows"],
        "subscriptions": subscriptions, "subscriptions_pager": pager(request, subscriptions),
        "jobs": jobs, "jobs_pager": pager(request, jobs, "jobs_page"),
        "downloads": {
            "subscriptions": downloads(request, "api_subscriptions", alias, q=where.q,
                                       software_model=where.software_model, state=where.state,
                                       last_activity_before=request.query_params.get("last_activity_before")),
            "jobs": downloads(request, "api_jobs", alias),
            "unrecognized": downloads(request, "api_unrecognized", alias),
        },
    })


@router.get("/profiles/{alias}/usage", name="usage_page")
def usage_page(request: Request, profile: ReadableProfile, as_of: AsOf) -> Response:
    position = answers.position(profile, as_of)
    return render(request, "usage.html", {
        "profile": profile, "position": position, "charts": usage_charts(position),
        "downloads": downloads(request, "api_position", profile.alias, as_of=position["as_of"]),
    })


@router.get("/profiles/{alias}/candidates", name="candidates_page")
def candidates_page(request: Request, profile: ReadableProfile, where: Candidates, paging: Paged) -> Response:
    found = answers.candidates(profile, where, paging)
    return render(request, "candidates.html", {
        "profile": profile, "where": where, "candidates": found, "pager": pager(request, found),
        "states": [s.value for s in CandidateState], "reasons": [r.value for r in Reason],
        **answers.candidate_choices(profile),
        "downloads": downloads(request, "api_candidates", profile.alias, state=where.state,
                               software_model=where.software_model, reason=where.reason,
                               as_of=request.query_params.get("as_of")),
    })
