"""download_subscriptions: the operator over :mod:`zoom_sam.subscriptions.download`.

``ZOOM_SAM_BATCH_SIZE`` (default 1000) sets the rows per staging transaction: larger batches
write faster, smaller ones hold less memory. The merge takes the profile's ``state`` lock itself
(the Zoom listing before it runs beside other runs of the profile).
"""
from __future__ import annotations

import os
from typing import Any

from zoom_sam.operators.base import ProfileOperator, ProfileRun


class DownloadSubscriptionsOperator(ProfileOperator):
    def run(self, run: ProfileRun) -> dict[str, Any]:
        from zoom_sam.subscriptions.download import download_subscriptions
        from zoom_sam.timeouts.estimate import download_work

        client = run.zoom_client(download_work)
        try:
            summary = download_subscriptions(client, run.engine, run.profile, run_id=run.run_id, as_of=run.as_of,
                                             job=run.job, try_number=run.try_number,
                                             batch_size=int(os.environ.get("ZOOM_SAM_BATCH_SIZE", 1000)))
        finally:
            client.close()
        run.job.minimal = minimal_calls(run.job.counts, client.config.page_size)
        return summary


def minimal_calls(counts: dict[str, Any], page_size: int) -> dict[str, int]:
    """The download's minimum (all Medium): each status's listing (one page per ``page_size``
    users, one when empty) and one settings read per active Licensed user listed."""
    from zoom_sam.subscriptions.download import STATUSES
    from zoom_sam.zoom.budget import pages

    listed = counts["users_by_status"]
    return {"Medium": sum(pages(listed.get(status, 0), page_size) for status in STATUSES)
            + counts["settings_read"] + counts["settings_user_vanished"]}
