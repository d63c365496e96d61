"""Keeping secrets out of text: scrubbing known values and fingerprinting them.

Zoom's error answers may echo what was sent, so every secret a request carried is replaced
before the text can reach a log or an exception. A fingerprint lets code compare two secrets
("is this the token that started the chain?", "is this the token Zoom just rejected?") without
keeping either.
"""
from __future__ import annotations

import hashlib


def scrub(text: str, secrets: tuple[str | None, ...]) -> str:
    """``text`` with every (non-trivial) secret replaced by ``***``."""
    for s in secrets:
        if s and len(s) >= 4:
            text = text.replace(s, "***")
    return text


def fingerprint(value: str | None) -> str | None:
    """A short non-reversible fingerprint of a secret; None for no secret."""
    if not value:
        return None
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]
