"""Zoom's ``next_page_token`` paging.

Tokens are stateless: a position, the page number, the issue time and a fingerprint of the query
they belong to, signed with a per-server key. So a token expires after 15 minutes of sandbox
time, a token from one query is refused by another (Zoom: "keep every other parameter
identical"), and a server that hands out millions of tokens stores none of them.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
import struct

from .errors import bad_page_token, invalid_field

TOKEN_TTL_S = 15 * 60
MAX_PAGE_SIZE = 300
DEFAULT_PAGE_SIZE = 30
_LAYOUT = struct.Struct(">qIq8s")  # position, page number, issued at, query fingerprint
_MAC_BYTES = 10


def page_size(query: dict) -> int:
    """The requested page size; Zoom caps it at the maximum rather than refusing."""
    raw = query.get("page_size")
    if raw in (None, ""):
        return DEFAULT_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError:
        raise invalid_field("page_size") from None
    if size < 1:
        raise invalid_field("page_size")
    return min(size, MAX_PAGE_SIZE)


class PageTokens:
    def __init__(self, clock) -> None:
        self._clock = clock
        self._key = secrets.token_bytes(32)

    @staticmethod
    def fingerprint(scope: str, path: str, query: dict) -> bytes:
        parts = [scope, path] + [f"{k}={v}" for k, v in sorted(query.items()) if k not in ("next_page_token", "page_number")]
        return hashlib.blake2b("\n".join(parts).encode(), digest_size=8).digest()

    def issue(self, fingerprint: bytes, position: int, page_number: int) -> str:
        payload = _LAYOUT.pack(position, page_number, int(self._clock.time()), fingerprint)
        mac = hmac.new(self._key, payload, "sha256").digest()[:_MAC_BYTES]
        return base64.urlsafe_b64encode(payload + mac).rstrip(b"=").decode()

    def read(self, token: str, fingerprint: bytes) -> tuple[int, int]:
        """(position, page number) of a valid token for this query; Zoom's 300 otherwise."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (ValueError, TypeError):
            raise bad_page_token() from None
        if len(raw) != _LAYOUT.size + _MAC_BYTES:
            raise bad_page_token()
        payload, mac = raw[: _LAYOUT.size], raw[_LAYOUT.size :]
        if not hmac.compare_digest(mac, hmac.new(self._key, payload, "sha256").digest()[:_MAC_BYTES]):
            raise bad_page_token()
        position, page_number, issued, fp = _LAYOUT.unpack(payload)
        if fp != fingerprint or self._clock.time() - issued > TOKEN_TTL_S:
            raise bad_page_token()
        return position, page_number


def envelope(total: int, size: int, page_number: int, next_token: str) -> dict:
    return {
        "page_count": math.ceil(total / size) if total else 0,
        "page_number": page_number,
        "page_size": size,
        "total_records": total,
        "next_page_token": next_token,
    }
