"""Zoom's token endpoint: POSTs with HTTP Basic client auth, and which failures may be sent again.

Whether a failed token request may be repeated depends on whether Zoom may have acted on it:

* it never reached Zoom (no connection was made), or Zoom turned it away unprocessed (429):
  repeating it is always safe;
* it reached Zoom and the answer was lost (read timeout, connection dropped, a 5xx, or a 200
  whose body carries no usable token: a proxy or captive portal garbled it): Zoom may have
  acted. An account-credentials request only mints a token, so repeating it is harmless; a
  refresh-token exchange may have rotated the token, so its caller says how many times such a
  request may be sent again (``resend_lost``) and learns from ``answer_lost`` that it happened;
* Zoom refused it (any other 4xx): repeating cannot help.
"""
from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from zoom_sam.zoom.errors import ZoomAuthError
from zoom_sam.zoom.network import never_reached_server
from zoom_sam.zoom.redact import fingerprint, scrub
from zoom_sam.zoom.retry import Again, Kind, RetryPolicy
from zoom_sam.zoom.shapes import token_problem

DEFAULT_OAUTH_URL = "https://zoom.us/oauth/token"
TOKEN_ENDPOINT_ATTEMPTS = 4


class TokenEndpoint:
    """One app's view of the token endpoint (client id and secret); thread-safe."""

    def __init__(self, oauth_url: str, client_id: str, client_secret: str, *, timeout: float = 30.0,
                 on_request: Callable[[], None] | None = None, backoff_base: float = 0.5,
                 backoff_max: float = 8.0, attempts: int = TOKEN_ENDPOINT_ATTEMPTS) -> None:
        if not client_id or not client_secret:
            raise ZoomAuthError("the Zoom connection needs a client id (login) and a client secret (password)")
        self.oauth_url = oauth_url or DEFAULT_OAUTH_URL
        self.client_id = client_id
        self._client_secret = client_secret
        self.timeout = timeout
        self.on_request = on_request
        self.retry = RetryPolicy(max_retries=max(1, attempts) - 1, backoff_base=backoff_base,
                                 backoff_max=backoff_max)

    def __repr__(self) -> str:
        return f"TokenEndpoint({self.oauth_url!r}, client_id={self.client_id!r})"

    @property
    def credential_fp(self) -> str | None:
        """A fingerprint of the client id and secret: which credential a cached token belongs to."""
        return fingerprint(f"{self.client_id}:{self._client_secret}")

    def _basic(self) -> str:
        raw = f"{self.client_id}:{self._client_secret}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")

    def post(self, form: dict[str, str], *, secrets: tuple[str | None, ...] = (),
             resend_lost: int | None = None, timeout: float | None = None) -> dict[str, Any]:
        """The token response; ZoomAuthError on refusal or when the attempts are used up.

        Every failure Zoom may not meet again is repeated under :attr:`retry` (the client's
        policy, :mod:`zoom_sam.zoom.retry`, sized for the token endpoint). ``resend_lost``: how
        often a request whose answer was lost may be sent again (None: as often as the attempts
        allow). ``secrets`` are scrubbed from every message.
        """
        secrets = (self._client_secret, *secrets)
        tries = _Tries(self.oauth_url)

        def attempt() -> dict[str, Any] | Again:
            tries.attempts += 1
            if self.on_request:
                self.on_request()
            try:
                resp = requests.post(
                    self.oauth_url, data=form, timeout=timeout or self.timeout,
                    headers={"Authorization": self._basic(), "Accept": "application/json",
                             "Content-Type": "application/x-www-form-urlencoded"},
                )
            except requests.RequestException as exc:
                tries.status, tries.last = None, type(exc).__name__
                answer_lost = not never_reached_server(exc)
            else:
                tries.status = resp.status_code
                if resp.status_code == 200:
                    data, problem = _token_answer(resp)
                    if problem is None:
                        return data
                    tries.last, answer_lost = f"malformed answer (HTTP 200): {problem}", True
                else:
                    detail = _error_detail(resp, secrets)
                    tries.last = f"HTTP {resp.status_code}: {detail}"
                    if resp.status_code != 429 and resp.status_code < 500:
                        raise ZoomAuthError(f"Zoom refused the token request at {self.oauth_url} ({tries.last})",
                                            status=resp.status_code, reason=detail, answer_lost=tries.lost > 0)
                    answer_lost = resp.status_code >= 500
            tries.lost += answer_lost
            if answer_lost and resend_lost is not None and tries.lost > resend_lost:
                raise tries.failed()
            return Again(Kind.BACKOFF, f"token endpoint {self.oauth_url}: {tries.last}"
                         f"{' (the answer was lost)' if answer_lost else ''}", lambda _: tries.failed())

        return self.retry.run(attempt, on_retry=lambda _: None)


@dataclass
class _Tries:
    """What the attempts of one token request met so far."""

    oauth_url: str
    attempts: int = 0
    lost: int = 0
    last: str = ""
    status: int | None = None

    def failed(self) -> ZoomAuthError:
        return ZoomAuthError(f"Zoom token endpoint {self.oauth_url} failed after {self.attempts} attempt(s): "
                             f"{self.last}", status=self.status, retryable=True, answer_lost=self.lost > 0)


def _token_answer(resp: requests.Response) -> tuple[Any, str | None]:
    """(body, None) for a usable token answer, else (None, what is wrong with it)."""
    try:
        body = resp.json()
    except ValueError:
        return None, "the body is empty" if not resp.content else "the body is not JSON"
    return body, token_problem(body)


def _error_detail(resp: requests.Response, secrets: tuple[str | None, ...]) -> str:
    try:
        body = resp.json()
    except ValueError:
        body = None
    parts = []
    if isinstance(body, dict):
        for k in ("code", "error", "reason", "message", "error_description"):
            if body.get(k) not in (None, ""):
                parts.append(f"{k}={body[k]}")
    text = ", ".join(parts) if parts else (resp.reason or "")
    return scrub(str(text)[:300], secrets)
