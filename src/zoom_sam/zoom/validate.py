"""Validate a Zoom connection the way ServiceNow's "Validate Connection" does.

Read-only: obtain a token, list users (one small page), read one user's settings (a licensed user
when the page has one), list that user's previous meetings and webinars. No write endpoint is
called, so reclaim is judged from the token's granted scopes only.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from zoom_sam.vocabulary import ZoomCode
from zoom_sam.zoom import scopes as sc
from zoom_sam.zoom.client import ZoomClient, user_segment
from zoom_sam.zoom.errors import ZoomApiError, ZoomError, ZoomMissingScopes

OK, FAILED, SKIPPED = "ok", "failed", "skipped"

# which checks prove which process works
_PROCESS_CHECKS = {
    sc.DOWNLOAD_SUBSCRIPTIONS: ("list_users", "get_user_settings"),
    sc.PULL_ACTIVITY: ("list_meetings", "list_webinars"),
}
#: processes test_connection() requires by default (what ServiceNow validates)
DEFAULT_REQUIRED = (sc.DOWNLOAD_SUBSCRIPTIONS, sc.PULL_ACTIVITY)


@dataclass
class Check:
    name: str
    outcome: str  # ok | failed | skipped
    detail: str = ""
    status: int | None = None
    code: int | None = None
    missing_scopes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.outcome == OK

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "outcome": self.outcome, "detail": self.detail, "status": self.status,
                "code": self.code, "missing_scopes": list(self.missing_scopes)}


@dataclass
class ValidationReport:
    token_ok: bool
    checks: list[Check] = field(default_factory=list)
    granted_scopes: frozenset[str] = frozenset()
    allowed: dict[str, bool] = field(default_factory=dict)          # process -> allowed
    missing_scopes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # process -> missing
    optional_scopes: dict[str, bool] = field(default_factory=dict)  # optional scope -> granted
    required: tuple[str, ...] = DEFAULT_REQUIRED

    @property
    def allowed_processes(self) -> tuple[str, ...]:
        return tuple(p for p in sc.PROCESSES if self.allowed.get(p))

    @property
    def ok(self) -> bool:
        """Token works and every required process is allowed."""
        return self.token_ok and all(self.allowed.get(p) for p in self.required)

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "token_ok": self.token_ok,
            "checks": [c.to_dict() for c in self.checks],
            "granted_scopes": sorted(self.granted_scopes),
            "allowed": dict(self.allowed),
            "missing_scopes": {p: list(s) for p, s in self.missing_scopes.items()},
            "optional_scopes": dict(self.optional_scopes),
        }

    def summary(self) -> str:
        failed = [c for c in self.checks if c.outcome == FAILED]
        parts = []
        if not self.token_ok:
            tok = self.check("token")
            return f"Zoom connection failed: could not obtain an access token: {tok.detail if tok else '?'}"
        if failed:
            parts.append("; ".join(f"{c.name} failed: {c.detail}" for c in failed))
        allowed = ", ".join(self.allowed_processes) or "none"
        parts.append(f"processes allowed: {allowed}")
        if self.missing_scopes:
            blocked = "; ".join(f"{p} blocked, missing {', '.join(s)}" for p, s in self.missing_scopes.items())
            parts.append(blocked)
        head = "Zoom connection OK" if self.ok else "Zoom connection failed"
        passed = [c.name for c in self.checks if c.ok]
        if self.ok:
            head += f" ({', '.join(passed)})"
        return f"{head}: " + ". ".join(parts)


def _check(name: str, fn: Callable[[], str]) -> Check:
    try:
        return Check(name, OK, fn() or "")
    except ZoomMissingScopes as exc:
        return Check(name, FAILED, str(exc), exc.status, exc.code, exc.missing)
    except ZoomApiError as exc:
        return Check(name, FAILED, str(exc), exc.status, exc.code)
    except ZoomError as exc:
        return Check(name, FAILED, str(exc))


def validate_client(client: ZoomClient, *, required: tuple[str, ...] = DEFAULT_REQUIRED) -> ValidationReport:
    """Run the read-only checks against ``client`` (a ZoomClient) and judge the three processes."""
    report = ValidationReport(token_ok=False, required=tuple(required))
    holder: dict[str, Any] = {}

    def token() -> str:
        tok = client.token()
        holder["scopes"] = tok.scopes
        return f"{len(tok.scopes)} scopes granted"

    tcheck = _check("token", token)
    report.checks.append(tcheck)
    if not tcheck.ok:
        report.allowed = {p: False for p in sc.PROCESSES}
        return report
    report.token_ok = True
    granted = frozenset(holder.get("scopes") or ())
    report.granted_scopes = granted
    report.optional_scopes = {s: sc.has_scope(granted, s) for s in sc.OPTIONAL_SCOPES}

    def list_users() -> str:
        data = client.request("GET", "/users", params={"status": "active", "page_size": 30}) or {}
        users = [u for u in data.get("users") or [] if u.get("id")]
        licensed = [u for u in users if u.get("type") == 2]
        holder["user"] = (licensed or users or [None])[0]
        total = data.get("total_records")
        return f"{total if total is not None else len(users)} active users"

    report.checks.append(_check("list_users", list_users))
    user = holder.get("user")
    uid = user.get("id") if user else None

    def settings() -> str:
        client.get_user_settings(uid)
        return "read settings of one user"

    def meetings() -> str:
        client.request("GET", f"/users/{user_segment(uid)}/meetings",
                       params={"type": "previous_meetings", "page_size": 1})
        return "listed previous meetings of one user"

    def webinars() -> str:
        try:
            client.request("GET", f"/users/{user_segment(uid)}/webinars", params={"type": "scheduled", "page_size": 1})
        except ZoomApiError as exc:
            # "no webinar plan" proves the scope works; the account just has no webinars
            if exc.status == 400 and exc.code == ZoomCode.NO_WEBINAR_PLAN:
                return f"endpoint authorized; user has no webinar plan ({exc.message})"
            raise
        return "listed webinars of one user"

    for name, fn in (("get_user_settings", settings), ("list_meetings", meetings), ("list_webinars", webinars)):
        if uid is None:
            why = "no active user to test with" if report.check("list_users").ok else "listing users failed"
            report.checks.append(Check(name, SKIPPED, why))
        else:
            report.checks.append(_check(name, fn))

    scope_missing = sc.missing_by_process(granted)
    for process in sc.PROCESSES:
        checks = [report.check(n) for n in _PROCESS_CHECKS.get(process, ())]
        if process == sc.RECLAIM:
            allowed = process not in scope_missing
            missing = scope_missing.get(process, ())
        elif any(c.outcome == FAILED for c in checks):
            allowed = False
            from_errors = tuple(s for c in checks for s in c.missing_scopes)
            missing = tuple(dict.fromkeys(from_errors + scope_missing.get(process, ())))
            if not from_errors and not scope_missing.get(process):
                missing = ()
        elif all(c.ok for c in checks):
            allowed = True  # the calls worked: trust them over the scope string
            missing = ()
        else:  # skipped (empty account): judge from scopes
            allowed = process not in scope_missing
            missing = scope_missing.get(process, ())
        report.allowed[process] = allowed
        if missing:
            report.missing_scopes[process] = tuple(missing)
    return report
