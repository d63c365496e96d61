"""What a ZoomClient works with: :class:`ZoomConfig`, every field checked when it is built.

The fields come from a ``zoom`` connection (its host, login, password and extras, mapped by
:meth:`ZoomConfig.from_connection_fields`; :mod:`zoom_sam.hooks.zoom` reads the Airflow
connection) or straight from scripts and tests. The extras and the range of every setting are
in :mod:`zoom_sam.zoom.extras`.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import urlsplit

from zoom_sam.zoom.extras import GRANT_ACCOUNT_CREDENTIALS, ZoomConfigError, config_problems, parse_extras
from zoom_sam.zoom.ratelimit import DEFAULT_PLAN, DEFAULT_SAFETY, plan_limits
from zoom_sam.zoom.token_endpoint import DEFAULT_OAUTH_URL

DEFAULT_BASE_URL = "https://api.zoom.us/v2"
PAGE_SIZE = 300


def normalize_base_url(host: str | None) -> str:
    """Connection host -> API base URL. Empty -> Zoom's global API; no scheme -> https; no path -> /v2."""
    host = (host or "").strip()
    if not host:
        return DEFAULT_BASE_URL
    if "://" not in host:
        host = "https://" + host
    parts = urlsplit(host)
    path = parts.path.rstrip("/")
    if not path:
        path = "/v2"
    return f"{parts.scheme}://{parts.netloc}{path}"


@dataclass
class ZoomConfig:
    """Everything a client needs. Built from a connection's fields by :meth:`from_connection_fields`.

    Every field is checked on construction (:func:`zoom_sam.zoom.extras.config_problems`); a bad
    one raises :class:`~zoom_sam.zoom.extras.ZoomConfigError` naming each extra and its range.
    """

    client_id: str
    client_secret: str = field(repr=False)
    account_id: str | None = None
    base_url: str = DEFAULT_BASE_URL
    oauth_url: str = DEFAULT_OAUTH_URL
    grant_type: str = GRANT_ACCOUNT_CREDENTIALS
    refresh_token: str | None = field(default=None, repr=False)  # starts the connection's refresh-token chain
    token_store_conn_id: str | None = None  # the warehouse connection holding that chain
    plan: str = DEFAULT_PLAN
    rate_limits: dict[str, float] | None = None  # explicit requests/second per category
    rate_safety: float = DEFAULT_SAFETY           # run at this fraction of the limit
    max_in_flight: int = 24
    timeout: float = 30.0
    max_retries: int = 5           # 5xx / timeouts / dropped connections (reads)
    max_429_retries: int = 10
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    max_retry_after: float = 120.0  # a longer Retry-After raises ZoomRateLimited instead of sleeping
    page_size: int = PAGE_SIZE
    max_page_restarts: int = 3

    def __post_init__(self) -> None:
        self.base_url = normalize_base_url(self.base_url)
        self.oauth_url = (self.oauth_url or DEFAULT_OAUTH_URL).strip()
        self.grant_type = (self.grant_type or GRANT_ACCOUNT_CREDENTIALS).strip()
        problems = config_problems(self)
        if problems:
            raise ZoomConfigError(problems)
        self.limits = plan_limits(self.plan, self.rate_limits)

    @property
    def account_key(self) -> str:
        """Identity of the Zoom account for rate limiting (limits are per account)."""
        return f"{self.base_url}|{self.account_id or self.client_id}"

    @classmethod
    def from_connection_fields(cls, *, host: str | None, login: str | None, password: str | None,
                               extra: Mapping[str, Any] | None, **overrides: Any) -> ZoomConfig:
        """Map a connection's host/login/password/extra to a config; extras in :mod:`.extras`.

        Raises :class:`~zoom_sam.zoom.extras.ZoomConfigError` listing every bad or unknown extra.
        """
        parsed, problems = parse_extras(extra)
        kw: dict[str, Any] = {"client_id": (login or "").strip(), "client_secret": password or "",
                              "base_url": host or "", **parsed}
        known = {f.name for f in fields(cls)}
        for k, v in overrides.items():
            if k not in known:
                raise TypeError(f"unknown ZoomConfig field {k!r}")
            kw[k] = v
        try:
            config = cls(**kw)
        except ZoomConfigError as exc:
            problems += exc.problems
        if problems:
            raise ZoomConfigError(problems)
        return config
