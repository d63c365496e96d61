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
import logging
import time
from collections.abc import Callable
from typing import Any

import requests

from zoom_sam.zoom.errors import ZoomAuthError
from zoom_sam.zoom.network import never_reached_server
from zoom_sam.zoom.ratelimit import backoff_delay
from zoom_sam.zoom.redact import scrub
from zoom_sam.zoom.shapes import token_problem

log = logging.getLogger(__name__)

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
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.attempts = max(1, attempts)

    def __repr__(self) -> str:
        return f"TokenEndpoint({self.oauth_url!r}, client_id={self.client_id!r})"

    def _basic(self) -> str:
        raw = f"{self.client_id}:{self._client_secret}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")

    def post(self, form: dict[str, str], *, secrets: tuple[str | None, ...] = (),
             resend_lost: int | None = None, timeout: float | None = None) -> dict[str, Any]:
        """The token response; ZoomAuthError on refusal or when the attempts are used up.

        ``resend_lost``: how often a request whose answer was lost may be sent again (None: as
        often as the attempts allow). ``secrets`` are scrubbed from every message.
        """
        secrets = (self._client_secret, *secrets)
        last = ""
        status: int | None = None
        lost = 0
        for attempt in range(self.attempts):
            if self.on_request:
                self.on_request()
            try:
                resp = requests.post(
                    self.oauth_url, data=form, timeout=timeout or self.timeout,
                    headers={"Authorization": self._basic(), "Accept": "application/json",
                             "Content-Type": "application/x-www-form-urlencoded"},
                )
            except requests.RequestException as exc:
                status, last = None, type(exc).__name__
                answer_lost = not never_reached_server(exc)
            else:
                status = resp.status_code
                if status == 200:
                    data, problem = _token_answer(resp)
                    if problem is None:
                        return data
                    last, answer_lost = f"malformed answer (HTTP 200): {problem}", True
                else:
                    detail = _error_detail(resp, secrets)
                    last = f"HTTP {status}: {detail}"
                    if status != 429 and status < 500:
                        raise ZoomAuthError(f"Zoom refused the token request at {self.oauth_url} ({last})",
                                            status=status, reason=detail, answer_lost=lost > 0)
                    answer_lost = status >= 500
            lost += answer_lost
            log.warning("Zoom token endpoint %s: %s%s, attempt %d/%d", self.oauth_url, last,
                        " (the answer was lost)" if answer_lost else "", attempt + 1, self.attempts)
            if answer_lost and resend_lost is not None and lost > resend_lost:
                break
            if attempt + 1 < self.attempts:
                time.sleep(backoff_delay(attempt, self.backoff_base, self.backoff_max))
        raise ZoomAuthError(f"Zoom token endpoint {self.oauth_url} failed after {attempt + 1} attempt(s): {last}",
                            status=status, retryable=True, answer_lost=lost > 0)


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
