"""Zoom's OAuth: Server-to-Server tokens, the authorization-code flow and rotating refresh tokens.

The facts that shape clients are all here: access tokens live ``token_ttl_s`` of sandbox time;
S2S grants carry no refresh token; a refresh returns a new access token AND a new refresh token
and the old refresh token is dead from then on ("Invalid Token!"), so a client that loses the
new one must send the admin back through authorization.
"""
from __future__ import annotations

import base64
import binascii
import secrets
import threading
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .clock import SandboxClock
from .config import AccountConfig, SandboxConfig
from .messages import Request, Response, oauth_error

CODE_TTL_S = 300


@dataclass(frozen=True)
class Grant:
    account_id: str
    scopes: tuple[str, ...]
    expires: float


class OAuth:
    def __init__(self, config: SandboxConfig, clock: SandboxClock) -> None:
        self._config = config
        self._clock = clock
        self._clients = {a.client_id: a for a in config.accounts}
        self._access: dict[str, Grant] = {}
        self._refresh: dict[str, tuple[str, float]] = {}  # token -> (client id, expiry)
        self._codes: dict[str, tuple[str, str, float]] = {}  # code -> (client id, redirect uri, expiry)
        self._lock = threading.Lock()
        self.api_url = ""

    # --- bearer tokens on /v2 -------------------------------------------------------------------

    def grant(self, token: str) -> Grant | None:
        """The live grant behind a bearer token; None for unknown, revoked or expired tokens."""
        g = self._access.get(token)
        if g is None or g.expires <= self._clock.time():
            return None
        return g

    def account_of(self, token: str) -> str | None:
        """Whose token this is, even when it no longer works (for the request log and faults)."""
        g = self._access.get(token)
        return g.account_id if g else None

    def expire_all(self, account_id: str | None = None) -> int:
        """Invalidate every current access token (of one account): a revocation mid-run."""
        with self._lock:
            dead = [t for t, g in self._access.items() if account_id in (None, g.account_id)]
            for t in dead:
                del self._access[t]
            return len(dead)

    def _issue(self, account: AccountConfig, refresh: bool) -> dict:
        now = self._clock.time()
        token = secrets.token_urlsafe(48)
        with self._lock:
            if len(self._access) > 10_000:
                self._access = {t: g for t, g in self._access.items() if g.expires > now}
            self._access[token] = Grant(account.account_id, account.scopes, now + self._config.token_ttl_s)
            body = {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": self._config.token_ttl_s,
                "scope": " ".join(account.scopes),
                "api_url": self.api_url,
            }
            if refresh:
                rt = secrets.token_urlsafe(48)
                self._refresh[rt] = (account.client_id, now + self._config.refresh_token_ttl_s)
                body["refresh_token"] = rt
        return body

    # --- endpoints ------------------------------------------------------------------------------

    def client_of(self, request: Request) -> AccountConfig | None:
        """The app that signs the request (Basic header, or client_id/client_secret parameters)."""
        header = request.headers.get("Authorization") or ""
        form = request.form()
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if header[:6].lower() == "basic ":
            try:
                client_id, _, secret = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return None
        client = self._clients.get(client_id or "")
        if client is None or not secrets.compare_digest(client.client_secret, secret or ""):
            return None
        return client

    def token(self, request: Request) -> tuple[Response, str | None]:
        """POST /oauth/token; also returns the account the request concerned, for the log."""
        if request.method != "POST":
            return oauth_error(405, "Method Not Allowed", "invalid_request"), None
        client = self.client_of(request)
        if client is None:
            return oauth_error(401, "Invalid client_id or client_secret", "invalid_client"), None
        form = request.form()
        grant_type = form.get("grant_type")
        if grant_type == "account_credentials":
            if form.get("account_id") != client.account_id:
                return oauth_error(400, "Invalid account_id", "invalid_request"), client.account_id
            return Response(200, self._issue(client, refresh=False)), client.account_id
        if grant_type == "authorization_code":
            return self._exchange_code(client, form), client.account_id
        if grant_type == "refresh_token":
            return self._rotate(client, form.get("refresh_token") or ""), client.account_id
        if not grant_type:
            return oauth_error(400, "Missing grant type", "invalid_request"), client.account_id
        return oauth_error(400, "Unsupported grant type", "unsupported_grant_type"), client.account_id

    def _exchange_code(self, client: AccountConfig, form: dict) -> Response:
        code = form.get("code") or ""
        with self._lock:
            entry = self._codes.pop(code, None)  # single use, even when the exchange fails
        if entry is None or entry[0] != client.client_id or entry[2] <= self._clock.time():
            return oauth_error(400, f"Invalid authorization code {code}", "invalid_request")
        if form.get("redirect_uri") != entry[1]:
            return oauth_error(400, "Redirect URI mismatch.", "invalid_request")
        return Response(200, self._issue(client, refresh=True))

    def _rotate(self, client: AccountConfig, token: str) -> Response:
        with self._lock:
            entry = self._refresh.get(token)
            valid = entry is not None and entry[0] == client.client_id and entry[1] > self._clock.time()
            if valid:
                del self._refresh[token]  # rotation: from now on only the new one works
        if not valid:
            return oauth_error(400, "Invalid Token!", "invalid_request")
        return Response(200, self._issue(client, refresh=True))

    def authorize(self, request: Request) -> tuple[Response, str | None]:
        """GET /oauth/authorize: the admin consents at once and is redirected with a code."""
        q = request.query
        client = self._clients.get(q.get("client_id") or "")
        if client is None:
            return oauth_error(400, "Invalid client_id", "invalid_client"), None
        if q.get("response_type") != "code":
            return oauth_error(400, "Unsupported response type", "unsupported_response_type"), client.account_id
        redirect = q.get("redirect_uri") or ""
        parts = urlsplit(redirect)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return oauth_error(400, "Redirect URI mismatch.", "invalid_request"), client.account_id
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = (client.client_id, redirect, self._clock.time() + CODE_TTL_S)
        params = parse_qsl(parts.query, keep_blank_values=True) + [("code", code)]
        if "state" in q:
            params.append(("state", q["state"]))
        location = urlunsplit(parts._replace(query=urlencode(params)))
        return Response(302, None, headers={"Location": location}), client.account_id
