"""Warehouse locks: a critical section of a profile runs one at a time, whoever runs it.

The lock lives with the warehouse rather than in an Airflow setting a user can change (a backfill
ignores the DAG's ``max_active_runs``); which steps share which lock is decided in
:mod:`zoom_sam.warehouse.lock_names`.

The lock is crash-safe on both back ends: on PostgreSQL a session-level advisory lock held on a
connection of its own, which the server releases when the session ends; on SQLite an OS file
lock (``flock``) on a file beside the database file, which the kernel releases when the process
dies. Who holds it is recorded in ``run_lock`` so that a waiting task can say for whom it waits.
Waiting is bounded (``ZOOM_SAM_LOCK_WAIT_SECONDS``, default one hour) and ends in
:class:`LockTimeout`, which fails the task (a retry queues again).
"""
from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from zoom_sam.errors import ConfigurationError, RetryableError
from zoom_sam.warehouse.owner import Owner
from zoom_sam.warehouse.schema import run_lock
from zoom_sam.warehouse.upsert import upsert

log = logging.getLogger(__name__)

WAIT_ENV = "ZOOM_SAM_LOCK_WAIT_SECONDS"
DEFAULT_WAIT_S = 3600.0
# A waiting task says again, this often, that it still waits and who holds the lock now.
LOG_EVERY_S = 60.0
_LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL: lock_timeout expired


class LockTimeout(RetryableError):
    """Waited as long as allowed for a lock another task holds; nothing was changed."""


class LockLost(RetryableError):
    """The lock's PostgreSQL session ended while its critical section ran: another run may have entered."""


def wait_limit() -> float:
    """How long a task waits for a lock: ``ZOOM_SAM_LOCK_WAIT_SECONDS``, default one hour."""
    return float(os.environ.get(WAIT_ENV) or DEFAULT_WAIT_S)


@contextmanager
def profile_lock(engine: Engine, alias: str, name: str, owner: Owner, *,
                 wait_s: float | None = None) -> Iterator[float]:
    """Hold lock ``name`` of profile ``alias`` for the block; yields the seconds spent waiting.

    Raises :class:`LockTimeout` when the lock stays taken for ``wait_s`` (default
    :func:`wait_limit`), and :class:`LockLost` after a block that completed while the lock's
    session was gone.
    """
    limit = wait_limit() if wait_s is None else wait_s
    lock = _lock_for(engine, alias, name)
    started = time.monotonic()
    try:
        if not lock.try_acquire():
            _wait(lock, engine, alias, name, owner, started, limit)
    except BaseException:
        lock.abandon()
        raise
    waited = time.monotonic() - started
    label = _label(alias, name)
    held_from = time.monotonic()
    completed = False
    try:
        upsert(engine, run_lock, [{"profile_alias": alias, "lock_name": name, "run_id": owner.run_id,
                                   "task_id": owner.task_id, "try_number": owner.try_number,
                                   "hostname": owner.hostname, "pid": owner.pid,
                                   "acquired_at": datetime.now(timezone.utc)}])
        log.info("holding %s (waited %.1f s)", label, waited)
        yield waited
        completed = True
    finally:
        still_held = lock.release()
        _forget(engine, alias, name, owner)
    log.info("released %s after %.1f s", label, time.monotonic() - held_from)
    if completed and not still_held:
        raise LockLost(f"{label} was lost while {owner.describe()} held it (its database session ended); "
                       "another run may have run the same step meanwhile: a retry repeats it safely")


def _wait(lock, engine: Engine, alias: str, name: str, owner: Owner, started: float, limit: float) -> None:
    label = _label(alias, name)
    first = True
    while True:
        so_far = time.monotonic() - started
        holder = _holder_of(engine, alias, name)
        if so_far >= limit:
            raise LockTimeout(
                f"{owner.describe()} gave up after waiting {so_far:.0f} s for {label}, held by {holder}; nothing "
                f"was changed. Raise {WAIT_ENV} (now {limit:.0f} s) if that task is expected to take this long")
        if first:
            log.info("waiting for %s, held by %s; giving up after %.0f s (%s)", label, holder, limit, WAIT_ENV)
        else:
            log.info("still waiting for %s after %.0f s, held by %s", label, so_far, holder)
        first = False
        if lock.acquire(min(LOG_EVERY_S, limit - so_far)):
            return


