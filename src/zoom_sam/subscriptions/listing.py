"""Every user of every status streamed into staging, with the settings of those who can hold add-ons.

Active users are listed page by page, read ahead by a thread of their own (two pages); active
Licensed users (the only ones that can hold paid add-ons) are fed lazily into
``client.map_concurrent``, which reads their settings concurrently within the account's rate
limit while the listing goes on. Inactive and pending users follow
(no settings: they hold no add-ons; a pending invitation with type 2 holds the seat).

A user deleted between its listing and its settings read held the seat when listed; the next run
sees it gone. Any other error stops the staging: the caller must not merge an incomplete snapshot.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from zoom_sam.licensing import can_hold_addons
from zoom_sam.profiles import Profile
from zoom_sam.subscriptions.progress import Progress
from zoom_sam.subscriptions.snapshot import subscription_rows, user_row
from zoom_sam.subscriptions.staging import StageWriter
from zoom_sam.vocabulary import UserStatus
from zoom_sam.zoom.client import ZoomClient
from zoom_sam.zoom.concurrency import read_ahead
from zoom_sam.zoom.errors import ZoomNotFound

# Two of Zoom's largest pages: the next one is on its way while the pool works through one.
LISTED_AHEAD = 600


def stage_snapshot(client: ZoomClient, profile: Profile, stage: StageWriter, progress: Progress,
                   max_in_flight: int | None) -> None:
    """Stream every user of every status into ``stage``, with the subscriptions each one holds."""

    def addon_holders() -> Iterator[dict[str, Any]]:
        for user in read_ahead(client.list_users(UserStatus.ACTIVE), ahead=LISTED_AHEAD):
            progress.listed(UserStatus.ACTIVE)
            stage.add_user(user_row(user))
            if can_hold_addons(user):
                yield user
            else:
                stage.add_subscriptions(subscription_rows(profile, user, None))

    def read_settings(user: dict[str, Any]) -> dict[str, Any]:
        return client.get_user_settings(user["id"])

    for user, settings in client.map_concurrent(read_settings, addon_holders(), max_in_flight=max_in_flight):
        if isinstance(settings, ZoomNotFound):
            progress.settings(found=False)
            settings = None
        elif isinstance(settings, Exception):
            raise settings
        else:
            progress.settings(found=True)
        stage.add_subscriptions(subscription_rows(profile, user, settings))
    for status in (UserStatus.INACTIVE, UserStatus.PENDING):
        for user in client.list_users(status):
            progress.listed(status)
            stage.add_user(user_row(user))
            stage.add_subscriptions(subscription_rows(profile, user, None))
    stage.flush()
