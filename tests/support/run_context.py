"""A process's RunContext for tests: what the operators' base builds from an Airflow task."""
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
    """A context with a fresh job record and the profile's recorded rules, unless ``overrides`` say otherwise."""
    if "rules" not in overrides:
        with engine.connect() as conn:
            overrides["rules"] = Rules.recorded(conn, profile.alias)
    overrides.setdefault("job", Job())
    return RunContext(profile=profile, warehouse=engine, as_of=as_of, run_id=run_id, **overrides)
