"""The Zoom REST endpoints the project uses, one function each, with Zoom's validation, paging
and error codes. Authentication, rate limits and scopes are checked before these run (api.py)."""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .account import STATUSES, Account
from .errors import ZoomError, invalid_body, invalid_field, refusal, webinar_plan_missing
from .generator import DAY, Instance, Profile
from .messages import Request, Response
from .paging import PageTokens, envelope, page_size

MEETING_TYPES = ("scheduled", "live", "upcoming", "upcoming_meetings", "previous_meetings")
WEBINAR_TYPES = ("scheduled", "upcoming")
USER_TYPES = (1, 2, 4)  # what PATCH may set; 99 only comes from SSO provisioning
WEBINAR_CAPACITIES = (100, 500, 501, 1000, 1001, 3000, 5000, 10000)
LARGE_MEETING_CAPACITIES = (500, 1000)
PROFILE_FIELDS = ("first_name", "last_name", "dept", "timezone")
REPORT_MAX_DAYS = 31


@dataclass
class Context:
    request: Request
    account: Account
    pages: PageTokens
    user_ref: str | None
    ignore_window: bool  # the ignore_window fault fired on this request

    @property
    def query(self) -> dict:
        return self.request.query

    def user(self) -> Profile:
        return self.account.resolve(self.user_ref)

    def fingerprint(self, *scope) -> bytes:
        return self.pages.fingerprint(":".join([self.account.account_id, *map(str, scope)]), self.request.path, self.query)


def _page_number(ctx: Context) -> int:
    """The deprecated ``page_number`` paging, still accepted by Zoom (1 when absent)."""
    raw = ctx.query.get("page_number") or "1"
    if not raw.isdigit() or int(raw) < 1:
        raise invalid_field("page_number")
    return int(raw)


def _offset_page(ctx: Context, fingerprint: bytes) -> tuple[int, int, int]:
    """(offset, page size, page number) of an offset-paged listing."""
    size = page_size(ctx.query)
    token = ctx.query.get("next_page_token")
    if token:
        offset, page = ctx.pages.read(token, fingerprint)
    else:
        page = _page_number(ctx)
        offset = (page - 1) * size
    return offset, size, page


def _next_token(ctx: Context, fingerprint: bytes, end: int, total: int, page: int) -> str:
    return ctx.pages.issue(fingerprint, end, page + 1) if end < total else ""


def _date(ctx: Context, name: str, required: bool = False) -> date | None:
    raw = ctx.query.get(name)
    if not raw:
        if required:
            raise invalid_field(name)
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise invalid_field(name) from None


def _ts(day: date) -> int:
    return (day - date(1970, 1, 1)).days * DAY


def _dates_zone(ctx: Context, p: Profile) -> ZoneInfo | None:
    """The timezone ``from``/``to`` are read in; None for UTC days."""
    if not ctx.account.config.dates_in_user_timezone:
        return None
    name = ctx.query.get("timezone") or p.timezone
    try:
        return ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        if ctx.query.get("timezone"):
            raise invalid_field("timezone") from None
        return None


def _midnight(day: date, zone: ZoneInfo | None) -> int:
    """Epoch seconds of the start of ``day`` in ``zone`` (UTC when None)."""
    if zone is None:
        return _ts(day)
    return int(datetime.combine(day, time(), tzinfo=zone).timestamp())


def _check_refusal(p: Profile, endpoint: str) -> None:
    if p.refusal is not None:
        raise refusal(endpoint, p.refusal[0], p.uid if p.status != "pending" else p.email, p.refusal[1])


# --- users --------------------------------------------------------------------------------------


def list_users(ctx: Context) -> Response:
    status = ctx.query.get("status") or "active"
    if status not in STATUSES:
        raise invalid_field("status")
    size = page_size(ctx.query)
    fp = ctx.fingerprint()
    token = ctx.query.get("next_page_token")
    if token:
        after, page = ctx.pages.read(token, fp)
        profiles, total = ctx.account.page_of_users(status, size + 1, after=after)
    else:
        page = _page_number(ctx)
        profiles, total = ctx.account.page_of_users(status, size + 1, offset=(page - 1) * size)
    more = len(profiles) > size
    profiles = profiles[:size]
    next_token = ctx.pages.issue(fp, profiles[-1].index, page + 1) if more else ""
    body = envelope(total, size, page, next_token)
    body["users"] = [ctx.account.user_object(p) for p in profiles]
    return Response(200, body)