def _holder_of(engine: Engine, alias: str, name: str) -> str:
    """Who holds the lock, as recorded when it was taken (for messages)."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(run_lock).where(run_lock.c.profile_alias == alias,
                                                     run_lock.c.lock_name == name)).mappings().first()
    if row is None:
        return "a task that has not recorded itself yet"
    holder = Owner(row["run_id"], row["task_id"], row["try_number"], row["hostname"], row["pid"])
    return f"{holder.describe()} since {row['acquired_at']:%Y-%m-%d %H:%M:%S}Z"


def _forget(engine: Engine, alias: str, name: str, owner: Owner) -> None:
    """Remove this holder's row; a row left behind is harmless (the next holder overwrites it)."""
    t = run_lock
    try:
        with engine.begin() as conn:
            conn.execute(t.delete().where(t.c.profile_alias == alias, t.c.lock_name == name,
                                          t.c.run_id == owner.run_id, t.c.hostname == owner.hostname,
                                          t.c.pid == owner.pid))
    except sa.exc.SQLAlchemyError as exc:
        log.warning("could not remove the holder row of %s: %s", _label(alias, name), exc)


def _label(alias: str, name: str) -> str:
    return f"the warehouse lock {name!r} of profile {alias}"


def _lock_for(engine: Engine, alias: str, name: str):
    if engine.dialect.name == "postgresql":
        return AdvisoryLock(engine, advisory_key(alias, name))
    database = engine.url.database
    if not database or database == ":memory:":
        raise ConfigurationError("warehouse locks need a SQLite database file (an in-memory database cannot be shared)")
    path = Path(database).resolve()
    return FileLock(path.with_name(path.name + ".locks") / f"{alias}.{name}.lock")


def advisory_key(alias: str, name: str) -> int:
    """A stable signed 64-bit key per (profile, lock) for PostgreSQL's advisory locks."""
    digest = hashlib.blake2b(f"zoom_sam/{alias}/{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class AdvisoryLock:
    """A PostgreSQL session-level advisory lock on a connection of its own.

    The connection runs in autocommit, so it is never "idle in transaction" while the task works on
    other connections. It goes back to the pool only after an unlock the server confirmed; in any
    other case the session is closed, so no lock can outlive the critical section in the pool.
    """

    def __init__(self, engine: Engine, key: int) -> None:
        self.key = key
        self.conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def try_acquire(self) -> bool:
        return bool(self.conn.execute(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}).scalar())

    def acquire(self, timeout_s: float) -> bool:
        """Block in the server's lock queue (first come, first served) for up to ``timeout_s``."""
        self.conn.execute(sa.text("SELECT set_config('lock_timeout', :ms, false)"),
                          {"ms": str(max(1, int(timeout_s * 1000)))})
        try:
            self.conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": self.key})
            return True
        except sa.exc.OperationalError as exc:
            # psycopg 3 names the SQLSTATE ``sqlstate``, psycopg2 ``pgcode``
            if (getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)) == _LOCK_NOT_AVAILABLE:
                return False
            raise
        finally:
            self.conn.execute(sa.text("SELECT set_config('lock_timeout', '0', false)"))

    def release(self) -> bool:
        """Unlock; False when the session no longer held the lock (it ended meanwhile)."""
        try:
            unlocked = bool(self.conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": self.key}).scalar())
        except sa.exc.DBAPIError:
            unlocked = False
        if unlocked:
            self.conn.close()
        else:
            self.abandon()
        return unlocked

    def abandon(self) -> None:
        """Close the session: whatever it held is released by the server."""
        self.conn.invalidate()
        self.conn.close()


class FileLock:
    """An exclusive ``flock`` on a file beside the SQLite database, released by the kernel with the process."""

    POLL_S = (0.01, 0.25)  # first and longest pause between attempts while waiting

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)

    def try_acquire(self) -> bool:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def acquire(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        pause = self.POLL_S[0]
        while not self.try_acquire():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(pause, left))
            pause = min(pause * 2, self.POLL_S[1])
        return True

    def release(self) -> bool:
        self.abandon()
        return True

    def abandon(self) -> None:
        os.close(self.fd)  # closing the descriptor drops the lock
