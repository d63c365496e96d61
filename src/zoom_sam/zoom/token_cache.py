"""The process's access tokens: one cache entry per credential, renewed by one thread at a time.

Every grant (:mod:`zoom_sam.zoom.auth`, :mod:`zoom_sam.zoom.refresh_chain`) hands out its tokens
through this cache: threads read a fresh cached token without a lock, and when it is about to
expire exactly one of them obtains the next one while the others wait for it. A token Zoom
rejected (401, code 124) is dropped and remembered by fingerprint, so that a chain cannot hand the
same dead token back. What outlives the process (a refresh-token chain) is the chain store's job.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from zoom_sam.zoom.redact import fingerprint

if TYPE_CHECKING:
    from zoom_sam.zoom.auth import AccessToken

CacheKey = tuple[str | None, ...]


@dataclass
class CacheEntry:
    """The process's current token for one credential, and the lock its renewal takes."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    token: AccessToken | None = None
    bad_value_fp: str | None = None  # fingerprint of an access token Zoom rejected (401/124)


_CACHE: dict[CacheKey, CacheEntry] = {}
_CACHE_LOCK = threading.Lock()


def cache_entry(key: CacheKey) -> CacheEntry:
    with _CACHE_LOCK:
        e = _CACHE.get(key)
        if e is None:
            e = _CACHE[key] = CacheEntry()
        return e


def clear_token_cache() -> None:
    """Forget every cached access token in this process (tests; credential rotation)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def remember(key: CacheKey, token: AccessToken) -> None:
    """``token`` was just issued outside a renewal (an authorization code): cache it as good."""
    e = cache_entry(key)
    with e.lock:
        e.token = token
        e.bad_value_fp = None


class CachedGrant:
    """A grant whose tokens are cached per ``key``; a subclass says how to obtain the next one."""

    key: CacheKey
    clock: Callable[[], float]

    def get_token(self) -> AccessToken:
        """Double-checked renewal: the cached token while fresh, else exactly one thread obtains the next."""
        e = cache_entry(self.key)
        tok = e.token
        if tok is not None and tok.fresh(self.clock()):
            return tok
        with e.lock:
            tok = e.token
            if tok is not None and tok.fresh(self.clock()):
                return tok
            e.token = tok = self._obtain(e)
            return tok

    def invalidate(self, token: AccessToken) -> None:
        """Zoom rejected ``token``: drop it from the cache and remember it is dead."""
        e = cache_entry(self.key)
        with e.lock:
            if e.token is not None and e.token.value == token.value:
                e.token = None
            e.bad_value_fp = fingerprint(token.value)

    def _obtain(self, entry: CacheEntry) -> AccessToken:
        raise NotImplementedError
