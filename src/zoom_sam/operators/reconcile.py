"""reconcile: the operator over :func:`zoom_sam.reconcile.process.run`, and the profile's Asset.

Each successful run emits an event on the Asset ``zoom_sam_license_position_<alias>``
(``zoom-sam://<alias>/license_position``), so a Finance or BI DAG can be scheduled on a
profile's new license position instead of guessing when it lands::

    from zoom_sam.operators.reconcile import license_position_asset
    with DAG("finance_zoom", schedule=[license_position_asset("acme")]): ...

The event's ``extra`` carries the as-of, so the consumer reads exactly that position.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import Asset

from zoom_sam.operators.base import ProfileOperator
from zoom_sam.warehouse.lock_names import STATE

if TYPE_CHECKING:
    from zoom_sam.process import RunContext, Summary


def license_position_asset(profile_alias: str) -> Asset:
    """The Asset a profile's reconcile updates: its ``license_position`` rows."""
    return Asset(name=f"zoom_sam_license_position_{profile_alias}", uri=f"zoom-sam://{profile_alias}/license_position",
                 group="zoom_sam")


class ReconcileOperator(ProfileOperator):
    """Reconcile the profile as of the run's data_interval_end.

    Runs under the profile's ``state`` lock: runs of a backfill must not interleave their candidate
    updates, and a download merge must not land in the middle. ``max_active_tis_per_dag=1`` keeps
    the scheduler from starting instances that would only wait for the lock.
    """

    warehouse_lock = STATE
    process = "zoom_sam.reconcile.process:run"
    zoom_work = None

    def __init__(self, *, profile_alias: str, **kwargs: Any) -> None:
        kwargs.setdefault("outlets", [license_position_asset(profile_alias)])
        kwargs.setdefault("max_active_tis_per_dag", 1)
        super().__init__(profile_alias=profile_alias, **kwargs)

    def finish(self, context: Any, ctx: RunContext, summary: Summary) -> None:
        context["outlet_events"][license_position_asset(ctx.profile.alias)].extra = {
            "as_of": summary.report["as_of"], "models": summary.report["models"],
        }
