"""Zoom client state is process-wide by design (one token cache, one limiter per account and
category), so tests must not share it: import ``fresh_zoom_state`` into a suite's conftest."""
from __future__ import annotations

import pytest

from zoom_sam.zoom.token_cache import clear_token_cache
from zoom_sam.zoom.ratelimit import reset_limiters


@pytest.fixture(autouse=True)
def fresh_zoom_state():
    clear_token_cache()
    reset_limiters()
    yield
    clear_token_cache()
    reset_limiters()
