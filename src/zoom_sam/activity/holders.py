"""Who a sweep reads: the holders of active subscriptions, and which shard reads whom.

Holders come from the subscriptions the download task just landed (``holders.sql``): only users
holding an active subscription cost a call. A large account is split into shards, each one
mapped task of the DAG. A holder's shard is a stable hash of its user id, not its position in a
list, so every shard picks its own holders from the same query without coordination, each holder
lands in exactly one shard, and a user added or removed between two shards' reads moves nobody
else.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection

from zoom_sam.warehouse.schema import UtcDateTime
from zoom_sam.warehouse.sql import run_sql


@dataclass(frozen=True)
class Holder:
    user_id: str
    webinar: bool                            # holds the webinar add-on: its webinars are listed too
    since: datetime | None = None            # when its oldest current holding began


def shard_of(user_id: str, shards: int) -> int:
    """The shard (0 .. shards-1) that reads this user; stable across runs and processes."""
    return zlib.crc32(user_id.encode("utf-8")) % shards


def load_holders(conn: Connection, alias: str, *, shard: int = 0, shards: int = 1) -> list[Holder]:
    """The profile's holders that belong to ``shard`` of ``shards``, ordered by user id."""
    if not 0 <= shard < shards:
        raise ValueError(f"shard must be within 0..{shards - 1}, got {shard}")
    to_utc = UtcDateTime().process_result_value  # MIN() over the column comes back untyped
    return [
        Holder(user_id, bool(webinar), to_utc(since, None))
        for user_id, webinar, since in run_sql(conn, "activity/holders", {"alias": alias})
        if shards == 1 or shard_of(user_id, shards) == shard
    ]
