"""The query parameters of the views, validated once for the API and the pages.

FastAPI answers a parameter that does not validate with 422 and the parameter's name
(``app.py`` renders the same for a page). The allowed words come from the vocabulary, so a filter
can only name a state or reason the warehouse can hold.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from enum import StrEnum
from typing import Annotated, Literal

from fastapi import Depends, Query

from zoom_sam.profile_limits import MODEL_KEY_MAX
from zoom_sam.ui.queries import CandidateFilter, Paging, SubscriptionFilter
from zoom_sam.vocabulary import CandidateState, Reason

PAGE_SIZE = 50
PAGE_SIZE_MAX = 500

CandidateStateWord = StrEnum("CandidateStateWord", {s.name: s.value for s in CandidateState})
ReasonWord = StrEnum("ReasonWord", {r.name: r.value for r in Reason})
Format = Literal["json", "csv", "xlsx"]


def utc(moment: datetime | date | None) -> datetime | None:
    """A date or datetime given in a URL as aware UTC; a date is its midnight, a naive time is UTC."""
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time())
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def paging(
    page: Annotated[int, Query(ge=1, description="page number, from 1")] = 1,
    page_size: Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX, description=f"rows per page, 1 to {PAGE_SIZE_MAX}")] = PAGE_SIZE,
) -> Paging:
    return Paging(page, page_size)


Paged = Annotated[Paging, Depends(paging)]


@dataclass(frozen=True)
class Listing:
    """Which rows a table request wants and in which format; an export wants every row."""

    asked: Paging
    format: Format

    @property
    def paging(self) -> Paging:
        return self.asked if self.format == "json" else Paging(size=None)


def listing(
    asked: Paged,
    format: Annotated[Format, Query(description="json (one page), csv or xlsx (every row of the filter)")] = "json",
) -> Listing:
    return Listing(asked, format)


def as_of_param(
    as_of: Annotated[datetime | date | None, Query(description="an as-of (ISO date or time, UTC)")] = None,
) -> datetime | None:
    return utc(as_of)


Model = Annotated[str, Query(max_length=MODEL_KEY_MAX, description="a software model key")]


def subscription_filter(
    q: Annotated[str, Query(max_length=320, description="part of the email or user id")] = "",
    software_model: Model = "",
    state: Annotated[Literal["active", "ended", ""], Query(description="active or ended")] = "",
    last_activity_before: Annotated[datetime | date | None, Query(description="last hosted before (ISO date)")] = None,
) -> SubscriptionFilter:
    return SubscriptionFilter(q, software_model, state, utc(last_activity_before))


def candidate_filter(
    as_of: Annotated[datetime | None, Depends(as_of_param)],
    state: Annotated[CandidateStateWord | Literal[""], Query(description="a candidate state")] = "",
    software_model: Model = "",
    reason: Annotated[ReasonWord | Literal[""], Query(description="a candidate reason")] = "",
) -> CandidateFilter:
    return CandidateFilter(str(state), software_model, str(reason), as_of)


Table = Annotated[Listing, Depends(listing)]
AsOf = Annotated[datetime | None, Depends(as_of_param)]
Subscriptions = Annotated[SubscriptionFilter, Depends(subscription_filter)]
Candidates = Annotated[CandidateFilter, Depends(candidate_filter)]
