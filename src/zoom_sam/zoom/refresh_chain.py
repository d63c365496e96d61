"""Admin-managed apps: access tokens from a refresh-token chain that Zoom rotates on every refresh.

Each exchange of a refresh token returns a new one and kills the old one at once, so the refresh
tokens of one authorization form a chain in which only the newest link works. What keeps it
alive:

* **One chain per Airflow connection**, keyed by the connection id, in a
  :class:`TokenChainStore` that every component using the connection reads (the warehouse:
  :mod:`zoom_sam.warehouse.token_chain`). A chain records the client id and token endpoint that
  issued it and is refused for any other; it never serves another connection.
* **Renewal under the store's lock.** A process that needs a new access token first uses the one
  the chain holds if it is still fresh (another process renewed it); otherwise it takes the
  chain's lock, reads the chain again (a refresher it waited for may just have renewed it), and
  only then exchanges the refresh token.
* **The new refresh token is stored first.** The lock's transaction commits the rotated chain
  before the new access token is handed to anyone; if that write fails, the token is never used.
* **A lost answer is not retried blindly.** When the exchange reached Zoom but its answer was
  lost (a read timeout, a dropped connection, a 5xx), Zoom may or may not have rotated the
  token. It is sent once more, with the same token: if Zoom had not rotated it, that exchange
  simply succeeds; if it had, Zoom refuses the old token and the chain is reported dead as a
  *rotation lost*. Nothing else can recover a rotation whose answer is gone, and re-sending the
  old token can only be refused, so this one resend costs nothing. If that answer is lost too,
  the chain is marked (``exchange_lost_at``) and the task fails as retryable: a later attempt
  with the same token either continues the chain or is refused and then says the rotation was
  lost.
* **Any refusal from the token endpoint fails at once** with what to do: a dead chain
  (revoked, expired, rotated away) needs an admin to reauthorize the app (:func:`reauthorize_hint`).

A chain is started (seeded) by the first task that uses the connection, from the refresh token
in its ``refresh_token`` extra, or by :func:`exchange_authorization_code`. A later, different
``refresh_token`` extra replaces a dead chain: that is how an admin reauthorizes.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Protocol

from zoom_sam.zoom.auth import AccessToken, MaskFn, token_from_response
from zoom_sam.zoom.errors import ZoomAuthError
from zoom_sam.zoom.redact import fingerprint
from zoom_sam.zoom.token_cache import CacheEntry, CachedGrant, CacheKey, remember
from zoom_sam.zoom.token_endpoint import TokenEndpoint

log = logging.getLogger(__name__)

# Per attempt. Two attempts and the backoff between them must end well within the 60 s other
# refreshers of the chain wait for its lock (the SQLite busy timeout of the warehouse).
EXCHANGE_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class ChainRecord:
    """A connection's chain as stored, decrypted. ``repr`` shows no token."""

    client_id: str
    oauth_url: str
    refresh_token: str = field(repr=False)
    access: AccessToken | None = None
    seed_fp: str | None = None           # fingerprint of the connection's refresh_token extra it started from
    rotations: int = 0                   # refresh-token exchanges since it started
    rotated_at: float | None = None
    exchange_lost_at: float | None = None  # an exchange of ``refresh_token`` lost its answer then


class ChainTransaction(Protocol):
    """The chain under its lock: ``record`` as read after the lock was taken (None: no chain)."""

    record: ChainRecord | None

    def write(self, record: ChainRecord) -> None: ...


class TokenChainStore(Protocol):
    """Where one connection's chain lives. ``locked`` serialises refreshers across processes and
    hosts and commits what was written when the block ends without an exception."""

    conn_id: str
    ident: str

    def read(self) -> ChainRecord | None: ...
    def locked(self) -> AbstractContextManager[ChainTransaction]: ...


def reauthorize_hint(conn_id: str) -> str:
    """What an admin does about a dead or missing chain."""
    return (f"To reauthorize: have an admin of the Zoom account connect it again, with \"Connect Zoom account\" "
            f"on the profile page in the Airflow UI or `python -m zoom_sam.connect {conn_id}` on a server without "
            f"a browser; or have the admin authorize the app, then put the new refresh token in the "
            f"`refresh_token` extra of connection {conn_id!r} (the next task starts a new chain from it), or "
            f"exchange the authorization code with "
            f"ZoomHook({conn_id!r}).seed_from_authorization_code(code, redirect_uri).")


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


