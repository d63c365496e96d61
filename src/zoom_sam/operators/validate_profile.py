"""validate_profile: the first task of every profile DAG.

Fails fast, before any Zoom call, on what would make the run wrong: the profile file (loaded by
the base class), the warehouse schema (migrated by the base class), the Zoom connection's settings
(read, not used: no request is sent), and ``analyze_activity_from`` against the first run's as-of
while the warehouse has no activity history yet. Then records the profile row (settings, first
as-of, start of the analysed history).
"""
from __future__ import annotations

from typing import Any

from zoom_sam.operators.base import ProfileOperator, ProfileRun


class ValidateProfileOperator(ProfileOperator):
    def run(self, run: ProfileRun) -> dict[str, Any]:
        from zoom_sam.profile_rows import first_as_of, has_activity_history, upsert_profile
        from zoom_sam.profiles import activity_start, check_activity_start

        profile = run.profile
        _check_zoom_connection(profile.zoom_conn_id)
        with run.engine.begin() as conn:
            first = first_as_of(conn, profile.alias) or run.as_of
            history = has_activity_history(conn, profile.alias)
            if not history:
                check_activity_start(profile, first)
            upsert_profile(conn, profile, run.as_of)
        start = activity_start(profile, first)
        run.job.counts.update({"first_as_of": first.isoformat(), "activity_start": start.isoformat(),
                               "activity_history": history})
        return {"alias": profile.alias, "as_of": run.as_of.isoformat(), "first_as_of": first.isoformat(),
                "activity_start": start.isoformat()}


def _check_zoom_connection(conn_id: str) -> None:
    """A connection whose extras the client refuses fails the run now, without retries."""
    from airflow.sdk.exceptions import AirflowFailException

    from zoom_sam.hooks.zoom import ZoomHook

    try:
        ZoomHook(conn_id).get_config()
    except ValueError as exc:
        raise AirflowFailException(f"{exc}; fix the connection (a retry would fail the same way)") from None
