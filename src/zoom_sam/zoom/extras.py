"""The extras of a ``zoom`` connection and the valid range of every client setting.

A connection is read where a hook or client is built, by the Test button and by each run's
``validate_profile`` task. A value the client cannot work with (a 0 s timeout, negative retries,
a billion requests in flight, a grant type nobody knows) must be refused there, naming the extra
and its range, instead of surfacing mid-run. Unknown extras are refused as well: a misspelt
``max_inflight`` would otherwise be ignored without a word.

:func:`parse_extras` turns the connection's extras into :class:`~zoom_sam.zoom.config.ZoomConfig`
fields (types only); :func:`config_problems` checks every field's range, whichever way the
config was built. Both return problems instead of raising, so one message lists them all.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from zoom_sam.errors import ConfigurationError
from zoom_sam.zoom.ratelimit import plan_limits

if TYPE_CHECKING:
    from zoom_sam.zoom.config import ZoomConfig

GRANT_ACCOUNT_CREDENTIALS = "account_credentials"
GRANT_REFRESH_TOKEN = "refresh_token"
GRANT_TYPES = (GRANT_ACCOUNT_CREDENTIALS, GRANT_REFRESH_TOKEN)
LEGACY_PREFIX = "extra__zoom__"  # how older UIs and tools store a provider's form fields


@dataclass(frozen=True)
class Bound:
    """The valid range of a numeric setting."""

    whole: bool
    low: float
    high: float
    low_open: bool = False  # ``low`` itself is not valid
    unit: str = ""

    def describe(self) -> str:
        if self.whole:
            return f"a whole number from {self.low:g} to {self.high:g}"
        kind = f"a number of {self.unit}" if self.unit else "a number"
        if self.low_open:
            return f"{kind} greater than {self.low:g} and at most {self.high:g}"
        return f"{kind} from {self.low:g} to {self.high:g}"

    def holds(self, value: float) -> bool:
        above = value > self.low if self.low_open else value >= self.low
        return above and value <= self.high


#: Every numeric extra. The ceilings keep one stuck call, one retry loop or one thread pool from
#: holding a task (and the account's rate limit) for long.
NUMBERS: Mapping[str, Bound] = {
    "timeout": Bound(False, 0, 300, low_open=True, unit="seconds"),
    "max_retries": Bound(True, 0, 10),
    "max_429_retries": Bound(True, 0, 100),
    "backoff_base": Bound(False, 0, 60, low_open=True, unit="seconds"),
    "backoff_max": Bound(False, 0, 600, low_open=True, unit="seconds"),
    "max_retry_after": Bound(False, 0, 3600, unit="seconds"),
    "rate_safety": Bound(False, 0, 1, low_open=True),
    "max_in_flight": Bound(True, 1, 256),
    "page_size": Bound(True, 1, 300),
    "max_page_restarts": Bound(True, 0, 10),
}
#: Requests per second of one rate-limit category (Zoom's own are 10 to 80; the sandbox goes higher).
RATE_LIMIT = Bound(False, 0, 10_000, low_open=True, unit="requests per second")
TEXTS = ("account_id", "refresh_token", "token_store_conn_id")
URLS = ("oauth_url",)
KNOWN = (*TEXTS, *URLS, "grant_type", "plan", "rate_limits", *NUMBERS)


class ZoomConfigError(ConfigurationError):
    """A Zoom connection (or config) the client cannot use; ``problems`` says each thing wrong,
    ``conn_id`` which connection (when it is known)."""

    def __init__(self, problems: list[str], *, conn_id: str | None = None) -> None:
        self.problems = problems
        self.conn_id = conn_id
        text = "; ".join(problems)
        super().__init__(f"Zoom connection {conn_id!r} is misconfigured: {text}" if conn_id else text)


def parse_extras(extra: Mapping[str, Any] | None) -> tuple[dict[str, Any], list[str]]:
    """The config fields a connection's extras give, and what is wrong with them.

    Empty values mean "not set". Numbers may come as strings (form fields are text); booleans
    are not numbers.
    """
    fields: dict[str, Any] = {}
    problems: list[str] = []
    for raw_name, value in dict(extra or {}).items():
        name = str(raw_name).removeprefix(LEGACY_PREFIX)
        if name not in KNOWN:
            problems.append(f"unknown extra {name!r}; the extras are {', '.join(KNOWN)}")
            continue
        if value is None or value == "":
            continue
        if name in NUMBERS:
            number = _number(value, NUMBERS[name].whole)
            if number is None:
                problems.append(f"extra {name!r} must be {NUMBERS[name].describe()} (got {value!r})")
            else:
                fields[name] = number
        elif name == "rate_limits":
            limits, problem = _rate_limits(value)
            if problem:
                problems.append(problem)
            else:
                fields[name] = limits
        elif not isinstance(value, str):  # the value itself is not quoted: it may be a secret
            problems.append(f"extra {name!r} must be a string, not {type(value).__name__}")
        else:
            fields[name] = value.strip()
    return fields, problems


def config_problems(config: ZoomConfig) -> list[str]:
    """Everything out of range in a :class:`~zoom_sam.zoom.config.ZoomConfig`."""
    problems = []
    if not config.client_id:
        problems.append("login (client id) is empty")
    if not config.client_secret:
        problems.append("password (client secret) is empty")
    if config.grant_type not in GRANT_TYPES:
        problems.append(f"extra 'grant_type' must be one of {', '.join(GRANT_TYPES)} (got {config.grant_type!r})")
    elif config.grant_type == GRANT_ACCOUNT_CREDENTIALS and not config.account_id:
        problems.append("grant_type account_credentials needs extra 'account_id'")
    for name, url in (("host (API base URL)", config.base_url), ("extra 'oauth_url'", config.oauth_url)):
        if not _is_url(url):
            problems.append(f"{name} must be an http or https URL such as https://zoom.us/oauth/token (got {url!r})")
    problems += _limit_problems(config.plan, config.rate_limits or {})
    for name, bound in NUMBERS.items():
        value = getattr(config, name)
        if not _fits(value, bound):
            problems.append(f"extra {name!r} must be {bound.describe()} (got {value!r})")
    return problems


def _limit_problems(plan: str, rates: Mapping[str, float]) -> list[str]:
    try:
        plan_limits(plan)
    except ValueError as exc:
        return [f"extra 'plan': {exc}"]
    problems = [f"extra 'rate_limits': {category} must be {RATE_LIMIT.describe()} (got {rate!r})"
                for category, rate in rates.items() if not _fits(rate, RATE_LIMIT)]
    if not problems:
        try:
            plan_limits(plan, rates)
        except ValueError as exc:  # a category Zoom does not have
            problems.append(f"extra 'rate_limits': {exc}")
    return problems


def _number(value: Any, whole: bool) -> float | int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, (int, float)):
        return None
    if whole:
        return int(value) if math.isfinite(value) and float(value).is_integer() else None
    return float(value)


def _fits(value: Any, bound: Bound) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return False
    if bound.whole and not float(value).is_integer():
        return False
    return bound.holds(value)


def _rate_limits(value: Any) -> tuple[dict[str, float], str | None]:
    example = 'an object like {"Light": 80, "Medium": 60, "Heavy": 40}'
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}, f"extra 'rate_limits' must be {example} (got {value!r})"
    if not isinstance(value, Mapping):
        return {}, f"extra 'rate_limits' must be {example} (got {value!r})"
    limits = {}
    for category, rate in value.items():
        number = _number(rate, whole=False)
        if number is None:
            return {}, f"extra 'rate_limits': {category} must be {RATE_LIMIT.describe()} (got {rate!r})"
        limits[str(category)] = number
    return limits, None


def _is_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not any(c.isspace() for c in url)