class RefreshTokenAuth(CachedGrant):
    """Access tokens for one connection from its refresh-token chain; thread- and process-safe."""

    def __init__(self, endpoint: TokenEndpoint, chain: TokenChainStore, *, seed_refresh_token: str | None = None,
                 clock: Callable[[], float] = time.time, mask: MaskFn | None = None) -> None:
        self.endpoint = endpoint
        self.chain = chain
        self._seed = seed_refresh_token or None
        self.clock = clock
        self.mask = mask
        self.key = chain_cache_key(chain, endpoint)
        if mask and self._seed:
            mask(self._seed)

    def __repr__(self) -> str:
        return f"RefreshTokenAuth(conn_id={self.chain.conn_id!r}, store={self.chain!r})"

    def _obtain(self, e: CacheEntry) -> AccessToken:
        record = self.chain.read()
        tok = self._reusable(record, e)
        if tok is not None:
            return tok
        if record is None and not self._seed:
            raise self._no_chain()
        with self.chain.locked() as txn:
            outcome = self._renew(txn, e)
        if isinstance(outcome, ZoomAuthError):  # raised only now, so that what the block wrote is committed
            raise outcome
        return outcome

    def _matches(self, record: ChainRecord) -> bool:
        return (record.client_id, record.oauth_url) == (self.endpoint.client_id, self.endpoint.oauth_url)

    def _reusable(self, record: ChainRecord | None, e: CacheEntry) -> AccessToken | None:
        """The chain's access token, if it is this app's, fresh, and not the one Zoom just rejected."""
        if record is None or record.access is None or not self._matches(record):
            return None
        tok = record.access
        if not tok.fresh(self.clock()) or fingerprint(tok.value) == e.bad_value_fp:
            return None
        if self.mask:
            self.mask(tok.value)
        return tok

    def _renew(self, txn: ChainTransaction, e: CacheEntry) -> AccessToken | ZoomAuthError:
        record = txn.record
        seed_fp = fingerprint(self._seed)
        new_seed = self._seed is not None and (record is None or seed_fp != record.seed_fp)
        if record is not None and not self._matches(record):
            if not new_seed:
                raise self._mismatch(record)
            log.warning("Connection %r names another app than its stored chain; starting a new chain from its "
                        "refresh_token extra", self.chain.conn_id)
            return self._exchange(txn, self._seed, seed_fp, previous=None)
        tok = self._reusable(record, e)
        if tok is not None:  # renewed by the refresher this one waited for
            return tok
        if record is None:
            return self._exchange(txn, self._seed, seed_fp, previous=None)
        try:
            return self._exchange(txn, record.refresh_token, record.seed_fp, previous=record)
        except ZoomAuthError as exc:
            if not (exc.reauthorize and new_seed):
                raise
            log.warning("The stored chain of connection %r is dead; starting a new one from its refresh_token "
                        "extra", self.chain.conn_id)
            return self._exchange(txn, self._seed, seed_fp, previous=None)

    def _exchange(self, txn: ChainTransaction, refresh_token: str, seed_fp: str | None,
                  previous: ChainRecord | None) -> AccessToken | ZoomAuthError:
        source = "the stored chain" if previous is not None else "the `refresh_token` extra"
        log.info("Refreshing the Zoom access token of connection %r (refresh_token grant, from %s)",
                 self.chain.conn_id, source)
        try:
            data = self.endpoint.post({"grant_type": "refresh_token", "refresh_token": refresh_token},
                                      secrets=(refresh_token,), resend_lost=1,
                                      timeout=min(self.endpoint.timeout, EXCHANGE_TIMEOUT_S))
        except ZoomAuthError as exc:
            if not exc.retryable:
                raise self._refused(exc, source, previous) from None
            if not exc.answer_lost:
                raise
            if previous is not None:
                txn.write(replace(previous, exchange_lost_at=self.clock()))
            return self._lost(exc, source)
        return _store_exchange(txn, self.endpoint, data, str(data.get("refresh_token") or refresh_token),
                              now=self.clock(), mask=self.mask, seed_fp=seed_fp,
                              rotations=(previous.rotations if previous else 0) + 1)

    # ------------------------------------------------------------------ what went wrong, and what to do

    def _no_chain(self) -> ZoomAuthError:
        conn_id = self.chain.conn_id
        return ZoomAuthError(
            f"no refresh-token chain is stored for Zoom connection {conn_id!r}. A task starts it from the "
            "connection's `refresh_token` extra; a connection test never does, because it may run under a "
            "temporary connection id, and a chain started there would use up the token the connection's own "
            f"chain needs. {reauthorize_hint(conn_id)}", reauthorize=True)

    def _mismatch(self, record: ChainRecord) -> ZoomAuthError:
        return ZoomAuthError(
            f"the refresh-token chain stored for Zoom connection {self.chain.conn_id!r} was issued to client id "
            f"{record.client_id!r} at {record.oauth_url}, but the connection now names client id "
            f"{self.endpoint.client_id!r} at {self.endpoint.oauth_url}; a chain works only for the app that "
            "issued it. Put a refresh token issued to the connection's app in its `refresh_token` extra to start "
            "a new chain, or restore the connection's client id and OAuth URL.")

    def _refused(self, exc: ZoomAuthError, source: str, previous: ChainRecord | None) -> ZoomAuthError:
        conn_id = self.chain.conn_id
        if exc.status == 401:
            return ZoomAuthError(
                f"Zoom refused the client id and secret of connection {conn_id!r} at {self.endpoint.oauth_url} "
                f"(HTTP 401: {exc.reason}); correct the connection's login and password. The refresh-token chain "
                "was not used.", status=exc.status, reason=exc.reason)
        if exc.answer_lost:
            why = ("an exchange of this token just lost its answer, so Zoom had rotated it and the new token never "
                   "arrived (rotation lost)")
        elif previous is not None and previous.exchange_lost_at is not None:
            why = (f"an exchange of this token at {_when(previous.exchange_lost_at)} lost its answer, so Zoom "
                   "rotated it then and the new token never arrived (rotation lost)")
        else:
            why = ("it was revoked, expired unused, or already exchanged (each refresh token works once; a chain "
                   "seeded twice, or used outside zoom-sam, dies this way)")
        return ZoomAuthError(
            f"Zoom refused the refresh token from {source} of connection {conn_id!r} (HTTP {exc.status}: "
            f"{exc.reason}): {why}. The chain is dead. {reauthorize_hint(conn_id)}",
            status=exc.status, reason=exc.reason, reauthorize=True)

    def _lost(self, exc: ZoomAuthError, source: str) -> ZoomAuthError:
        return ZoomAuthError(
            f"the answers to exchanging the refresh token from {source} of connection {self.chain.conn_id!r} were "
            f"lost ({exc}). Zoom may have rotated it; the token is kept. The next attempt either continues the "
            "chain or, if Zoom did rotate it, reports the rotation as lost.",
            status=exc.status, retryable=True, answer_lost=True)


