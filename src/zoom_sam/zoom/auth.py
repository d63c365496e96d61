"""Zoom OAuth access tokens, when to renew them, and Server-to-Server OAuth (account_credentials).

Every grant hands out :class:`AccessToken` objects through the process's token cache
(:mod:`zoom_sam.zoom.token_cache`). What "about to expire" means scales with the token's lifetime
(:func:`renewal_margin`), so a short-lived token still serves most of its life.

Server-to-Server OAuth
    ``POST oauth_url`` form ``grant_type=account_credentials&account_id=...`` with HTTP Basic client
    auth; no refresh token, nothing is used up, so a lost answer is simply asked again. One cached
    token per (oauth_url, account, client, secret), renewed ahead of expiry and on a 401 / code
    124 (:meth:`TokenProvider.invalidate`).

The authorization-code grant, whose refresh tokens rotate, lives in
:mod:`zoom_sam.zoom.refresh_chain`. Nothing here logs or renders a token or a secret; ``repr`` of
every object is secret-free.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit, urlunsplit

from zoom_sam.zoom.errors import ZoomAuthError
from zoom_sam.zoom.scopes import parse_scope_string
from zoom_sam.zoom.token_cache import CacheEntry, CachedGrant
from zoom_sam.zoom.token_endpoint import TokenEndpoint

log = logging.getLogger(__name__)

DEFAULT_AUTHORIZE_URL = "https://zoom.us/oauth/authorize"
RENEW_MARGIN_MAX_S = 60.0
RENEW_MARGIN_FRACTION = 0.1
DEFAULT_LIFETIME_S = 3600.0

MaskFn = Callable[[str], None]


def renewal_margin(lifetime: float) -> float:
    """How long before its expiry a token is renewed: a tenth of its lifetime, at most 60 s.

    60 s is what Zoom's own SDK allows its 1 h tokens. A fixed 60 s would renew a token that lives
    20 s before every call; a tenth of the lifetime lets any token serve nine tenths of its life,
    while still leaving room for the request in flight when it is checked.
    """
    return min(RENEW_MARGIN_MAX_S, RENEW_MARGIN_FRACTION * max(lifetime, 0.0))


class AccessToken:
    """An access token with its expiry (epoch seconds), lifetime and granted scopes. ``repr`` hides the value."""

    __slots__ = ("value", "expires_at", "lifetime", "scopes", "api_url")

    def __init__(self, value: str, expires_at: float, scopes: frozenset[str] = frozenset(),
                 api_url: str | None = None, lifetime: float = DEFAULT_LIFETIME_S) -> None:
        self.value = value
        self.expires_at = float(expires_at)
        self.lifetime = float(lifetime)
        self.scopes = frozenset(scopes)
        self.api_url = api_url

    def fresh(self, now: float) -> bool:
        """Still good for a call: not within its renewal margin of expiry."""
        return now < self.expires_at - renewal_margin(self.lifetime)

    def __repr__(self) -> str:
        return f"AccessToken(<redacted>, expires_at={self.expires_at:.0f}, scopes={len(self.scopes)})"

    __str__ = __repr__


def token_from_response(data: dict[str, Any], now: float) -> AccessToken:
    """The access token of a token-endpoint answer (``expires_in`` missing or odd: one hour)."""
    try:
        lifetime = float(data.get("expires_in") or DEFAULT_LIFETIME_S)
    except (TypeError, ValueError):
        lifetime = DEFAULT_LIFETIME_S
    return AccessToken(str(data["access_token"]), now + lifetime, parse_scope_string(data.get("scope")),
                       data.get("api_url"), lifetime)


class TokenProvider(Protocol):
    def get_token(self) -> AccessToken: ...
    def invalidate(self, token: AccessToken) -> None: ...


class AccountCredentialsAuth(CachedGrant):
    """Server-to-Server OAuth: one cached token per account in the process, thread-safe."""

    def __init__(self, endpoint: TokenEndpoint, account_id: str, *, clock: Callable[[], float] = time.time,
                 mask: MaskFn | None = None) -> None:
        if not account_id:
            raise ZoomAuthError("Server-to-Server OAuth needs the Zoom account id (connection extra account_id)")
        self.endpoint = endpoint
        self.account_id = account_id
        self.clock = clock
        self.mask = mask
        self.key = ("s2s", endpoint.oauth_url, account_id, endpoint.client_id, endpoint.credential_fp)

    def __repr__(self) -> str:
        return f"AccountCredentialsAuth(account_id={self.account_id!r}, oauth_url={self.endpoint.oauth_url!r})"

    def _obtain(self, entry: CacheEntry) -> AccessToken:
        log.info("Requesting a Zoom access token (account_credentials) for account %s", self.account_id)
        data = self.endpoint.post({"grant_type": "account_credentials", "account_id": self.account_id})
        tok = token_from_response(data, self.clock())
        if self.mask:
            self.mask(tok.value)
        return tok


def authorize_endpoint(oauth_url: str) -> str:
    """Where admins authorize the app: beside the token endpoint, so the sandbox (or a regional host)
    that issues a connection's tokens also serves its consent page."""
    parts = urlsplit(oauth_url)
    path = parts.path.rstrip("/")
    folder = path.rsplit("/", 1)[0] if path.endswith("/token") else path
    return urlunsplit((parts.scheme, parts.netloc, f"{folder}/authorize", "", ""))


def authorize_url(client_id: str, redirect_uri: str, *, state: str | None = None,
                  base: str = DEFAULT_AUTHORIZE_URL, code_challenge: str | None = None) -> str:
    """The URL an admin opens to authorize the app (step 1 of the authorization-code flow)."""
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri}
    if state:
        params["state"] = state
    if code_challenge:
        params["code_challenge"] = code_challenge
        params["code_challenge_method"] = "S256"
    return f"{base}?{urlencode(params)}"
