"""Configuration of a sandbox: which accounts it hosts and how hostile it is.

Plain frozen dataclasses so a configuration can be built in a test, from the CLI or from JSON
without importing the server.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from typing import Mapping

# The seven scopes of the product description's minimal-permissions table: what a customer grants
# by default. user:read:user:admin and report:read:list_users:admin are deliberately absent, so
# the project proves it works without the optional endpoints.
DEFAULT_SCOPES: tuple[str, ...] = (
    "user:read:list_users:admin",
    "user:read:settings:admin",
    "meeting:read:list_meetings:admin",
    "webinar:read:list_webinars:admin",
    "user:update:settings:admin",
    "user:update:user:admin",
    "user:delete:user:admin",
)

CATEGORIES = ("Light", "Medium", "Heavy")

# Per-second limits per account and category (Zoom's rate-limits page); Business, Education and
# Enterprise share the Business+ column.
PLAN_LIMITS: dict[str, dict[str, int]] = {
    "pro": {"Light": 30, "Medium": 20, "Heavy": 10},
    "business": {"Light": 80, "Medium": 60, "Heavy": 40},
    "education": {"Light": 80, "Medium": 60, "Heavy": 40},
    "enterprise": {"Light": 80, "Medium": 60, "Heavy": 40},
}
# Heavy requests per day (shared with Resource-intensive at Zoom, which the sandbox does not serve).
PLAN_HEAVY_DAILY: dict[str, int] = {"pro": 30_000, "business": 60_000, "education": 60_000, "enterprise": 60_000}

RETRY_AFTER_MODES = ("iso", "seconds", "absent")


def _today_utc() -> datetime:
    return datetime.combine(datetime.now(timezone.utc).date(), time(), tzinfo=timezone.utc)


def as_utc(value: datetime | date) -> datetime:
    """Dates mean midnight UTC and naive datetimes are UTC: the sandbox has no local time."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time(), tzinfo=timezone.utc)
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


@dataclass(frozen=True)
class AccountConfig:
    """One Zoom account and the app (client) installed in it.

    Several accounts may name the same ``client_id`` (with the same secret): one admin-managed
    app installed by several Zoom accounts, each admin authorizing it for their own account.

    ``rate_limits`` overrides the plan's per-second limits per category and
    ``heavy_daily_limit`` the plan's daily Heavy budget; both exist so tests can reach a limit
    with a handful of requests. ``dates_in_user_timezone`` makes the meetings listing read its
    ``from``/``to`` dates as Zoom does, in the ``timezone`` parameter or else the user's timezone
    (off: UTC days, which the older suites assume).
    """

    account_id: str = "sandbox-account"
    client_id: str = "sandbox-client"
    client_secret: str = "sandbox-secret"
    users: int = 500
    seed: int = 7
    plan: str = "business"
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    history_days: int = 400
    rate_limits: Mapping[str, int] | None = None
    heavy_daily_limit: int | None = None
    dates_in_user_timezone: bool = False

    def __post_init__(self) -> None:
        if self.plan not in PLAN_LIMITS:
            raise ValueError(f"plan must be one of {sorted(PLAN_LIMITS)}, not {self.plan!r}")
        if self.users < 0:
            raise ValueError("users must be >= 0")
        if isinstance(self.scopes, str):
            object.__setattr__(self, "scopes", tuple(self.scopes.split()))
        else:
            object.__setattr__(self, "scopes", tuple(self.scopes))
        if self.rate_limits is not None:
            unknown = set(self.rate_limits) - set(CATEGORIES)
            if unknown:
                raise ValueError(f"rate_limits has unknown categories {sorted(unknown)}")

    def limit(self, category: str) -> int:
        if self.rate_limits and category in self.rate_limits:
            return int(self.rate_limits[category])
        return PLAN_LIMITS[self.plan][category]

    @property
    def daily_heavy_limit(self) -> int:
        if self.heavy_daily_limit is not None:
            return self.heavy_daily_limit
        return PLAN_HEAVY_DAILY[self.plan]


@dataclass(frozen=True)
class SandboxConfig:
    """The whole sandbox. ``anchor`` is the "today" the synthetic history is generated around and
    where the sandbox clock starts; ``fault_seed`` seeds the probabilistic fault triggers."""

    accounts: tuple[AccountConfig, ...] = (AccountConfig(),)
    anchor: datetime | date | None = None
    latency_ms: float = 0
    token_ttl_s: int = 3600
    refresh_token_ttl_s: int = 90 * 86400
    retry_after: str = "iso"
    log_limit: int = 1_000_000
    fault_seed: int = 0

    def __post_init__(self) -> None:
        accounts = tuple(self.accounts)
        if not accounts:
            raise ValueError("a sandbox needs at least one account")
        ids = [a.account_id for a in accounts]
        if len(set(ids)) != len(ids):
            raise ValueError("account_id must be unique across accounts")
        secrets: dict[str, str] = {}
        for a in accounts:
            if secrets.setdefault(a.client_id, a.client_secret) != a.client_secret:
                raise ValueError(f"accounts sharing client_id {a.client_id!r} are one app installed in several "
                                 "accounts: give them the same client_secret")
        object.__setattr__(self, "accounts", accounts)
        object.__setattr__(self, "anchor", as_utc(self.anchor) if self.anchor is not None else _today_utc())
        if self.retry_after not in RETRY_AFTER_MODES:
            raise ValueError(f"retry_after must be one of {RETRY_AFTER_MODES}")
        if self.latency_ms < 0:
            raise ValueError("latency_ms must be >= 0")

    def account(self, account_id: str | None = None) -> AccountConfig:
        if account_id is None:
            return self.accounts[0]
        for acct in self.accounts:
            if acct.account_id == account_id:
                return acct
        raise KeyError(f"no sandbox account {account_id!r}")