def _store_exchange(txn: ChainTransaction, endpoint: TokenEndpoint, data: dict[str, Any], refresh_token: str, *,
                   now: float, mask: MaskFn | None, seed_fp: str | None = None, rotations: int = 0) -> AccessToken:
    """Write the chain an exchange's answer continues (its refresh token, its access token) and
    return the access token: written under the chain's lock, before anyone may use it."""
    tok = token_from_response(data, now)
    if mask:
        mask(tok.value)
        mask(refresh_token)
    txn.write(ChainRecord(client_id=endpoint.client_id, oauth_url=endpoint.oauth_url, refresh_token=refresh_token,
                          access=tok, seed_fp=seed_fp, rotations=rotations, rotated_at=now))
    return tok


def chain_cache_key(chain: TokenChainStore, endpoint: TokenEndpoint) -> CacheKey:
    """The process-cache key of a chain's access token: where it is stored, whose it is, which app."""
    return ("rt", chain.ident, chain.conn_id, endpoint.oauth_url, endpoint.client_id)


def exchange_authorization_code(endpoint: TokenEndpoint, chain: TokenChainStore, *, code: str, redirect_uri: str,
                                code_verifier: str | None = None, clock: Callable[[], float] = time.time,
                                mask: MaskFn | None = None) -> AccessToken:
    """Start (or replace) a connection's chain from an authorization code: the OAuth callback's step.

    A code works once, so a lost answer is not sent again: the admin authorizes again.
    """
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if code_verifier:
        form["code_verifier"] = code_verifier
    with chain.locked() as txn:
        try:
            data = endpoint.post(form, secrets=(code,), resend_lost=0)
        except ZoomAuthError as exc:
            raise ZoomAuthError(f"exchanging the authorization code for connection {chain.conn_id!r} failed ({exc}); "
                                "a code works once and for 5 minutes: authorize the app again for a new one",
                                status=exc.status, reason=exc.reason, answer_lost=exc.answer_lost) from None
        if not data.get("refresh_token"):
            raise ZoomAuthError("Zoom's token response to the authorization code carried no refresh_token")
        tok = _store_exchange(txn, endpoint, data, str(data["refresh_token"]), now=clock(), mask=mask)
    remember(chain_cache_key(chain, endpoint), tok)
    log.info("Started the refresh-token chain of connection %r from an authorization code (%d scopes)",
             chain.conn_id, len(tok.scopes))
    return tok
