"""A Zoom connection's refresh-token chain in the warehouse table ``oauth_token_chain``.

The warehouse is the one store every worker and the API server reach, so it is where a chain
lives (a file per host would give each host its own chain, and each rotation would strand the
others). The lock that serialises refreshers is the database's own:

* PostgreSQL: ``SELECT ... FOR UPDATE`` on the connection's row, held by the transaction, so
  refreshers on any host queue on it; the row is created first (``ON CONFLICT DO NOTHING``), so
  there is a row to lock even before the chain starts.
* SQLite: the engine opens every transaction with ``BEGIN IMMEDIATE`` (see ``engine.py``), the
  database's write lock, which the other processes of the host wait for.

The transaction commits when the block ends normally, so the rotated refresh token is durable
before the caller hands out the new access token. Tokens are encrypted with the given Fernet
(Airflow's key) and never stored, logged or rendered in clear.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from zoom_sam.warehouse.schema import oauth_token_chain
from zoom_sam.warehouse.upsert import upsert
from zoom_sam.zoom.auth import AccessToken
from zoom_sam.zoom.errors import ZoomAuthError
from zoom_sam.zoom.refresh_chain import ChainRecord, reauthorize_hint
from zoom_sam.zoom.scopes import parse_scope_string

T = oauth_token_chain


class Cipher(Protocol):
    def encrypt(self, msg: bytes) -> bytes: ...
    def decrypt(self, msg: bytes) -> bytes: ...


def _dt(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, tz=timezone.utc)


def _ts(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


class WarehouseTokenChain:
    """The chain of connection ``conn_id`` in the warehouse behind ``engine``."""

    def __init__(self, engine: Engine, conn_id: str, cipher: Cipher) -> None:
        self.engine = engine
        self.conn_id = conn_id
        self._cipher = cipher
        self.ident = f"warehouse:{engine.url.render_as_string(hide_password=True)}"

    def __repr__(self) -> str:
        return f"WarehouseTokenChain(conn_id={self.conn_id!r}, {self.ident})"

    def read(self) -> ChainRecord | None:
        with self.engine.connect() as conn:
            return self._record(self._row(conn, lock=False))

    @contextmanager
    def locked(self) -> Iterator[_Transaction]:
        with self.engine.begin() as conn:
            upsert(conn, T, [{"conn_id": self.conn_id, "updated_at": datetime.now(timezone.utc)}], update=[])
            yield _Transaction(self, conn, self._record(self._row(conn, lock=True)))

    def _row(self, conn: Connection, *, lock: bool) -> sa.RowMapping | None:
        stmt = sa.select(T).where(T.c.conn_id == self.conn_id)
        if lock and conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        return conn.execute(stmt).mappings().first()

    def _seal(self, value: str | None) -> str | None:
        return None if value is None else self._cipher.encrypt(value.encode("utf-8")).decode("ascii")

    def _open(self, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return self._cipher.decrypt(value.encode("ascii")).decode("utf-8")
        except Exception:  # noqa: BLE001 - cryptography's InvalidToken, or a value that is no Fernet token
            raise ZoomAuthError(
                f"cannot decrypt the refresh-token chain of Zoom connection {self.conn_id!r} in {self.ident}: it "
                "was encrypted with another Fernet key. Give Airflow that key again (keys can be listed "
                f"comma-separated, new first), or start a new chain. {reauthorize_hint(self.conn_id)}",
                reauthorize=True) from None

    def _record(self, row: sa.RowMapping | None) -> ChainRecord | None:
        if row is None or row["refresh_token"] is None:
            return None
        access = None
        if row["access_token"] is not None and row["access_expires_at"] is not None:
            access = AccessToken(self._open(row["access_token"]), _ts(row["access_expires_at"]),
                                 parse_scope_string(row["scope"]), row["api_url"], row["access_lifetime_s"])
        return ChainRecord(client_id=row["client_id"], oauth_url=row["oauth_url"],
                           refresh_token=self._open(row["refresh_token"]), access=access,
                           seed_fp=row["seed_fingerprint"], rotations=row["rotations"],
                           rotated_at=_ts(row["rotated_at"]), exchange_lost_at=_ts(row["exchange_lost_at"]))

    def _values(self, record: ChainRecord) -> dict[str, Any]:
        access = record.access
        return {
            "client_id": record.client_id,
            "oauth_url": record.oauth_url,
            "refresh_token": self._seal(record.refresh_token),
            "access_token": self._seal(access.value) if access else None,
            "access_expires_at": _dt(access.expires_at) if access else None,
            "access_lifetime_s": access.lifetime if access else None,
            "scope": " ".join(sorted(access.scopes)) if access else None,
            "api_url": access.api_url if access else None,
            "seed_fingerprint": record.seed_fp,
            "rotations": record.rotations,
            "rotated_at": _dt(record.rotated_at),
            "exchange_lost_at": _dt(record.exchange_lost_at),
            "updated_at": datetime.now(timezone.utc),
        }


class _Transaction:
    """The chain under its lock (see :class:`zoom_sam.zoom.refresh_chain.ChainTransaction`)."""

    def __init__(self, store: WarehouseTokenChain, conn: Connection, record: ChainRecord | None) -> None:
        self._store = store
        self._conn = conn
        self.record = record

    def write(self, record: ChainRecord) -> None:
        self._conn.execute(T.update().where(T.c.conn_id == self._store.conn_id).values(**self._store._values(record)))
