"""Zoom's OAuth: Server-to-Server tokens, the authorization-code flow and rotating refresh tokens.

The facts that shape clients are all here: access tokens live ``token_ttl_s`` of sandbox time;
S2S grants carry no refresh token; a refresh returns a new access token AND a new refresh token
and the old refresh token is dead from then on ("Invalid Token!"), so a client that loses the
new one must send the admin back through authorization.

One app (client id) may be installed in several accounts. Its S2S tokens name the account
(``account_id``); its authorization codes and refresh tokens belong to the account whose admin
authorized it, and every token they lead to reaches that account only.
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
        self._installs: dict[str, dict[str, AccountConfig]] = {}  # client id -> account id -> account
        for a in config.accounts:
            self._installs.setdefault(a.client_id, {})[a.account_id] = a
        self._access: dict[str, Grant] = {}
        self._refresh: dict[str, tuple[AccountConfig, float]] = {}  # token -> (account, expiry)
        self._codes: dict[str, tuple[AccountConfig, str, float]] = {}  # code -> (account, redirect uri, expiry)
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
                self._refresh[rt] = (account, now + self._config.refresh_token_ttl_s)
                body["refresh_token"] = rt
        return body

    # --- endpoints ------------------------------------------------------------------------------

    def client_of(self, request: Request) -> str | None:
        """The app that signs the request (Basic header, or client_id/client_secret parameters)."""
        header = request.headers.get("Authorization") or ""
        form = request.form()
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if header[:6].lower() == "basic ":
            try:
                client_id, _, secret = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return None
        installs = self._installs.get(client_id or "")
        if not installs:
            return None
        expected = next(iter(installs.values())).client_secret
        return client_id if secrets.compare_digest(expected, secret or "") else None

    def account_hint(self, request: Request) -> str | None:
        """The account a token request concerns, before it is answered (faults, the request log)."""
        client_id = self.client_of(request)
        if client_id is None:
            return None
        form = request.form()
        installs = self._installs[client_id]
        if form.get("grant_type") == "account_credentials":
            return form.get("account_id") if form.get("account_id") in installs else None
        held = self._refresh.get(form.get("refresh_token") or "") or self._codes.get(form.get("code") or "")
        if held is not None:
            return held[0].account_id
        return next(iter(installs)) if len(installs) == 1 else None

    def token(self, request: Request) -> tuple[Response, str | None]:
        """POST /oauth/token; also returns the account the request concerned, for the log."""
        if request.method != "POST":
            return oauth_error(405, "Method Not Allowed", "invalid_request"), None
        client_id = self.client_of(request)
        if client_id is None:
            return oauth_error(401, "Invalid client_id or client_secret", "invalid_client"), None
        form = request.form()
        grant_type = form.get("grant_type")
        account_id = self.account_hint(request)
        if grant_type == "account_credentials":
            account = self._installs[client_id].get(form.get("account_id") or "")
            if account is None:
                return oauth_error(400, "Invalid account_id", "invalid_request"), account_id
            return Response(200, self._issue(account, refresh=False)), account_id
        if grant_type == "authorization_code":
            return self._exchange_code(client_id, form), account_id
        if grant_type == "refresh_token":
            return self._rotate(client_id, form.get("refresh_token") or ""), account_id
        if not grant_type:
            return oauth_error(400, "Missing grant type", "invalid_request"), account_id
        return oauth_error(400, "Unsupported grant type", "unsupported_grant_type"), account_id

    def _exchange_code(self, client_id: str, form: dict) -> Response:
        code = form.get("code") or ""
        with self._lock:
            entry = self._codes.pop(code, None)  # single use, even when the exchange fails
        if entry is None or entry[0].client_id != client_id or entry[2] <= self._clock.time():
            return oauth_error(400, f"Invalid authorization code {code}", "invalid_request")
        if form.get("redirect_uri") != entry[1]:
            return oauth_error(400, "Redirect URI mismatch.", "invalid_request")
        return Response(200, self._issue(entry[0], refresh=True))

    def _rotate(self, client_id: str, token: str) -> Response:
        with self._lock:
            entry = self._refresh.get(token)
            valid = entry is not None and entry[0].client_id == client_id and entry[1] > self._clock.time()
            if valid:
                del self._refresh[token]  # rotation: from now on only the new one works
        if not valid:
            return oauth_error(400, "Invalid Token!", "invalid_request")
        return Response(200, self._issue(entry[0], refresh=True))

    def authorize(self, request: Request) -> tuple[Response, str | None]:
        """GET /oauth/authorize: the admin consents at once and is redirected with a code.

        At Zoom the admin signs in first, and that session says which account authorizes the app.
        The sandbox has no sign-in: ``account_id`` in the query stands for it, and may be left out
        when the app is installed in one account only.
        """
        q = request.query
        installs = self._installs.get(q.get("client_id") or "")
        if not installs:
            return oauth_error(400, "Invalid client_id", "invalid_client"), None
        account = installs.get(q["account_id"]) if "account_id" in q else (
            next(iter(installs.values())) if len(installs) == 1 else None)
        if account is None:
            return oauth_error(400, "Invalid account_id: name the account whose admin authorizes the app",
                               "invalid_request"), None
        if q.get("response_type") != "code":
            return oauth_error(400, "Unsupported response type", "unsupported_response_type"), account.account_id
        redirect = q.get("redirect_uri") or ""
        parts = urlsplit(redirect)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return oauth_error(400, "Redirect URI mismatch.", "invalid_request"), account.account_id
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = (account, redirect, self._clock.time() + CODE_TTL_S)
        params = parse_qsl(parts.query, keep_blank_values=True) + [("code", code)]
        if "state" in q:
            params.append(("state", q["state"]))
        location = urlunsplit(parts._replace(query=urlencode(params)))
        return Response(302, None, headers={"Location": location}), account.account_id
