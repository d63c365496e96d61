"""The profile check, first process of every run: fail fast, before any Zoom call, on what would
make the run wrong.

The profile file and the warehouse schema were already checked by the operators' base (loaded,
migrated). Here: the Zoom connection's settings (read, not used: no request is sent), and
``analyze_activity_from`` against the first run's as-of while the warehouse has no activity
history yet. Then the profile row is recorded (settings, first as-of, start of the analysed
history), which every later process reads.
"""
from __future__ import annotations

from zoom_sam.errors import ConfigurationError
from zoom_sam.process import RunContext, Summary, ZoomAccess
from zoom_sam.profile_rows import first_as_of, has_activity_history, upsert_profile
from zoom_sam.profiles import activity_start, check_activity_start


def run(ctx: RunContext, zoom: ZoomAccess) -> Summary:
    """Check the profile's Zoom connection and onboarding window; record the profile row."""
    profile = ctx.profile
    _check_zoom_connection(zoom)
    with ctx.warehouse.begin() as conn:
        first = first_as_of(conn, profile.alias) or ctx.as_of
        history = has_activity_history(conn, profile.alias)
        if not history:
            check_activity_start(profile, first)
        upsert_profile(conn, profile, ctx.as_of)
    start = activity_start(profile, first)
    return Summary(
        report={"alias": profile.alias, "as_of": ctx.as_of.isoformat(), "first_as_of": first.isoformat(),
                "activity_start": start.isoformat()},
        counts={"first_as_of": first.isoformat(), "activity_start": start.isoformat(), "activity_history": history},
    )


def _check_zoom_connection(zoom: ZoomAccess) -> None:
    """A connection whose extras the client refuses fails the run now, without retries."""
    try:
        zoom.config()
    except ValueError as exc:
        raise ConfigurationError(f"{exc}; fix the connection (a retry would fail the same way)") from None
