"""download_subscriptions: the download process (:mod:`zoom_sam.subscriptions.process`).

The merge takes the profile's ``state`` lock itself, so the task runs under none: the Zoom
listing before the merge runs beside other runs of the profile.
"""
from __future__ import annotations

from zoom_sam.operators.base import ProfileOperator


class DownloadSubscriptionsOperator(ProfileOperator):
    process = "zoom_sam.subscriptions.process:run"
    zoom_work = "download_work"