def get_user(ctx: Context) -> Response:
    return Response(200, ctx.account.user_object(ctx.user(), detail=True))


def get_settings(ctx: Context) -> Response:
    return Response(200, ctx.account.settings_object(ctx.user()))


def patch_user(ctx: Context) -> Response:
    p = ctx.user()
    body = ctx.request.json()
    _check_refusal(p, "user")
    if "type" in body and ("plan_united_type" in body or "zoom_one_type" in body):
        raise ZoomError(400, 300, 'You can\'t change the "type" or "plan_united_type" or "zoom_one_type" at the same time.')
    if "type" in body:
        if body["type"] not in USER_TYPES or isinstance(body["type"], bool):
            raise invalid_field("type")
        ctx.account.set_user_type(p.email, body["type"])
    changes = {k: body[k] for k in PROFILE_FIELDS if k in body}
    for name, value in changes.items():
        if not isinstance(value, str):
            raise invalid_field(name)
    if changes:
        ctx.account.update_profile(p.email, changes)
    return Response(204)


def patch_settings(ctx: Context) -> Response:
    p = ctx.user()
    body = ctx.request.json()
    _check_refusal(p, "settings")
    feature = body.get("feature", {})
    if not isinstance(feature, dict) or any(not isinstance(v, dict) for v in body.values()):
        raise invalid_body()
    _validate_feature(p, feature)
    ctx.account.patch_settings(p, body)
    return Response(204)


def _validate_feature(p: Profile, feature: dict) -> None:
    """Zoom's licence rules for add-ons (PATCH /users/{userId}/settings, S1 error list)."""
    for name in ("webinar", "large_meeting", "zoom_events", "zoom_phone"):
        if name in feature and not isinstance(feature[name], bool):
            raise invalid_field(f"feature.{name}")
    for name, allowed in (("webinar_capacity", WEBINAR_CAPACITIES), ("large_meeting_capacity", LARGE_MEETING_CAPACITIES)):
        if name in feature and feature[name] not in allowed:
            raise invalid_field(f"feature.{name}")
    licensed = p.type == 2
    webinar_after = feature.get("webinar", p.feature.get("webinar"))
    events_after = feature.get("zoom_events", p.feature.get("zoom_events"))
    if feature.get("webinar"):
        if not licensed:
            raise ZoomError(400, 1122, "Webinar feature can only be enabled for Licensed or On-prem users.")
        if events_after:
            raise ZoomError(400, 1204, "You can't enable the Webinar feature because you already have the Zoom Events feature.")
    if feature.get("large_meeting") and not licensed:
        raise ZoomError(400, 1108, "Only Licensed or On-prem users can enable the large meeting feature.")
    if feature.get("zoom_events"):
        if not licensed:
            raise ZoomError(400, 1206, "You can only enable the Zoom Events feature for Licensed or On-prem users.")
        if webinar_after:
            raise ZoomError(400, 1205, "You can't enable the Zoom Events feature because you already have the Webinar feature.")


def delete_user(ctx: Context) -> Response:
    p = ctx.user()
    action = ctx.query.get("action") or "disassociate"
    if action not in ("disassociate", "delete"):
        raise invalid_field("action")
    _check_refusal(p, "delete")
    if p.status == "pending" and action == "delete":
        raise ZoomError(400, 300, "To delete a pending user in the account, use the disassociate action.")
    ctx.account.delete_user(p.email)
    return Response(204)


# --- activity -----------------------------------------------------------------------------------


def _instances_page(ctx: Context, p: Profile, found: list[Instance], key: str) -> Response:
    fp = ctx.fingerprint(p.index)
    offset, size, page = _offset_page(ctx, fp)
    end = offset + size
    body = envelope(len(found), size, page, _next_token(ctx, fp, end, len(found), page))
    body[key] = [ctx.account.instance_object(p, i) for i in found[offset:end]]
    return Response(200, body)


