"""Batched upserts by natural key, the one way rows are written row-by-row into the warehouse.

``INSERT ... ON CONFLICT (key) DO UPDATE`` exists with the same shape on SQLite (3.24+) and
PostgreSQL, so a re-run or a retried task overwrites its rows instead of duplicating them. Rows
arrive as any iterable (a generator of API pages is fine) and are sent in batches, so memory
is bounded by the batch size, not by the data set.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

DEFAULT_BATCH_SIZE = 1000

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def upsert(
    target: Connection | Engine,
    table: sa.Table,
    rows: Iterable[Mapping[str, Any]],
    *,
    key: Sequence[str] | None = None,
    update: Sequence[str] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> int:
    """Insert ``rows`` into ``table``, updating the existing row on a ``key`` conflict.

    ``key`` defaults to the primary key (it must match a unique index); ``update`` names the
    columns overwritten on conflict, by default every column of the first row that is not part of
    the key (so ``first_seen_at`` style columns are kept by leaving them out of ``update``).
    Every row of one call must carry the same columns. Given a Connection the caller's transaction
    holds the writes; given an Engine each batch commits on its own. Returns the rows written
    (rows repeating a key within one batch count once).
    """
    key = list(key or (c.name for c in table.primary_key.columns))
    written = 0
    for batch in _batches(rows, batch_size):
        # One statement may not touch a row twice (PostgreSQL refuses): the last row per key wins.
        batch = list({tuple(row[k] for k in key): row for row in batch}.values())
        columns = list(batch[0])
        set_cols = [c for c in (update if update is not None else columns) if c not in key]
        stmt = _insert_for(target)(table)
        if set_cols:
            stmt = stmt.on_conflict_do_update(index_elements=key, set_={c: stmt.excluded[c] for c in set_cols})
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=key)
        if isinstance(target, Engine):
            with target.begin() as conn:
                conn.execute(stmt, batch)
        else:
            target.execute(stmt, batch)
        written += len(batch)
    return written


def _insert_for(target: Connection | Engine):
    name = target.dialect.name
    try:
        return _INSERTS[name]
    except KeyError:
        raise ValueError(f"upsert supports {', '.join(sorted(_INSERTS))}, not {name!r}") from None


def _batches(rows: Iterable[Mapping[str, Any]], size: int) -> Iterator[list[Mapping[str, Any]]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch
