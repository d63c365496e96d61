"""The request and response as the sandbox's logic sees them, free of socket handling, so the
HTTP layer only moves bytes and every behaviour lives in plain functions."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Mapping
from urllib.parse import parse_qsl

from .errors import invalid_body


@dataclass
class Request:
    method: str
    path: str
    query: dict
    headers: Mapping[str, str]
    body: bytes = b""

    def form(self) -> dict:
        """Query parameters and an urlencoded body together: Zoom's token endpoint takes either."""
        values = dict(self.query)
        if self.body and "json" not in (self.headers.get("Content-Type") or ""):
            values.update(parse_qsl(self.body.decode("latin-1"), keep_blank_values=True))
        return values

    def json(self) -> dict:
        try:
            value = json.loads(self.body or b"{}")
        except ValueError:
            raise invalid_body() from None
        if not isinstance(value, dict):
            raise invalid_body()
        return value


@dataclass
class Response:
    status: int
    body: dict | bytes | None = None
    headers: dict = field(default_factory=dict)
    content_type: str = "application/json;charset=UTF-8"
    drop: bool = False  # close the connection without answering
    delay_s: float = 0.0  # wait this long before answering (latency, slow faults)

    def payload(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body, separators=(",", ":")).encode()


def oauth_error(status: int, reason: str, error: str) -> Response:
    """The token endpoint's own error shape, which is not the REST API's {code, message}."""
    return Response(status, {"reason": reason, "error": error})
