"""A process's context built the way a test calls it: no scheduler, no ``job_result`` row.

The operators' base builds the same ``RunContext`` from an Airflow task; tests call a process's
``run(ctx, zoom)`` directly with this one and read what it recorded on ``ctx.job``.
"""
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
    """A context for ``profile`` on ``engine``: a fresh ``Job`` and the rules the warehouse recorded
    for the profile (as every task of a run reads them), each replaceable through ``overrides``."""
    if "job" not in overrides:
        overrides["job"] = Job()
    if "rules" not in overrides:
        with engine.connect() as conn:
            overrides["rules"] = Rules.recorded(conn, profile.alias)
    return RunContext(profile=profile, warehouse=engine, as_of=as_of, run_id=run_id, **overrides)
