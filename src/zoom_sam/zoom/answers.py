"""What one answer from Zoom's API means: a read's usable body, or the error it stands for.

A 2xx read is taken only once its body has its endpoint's shape (:mod:`zoom_sam.zoom.shapes`). An
error answer is told apart by Zoom's ``code`` (:class:`zoom_sam.vocabulary.ZoomCode`) before its
HTTP status, since Zoom reuses statuses: a missing scope is a :class:`ZoomMissingScopes` whatever
status carries it, so it is never mistaken for an expired token and sent again.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests

from zoom_sam.vocabulary import ZoomCode
from zoom_sam.zoom import shapes
from zoom_sam.zoom.endpoints import Endpoint
from zoom_sam.zoom.errors import ZoomApiError, ZoomAuthError, ZoomError, ZoomMissingScopes, ZoomNotFound
from zoom_sam.zoom.redact import scrub

_SCOPE_CODES = (ZoomCode.MISSING_SCOPE, ZoomCode.NO_PERMISSION)


@dataclass(frozen=True)
class ErrorAnswer:
    """An error answer: HTTP ``status`` and Zoom's ``code`` and ``message`` (secrets scrubbed)."""

    status: int
    code: int | None
    message: str

    @classmethod
    def of(cls, resp: requests.Response, secrets: tuple[str | None, ...]) -> ErrorAnswer:
        body = json_or_none(resp)
        code = body.get("code") if isinstance(body, dict) else None
        code = code if isinstance(code, int) else (int(code) if str(code).isdigit() else None)
        message = str(body.get("message", "")) if isinstance(body, dict) else (resp.reason or "")
        return cls(resp.status_code, code, scrub(message, secrets))

    @property
    def missing_scope(self) -> bool:
        return self.code in _SCOPE_CODES or (self.status == 403 and "scope" in self.message.lower())

    def error(self, method: str, path: str, ep: Endpoint) -> ZoomError:
        """The exception of this answer to ``method path`` (a 401 here: a freshly issued token refused)."""
        if self.missing_scope:
            missing = scopes_in_message(self.message) or ((ep.scope,) if ep.scope else ())
            return ZoomMissingScopes(missing=missing, message=self.message, status=self.status, code=self.code,
                                     method=method, path=path)
        if self.status == 401:
            return ZoomAuthError(f"{method} {path}: Zoom rejected a freshly issued access token "
                                 f"(HTTP 401, code {self.code}): {self.message}", status=self.status,
                                 reason=self.message)
        if self.status == 404 or self.code == ZoomCode.USER_NOT_FOUND:
            return ZoomNotFound(self.status, self.code, self.message, method, path)
        return ZoomApiError(self.status, self.code, self.message, method, path)


def json_or_none(resp: requests.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return None


def read_answer(resp: requests.Response, ep: Endpoint, params: Mapping[str, Any]) -> tuple[Any, str | None]:
    """(body, None) for a usable 2xx answer of a read, else (None, what is wrong with it)."""
    if not resp.content:
        return None, "the body is empty"
    try:
        body = resp.json()
    except ValueError:
        kind = (resp.headers.get("Content-Type") or "no content type").split(";")[0].strip()
        return None, f"the body is not JSON ({kind})"
    return body, shapes.problem(ep.name, body, params)


def scopes_in_message(message: str) -> tuple[str, ...]:
    """Scopes named in Zoom's 4711/4700 message, e.g. 'does not contain scopes:[a, b].'."""
    inside = re.search(r"\[([^\]]*)\]", message)
    text = inside.group(1) if inside else message
    return tuple(dict.fromkeys(re.findall(r"[a-z_]+(?::[a-z_]+){1,3}", text)))
