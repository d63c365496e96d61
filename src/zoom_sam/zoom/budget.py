"""What a task's Zoom calls are measured against: the fewest calls its work needs.

Zoom's rate limits are per account and shared by every app the customer runs, so a call zoom-sam
does not need is taken from someone else's budget. Each task states the minimum its work needs
(listing pages for the items listed, one read per user it must read, one write per change) and
``job_result.counts.api_budget`` puts the calls the client made next to it, per rate-limit
category: a ratio above 1 is retries, 429s, restarted listings or a read nobody needed.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from zoom_sam.zoom.config import PAGE_SIZE


def pages(items: int, page_size: int = PAGE_SIZE) -> int:
    """Pages one listing of ``items`` items needs: one even when it is empty."""
    return max(1, math.ceil(items / page_size))


def api_budget(api: Mapping[str, Any], minimal: Mapping[str, int]) -> dict[str, Any]:
    """``{"calls", "minimal", "ratio", "categories": {category: {"calls", "minimal"}}}``.

    ``api`` is a client's ``stats()`` (or a sum of them), ``minimal`` the task's minimum per
    category. The ratio is None when calls were made where none were needed.
    """
    made = {cat: int(n) for cat, n in (api.get("calls") or {}).items() if n}
    needed = {cat: int(n) for cat, n in minimal.items() if n}
    calls, least = sum(made.values()), sum(needed.values())
    return {
        "calls": calls,
        "minimal": least,
        "ratio": round(calls / least, 3) if least else (1.0 if not calls else None),
        "categories": {cat: {"calls": made.get(cat, 0), "minimal": needed.get(cat, 0)}
                       for cat in sorted(made.keys() | needed.keys())},
    }
