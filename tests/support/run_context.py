"""A RunContext for calling a process directly, as the operators' base builds it for a task."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from zoom_sam.process import RunContext
from zoom_sam.profiles import Profile
from zoom_sam.rules import Rules
from zoom_sam.warehouse.jobs import Job


def make_context(engine: Engine, profile: Profile, as_of: datetime, *, run_id: str = "test-run",
                 **overrides: Any) -> RunContext:
    """The context of a run of ``profile`` as of ``as_of``: a fresh job record, and the rules the
    warehouse recorded for the profile (``rules=`` overrides them, like any other field)."""
    if "rules" not in overrides:
        with engine.connect() as conn:
            overrides["rules"] = Rules.recorded(conn, profile.alias)
    overrides.setdefault("job", Job())
    return RunContext(profile=profile, warehouse=engine, as_of=as_of, run_id=run_id, **overrides)
