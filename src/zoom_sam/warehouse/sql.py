"""Load the SQL statements kept in ``src/zoom_sam/include/sql/`` by name.

Every statement that does real work lives in a ``.sql`` file, where it can be read, reviewed and
run by hand. ``sql("download/merge_users")`` returns ``src/zoom_sam/include/sql/download/merge_users.sql`` as a
``sqlalchemy.text`` with ``:name`` bind parameters. One file holds one statement (both drivers run
exactly one per call). Where SQLite and PostgreSQL need different text, a dialect file beside it
wins: ``merge_users.postgresql.sql`` over ``merge_users.sql`` (pass the dialect name).

The folder is package data (``zoom_sam/include/sql``, :mod:`zoom_sam.package_data`); a
deployment that keeps reviewed copies elsewhere sets ``ZOOM_SAM_SQL_DIR``.
"""
from __future__ import annotations

import os
import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa

from zoom_sam.package_data import package_folder
from zoom_sam.vocabulary import sql_params
from zoom_sam.warehouse.schema import UtcDateTime



def sql_dir() -> Path:
    return Path(os.environ.get("ZOOM_SAM_SQL_DIR") or package_folder("sql"))


def sql(name: str, dialect: str | None = None) -> sa.TextClause:
    """The statement ``src/zoom_sam/include/sql/<name>.sql`` (or its ``<name>.<dialect>.sql`` variant)."""
    return _statement(str(sql_dir()), name, dialect)[0]


@lru_cache(maxsize=None)
def _statement(folder: str, name: str, dialect: str | None) -> tuple[sa.TextClause, frozenset[str]]:
    """The statement and the parameters it uses, parsed once: a reclaim closing a thousand
    candidates runs a few statements per candidate, and parsing each time was most of its cost.
    A ``TextClause`` is never changed in place (``bindparams`` returns a copy), so one serves all."""
    base = Path(folder)
    candidates = ([base / f"{name}.{dialect}.sql"] if dialect else []) + [base / f"{name}.sql"]
    for path in candidates:
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            return sa.text(text), frozenset(_PARAM.findall(text))
    raise FileNotFoundError(f"no SQL file for {name!r}: looked for {', '.join(str(p) for p in candidates)}")


_WORDS = sql_params()

# How sqlalchemy.text() finds ``:name`` parameters (it skips ``::type`` casts).
_PARAM = re.compile(r"(?<![:\w\x5c]):(\w+)(?!:)")


def run_sql(conn: sa.Connection, name: str, params: dict | None = None) -> sa.CursorResult:
    """Execute ``src/zoom_sam/include/sql/<name>.sql`` on ``conn`` in the caller's transaction.

    Only the parameters the statement uses are bound, so one dict can serve several files. The
    shared words (:func:`zoom_sam.vocabulary.sql_params`: ``:state_ready``, ...) are always there.
    Datetimes are bound as :class:`UtcDateTime`, stored exactly like the ORM-side writes (naive
    UTC); a raw driver binding would store another text format on SQLite and break comparisons.
    """
    return run_sql_many(conn, name, [params or {}])


def run_sql_many(conn: sa.Connection, name: str, rows: list[dict]) -> sa.CursorResult:
    """:func:`run_sql` once per row of ``rows`` in one driver call (executemany): a statement run for
    a thousand candidates costs one round of SQLAlchemy's work instead of a thousand. Every row
    carries the same keys; a key is bound as a datetime when any row's value is one."""
    stmt, used = _statement(str(sql_dir()), name, conn.dialect.name)
    values = [{k: v for k, v in (_WORDS | row).items() if k in used} for row in rows]
    typed = [sa.bindparam(k, type_=UtcDateTime) for k in values[0] if any(isinstance(v[k], datetime) for v in values)]
    if typed:
        stmt = stmt.bindparams(*typed)
    return conn.execute(stmt, values)  # one row: a plain execution, any statement
