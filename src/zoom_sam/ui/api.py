"""The JSON API under ``/zoom-sam/api/``: GET only, each route one answer of ``answers.py``.

Every table route also answers ``?format=csv`` and ``?format=xlsx`` with every row of its filter.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from zoom_sam.ui import answers
from zoom_sam.ui.access import ReadableProfile, ReadableProfiles
from zoom_sam.ui.exports import export
from zoom_sam.ui.params import AsOf, Candidates, Subscriptions, Table

router = APIRouter(prefix="/api")


def _table(answer: dict[str, Any], table: Table, filename: str):
    return answer if table.format == "json" else export(answer["rows"], table.format, filename)


@router.get("/profiles", name="api_profiles")
def profiles(readable: ReadableProfiles) -> dict[str, Any]:
    return {"profiles": answers.profile_summaries(readable)}


@router.get("/profiles/{alias}", name="api_profile")
def profile(profile: ReadableProfile) -> dict[str, Any]:
    return answers.profile_detail(profile)


@router.get("/profiles/{alias}/position", name="api_position")
def position(profile: ReadableProfile, as_of: AsOf, table: Table):
    answer = answers.position(profile, as_of)
    if table.format == "json":
        return answer
    return export(answer["models"], table.format, f"{profile.alias}-position-{(answer['as_of'] or '')[:10]}")


@router.get("/profiles/{alias}/candidates", name="api_candidates")
def candidates(profile: ReadableProfile, where: Candidates, table: Table):
    return _table(answers.candidates(profile, where, table.paging), table, f"{profile.alias}-candidates")


@router.get("/profiles/{alias}/subscriptions", name="api_subscriptions")
def subscriptions(profile: ReadableProfile, where: Subscriptions, table: Table):
    return _table(answers.subscriptions(profile, where, table.paging), table, f"{profile.alias}-subscriptions")


@router.get("/profiles/{alias}/unrecognized", name="api_unrecognized")
def unrecognized(profile: ReadableProfile, table: Table):
    return _table(answers.unrecognized(profile), table, f"{profile.alias}-unrecognized")


@router.get("/profiles/{alias}/jobs", name="api_jobs")
def jobs(profile: ReadableProfile, table: Table):
    return _table(answers.jobs(profile, table.paging), table, f"{profile.alias}-jobs")
