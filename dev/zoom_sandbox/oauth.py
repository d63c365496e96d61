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
import hashlib
import secrets
import threading
from dataclasses import dataclass
from html import escape
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


@dataclass(frozen=True)
class _Code:
    """An authorization code as issued: whose, for which redirect URI, until when, PKCE's challenge."""

    account: AccountConfig
    redirect_uri: str
    expires: float
    challenge: str | None = None
    method: str = "plain"

    def verifies(self, verifier: str | None) -> bool:
        """PKCE: without a challenge any request may exchange the code; with one, only its verifier."""
        if self.challenge is None:
            return True
        if not verifier:
            return False
        if self.method == "S256":
            digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
            verifier = base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")
        return secrets.compare_digest(verifier, self.challenge)


class OAuth:
    def __init__(self, config: SandboxConfig, clock: SandboxClock) -> None:
        self._config = config
        self._clock = clock
        self._installs: dict[str, dict[str, AccountConfig]] = {}  # client id -> account id -> account
        for a in config.accounts:
            self._installs.setdefault(a.client_id, {})[a.account_id] = a
        self._access: dict[str, Grant] = {}
        self._refresh: dict[str, tuple[AccountConfig, float]] = {}  # token -> (account, expiry)
        self._codes: dict[str, _Code] = {}
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
        held = self._refresh.get(form.get("refresh_token") or "")
        code = self._codes.get(form.get("code") or "")
        if held is not None or code is not None:
            return held[0].account_id if held is not None else code.account.account_id
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
        if entry is None or entry.account.client_id != client_id or entry.expires <= self._clock.time():
            return oauth_error(400, f"Invalid authorization code {code}", "invalid_request")
        if form.get("redirect_uri") != entry.redirect_uri:
            return oauth_error(400, "Redirect URI mismatch.", "invalid_request")
        if not entry.verifies(form.get("code_verifier")):
            return oauth_error(400, "Invalid code_verifier", "invalid_request")
        return Response(200, self._issue(entry.account, refresh=True))

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
        """/oauth/authorize: GET shows the consent page, POST carries the admin's answer to it.

        At Zoom the admin signs in first, and that session says which account authorizes the app.
        The sandbox has no sign-in: ``account_id`` in the query stands for it, and may be left out
        when the app is installed in one account only. Allow redirects to ``redirect_uri`` with a
        ``code`` (bound to that URI and, with PKCE, to its ``code_challenge``); Deny redirects with
        ``error=access_denied``. Both carry the ``state`` back unchanged.
        """
        q = request.form()  # GET: the query; POST: the consent form's fields, which repeat it
        installs = self._installs.get(q.get("client_id") or "")
        if not installs:
            return oauth_error(400, "Invalid client_id", "invalid_client"), None
        account = installs.get(q["account_id"]) if q.get("account_id") else (
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
        challenge, method = q.get("code_challenge") or None, q.get("code_challenge_method") or "plain"
        if challenge and method not in ("S256", "plain"):
            return oauth_error(400, "Invalid code_challenge_method", "invalid_request"), account.account_id
        if request.method != "POST":
            return Response(200, consent_page(q, account), content_type="text/html;charset=UTF-8"), account.account_id
        params = parse_qsl(parts.query, keep_blank_values=True)
        if q.get("consent") == "allow":
            code = secrets.token_urlsafe(24)
            with self._lock:
                self._codes[code] = _Code(account, redirect, self._clock.time() + CODE_TTL_S, challenge, method)
            params.append(("code", code))
        else:
            params.append(("error", "access_denied"))
        if "state" in q:
            params.append(("state", q["state"]))
        location = urlunsplit(parts._replace(query=urlencode(params)))
        return Response(302, None, headers={"Location": location}), account.account_id


_CONSENT_FIELDS = ("response_type", "client_id", "redirect_uri", "state", "account_id", "code_challenge",
                   "code_challenge_method")


def consent_page(query: dict, account: AccountConfig) -> bytes:
    """What the admin sees: the app, the account, the scopes asked for, Allow and Deny."""
    hidden = "".join(f'<input type="hidden" name="{name}" value="{escape(query[name])}">'
                     for name in _CONSENT_FIELDS if query.get(name))
    scopes = "".join(f"<li><code>{escape(s)}</code></li>" for s in account.scopes)
    return (f'<!doctype html><html><head><meta charset="utf-8"><title>Authorize app - Zoom sandbox</title></head>'
            f'<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">'
            f'<h1>Allow app <code>{escape(account.client_id)}</code> to access your account?</h1>'
            f'<p>Account <code>{escape(account.account_id)}</code> (Zoom sandbox). The app asks for:</p>'
            f'<ul data-testid="consent-scopes">{scopes}</ul>'
            f'<form method="post" action="/oauth/authorize">{hidden}'
            f'<button type="submit" name="consent" value="allow">Allow</button> '
            f'<button type="submit" name="consent" value="deny">Deny</button></form></body></html>').encode("utf-8")