def list_meetings(ctx: Context) -> Response:
    """``from``/``to`` are dates, both inclusive; they bound when an instance started. They are
    UTC days unless the account reads them as Zoom does (``AccountConfig.dates_in_user_timezone``):
    days in the ``timezone`` parameter, else in the user's own timezone."""
    p = ctx.user()
    kind = ctx.query.get("type") or "live"
    if kind not in MEETING_TYPES:
        raise invalid_field("type")
    first, last = _date(ctx, "from"), _date(ctx, "to")
    zone = _dates_zone(ctx, p)
    lo = _midnight(first, zone) if first and not ctx.ignore_window else None
    hi = _midnight(last + timedelta(days=1), zone) if last and not ctx.ignore_window else None
    now = ctx.account.clock.time()
    found = ctx.account.listing(p, False, lo, hi)
    if kind == "previous_meetings":
        found = [i for i in found if i.end <= now]
    elif kind == "live":
        found = [i for i in found if i.start <= now < i.end]
    elif kind in ("upcoming", "upcoming_meetings"):
        found = [i for i in found if i.end > now]
    return _instances_page(ctx, p, found, "meetings")


def list_webinars(ctx: Context) -> Response:
    """Sandbox simplification: Zoom lists only unexpired webinars here, the sandbox also lists the
    past ones of its generated history (``scheduled``), which is where the project reads webinar
    hosting from. Without the Webinar add-on the call fails as on Zoom (400, code 200)."""
    p = ctx.user()
    kind = ctx.query.get("type") or "scheduled"
    if kind not in WEBINAR_TYPES:
        raise invalid_field("type")
    if not p.feature.get("webinar"):
        raise webinar_plan_missing()
    found = ctx.account.listing(p, True, None, None)
    if kind == "upcoming":
        now = ctx.account.clock.time()
        found = [i for i in found if i.end > now]
    return _instances_page(ctx, p, found, "webinars")


# --- reports ------------------------------------------------------------------------------------


def report_users(ctx: Context) -> Response:
    """Active/inactive hosts. The window is at most a month (read as 31 days) and must start
    within the last six months of the sandbox's today, as Zoom requires."""
    kind = ctx.query.get("type") or "active"
    if kind not in ("active", "inactive"):
        raise invalid_field("type")
    first, last = _date(ctx, "from", required=True), _date(ctx, "to", required=True)
    today = ctx.account.clock.now().date()
    if last < first:
        raise ZoomError(400, 300, "The 'to' date must not be earlier than the 'from' date.")
    if (last - first).days > REPORT_MAX_DAYS or first < _six_months_before(today):
        raise ZoomError(
            400, 300, "The date range is limited to one month and must fall within the last six months."
        )
    hosts, idle = ctx.account.host_report(first, last)
    rows = hosts if kind == "active" else [(i, 0, 0, 0) for i in idle]
    fp = ctx.fingerprint()
    offset, size, page = _offset_page(ctx, fp)
    end = offset + size
    body = {"from": first.isoformat(), "to": last.isoformat()}
    body.update(envelope(len(rows), size, page, _next_token(ctx, fp, end, len(rows), page)))
    body.update(
        total_meetings=sum(r[1] for r in rows),
        total_meeting_minutes=sum(r[2] for r in rows),
        total_participants=sum(r[3] for r in rows),
    )
    users = []
    for index, meetings, minutes, participants in rows[offset:end]:
        p = ctx.account.profile_at(index)
        if p is None:
            continue
        users.append(
            {
                "id": p.uid,
                "email": p.email,
                "user_name": f"{p.first_name} {p.last_name}",
                "dept": p.dept,
                "type": p.type,
                "meetings": meetings,
                "meeting_minutes": minutes,
                "participants": participants,
            }
        )
    body["users"] = users
    return Response(200, body)


def _six_months_before(today: date) -> date:
    year, month = divmod(today.year * 12 + today.month - 1 - 6, 12)
    return date(year, month + 1, min(today.day, calendar.monthrange(year, month + 1)[1]))
