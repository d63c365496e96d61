"""Helpers shared by the Zoom client tests (imported by conftest and tests)."""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone



from zoom_sam.zoom.client import ZoomConfig

from tests.support.sandbox import authorization_code

ANCHOR = datetime(2026, 11, 28, tzinfo=timezone.utc)
REDIRECT = "http://127.0.0.1:1/zoom/oauth/callback"
FAST = {"backoff_base": 0.02, "backoff_max": 0.2}  # keep retry sleeps short in tests


def conn_of(sb, **extra) -> dict:
    return json.loads(sb.connection_json(**extra))


def config_for(sb, extra: dict | None = None, **overrides) -> ZoomConfig:
    c = conn_of(sb, **(extra or {}))
    for k, v in FAST.items():
        overrides.setdefault(k, v)
    return ZoomConfig.from_connection_fields(host=c["host"], login=c["login"], password=c["password"],
                                             extra=c["extra"], **overrides)


def api_records(sb, method: str | None = None, path_re: str | None = None):
    rx = re.compile(path_re) if path_re else None
    return [r for r in sb.log if r.path.startswith("/v2") and (method is None or r.method == method)
            and (rx is None or rx.search(r.path))]


def token_records(sb):
    return [r for r in sb.log if r.path == "/oauth/token"]


def _authorize(sb) -> str:
    return authorization_code(sb, REDIRECT)
