"""The simulation suite: each test drives its own sandbox and warehouse through daily runs."""
from __future__ import annotations

from tests.support.zoom_state import fresh_zoom_state  # noqa: F401  (autouse fixture)
