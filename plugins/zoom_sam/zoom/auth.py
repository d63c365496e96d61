"""Zoom OAuth: Server-to-Server (account_credentials) and authorization-code / refresh-token grants.

Server-to-Server OAuth
    ``POST oauth_url`` form ``grant_type=account_credentials&account_id=...`` with HTTP Basic client
    auth; 1 h token, no refresh token. One cached token per account and process, keyed by
    (oauth_url, account_id, client_id, secret fingerprint), renewed ``leeway`` (60 s) before expiry
    and on a 401 / code 124 (:meth:`TokenProvider.invalidate`).

Authorization code + refresh token
    Refresh tokens ROTATE: every refresh returns a new one and the old one dies. Refreshes are
    therefore serialised per account across threads (a lock) and processes (the store's file
    lock), and the new refresh token is written to the :class:`RefreshTokenStore` *before* the
    new access token is handed to anyone. The store also keeps the access token and its expiry, so
    other processes reuse it instead of refreshing again. The store is seeded once from the
    connection's initial refresh token; afterwards it is the source of truth.

Nothing here logs or renders a token or a secret; ``repr`` of every object is secret-free.
"""
from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode

import requests

from zoom_sam.zoom.errors import ZoomAuthError, ZoomMalformedResponse
from zoom_sam.zoom.ratelimit import backoff_delay
from zoom_sam.zoom.scopes import parse_scope_string
from zoom_sam.zoom.shapes import token_problem

log = logging.getLogger(__name__)

DEFAULT_OAUTH_URL = "https://zoom.us/oauth/token"
DEFAULT_AUTHORIZE_URL = "https://zoom.us/oauth/authorize"
RENEW_LEEWAY_S = 60.0
TOKEN_ENDPOINT_ATTEMPTS = 4

MaskFn = Callable[[str], None]

_MALFORMED_TOKEN_HINT = (
    "No token was taken from it. Retry later; if it persists, check what answers at the connection's "
    "oauth_url (a proxy, a captive portal, a wrong URL). With the refresh_token grant the answer may "
    "have spent the stored refresh token: if the next try is refused, reauthorize the Zoom app")


def fingerprint(value: str | None) -> str | None:
    """A short non-reversible fingerprint (cache keys, "is this the same seed")."""
    if not value:
        return None
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]


def _scrub(text: str, secrets: tuple[str | None, ...]) -> str:
    for s in secrets:
        if s and len(s) >= 4:
            text = text.replace(s, "***")
    return text


class AccessToken:
    """An access token with its expiry (epoch seconds) and granted scopes. ``repr`` hides the value."""

    __slots__ = ("value", "expires_at", "scopes", "api_url")

    def __init__(self, value: str, expires_at: float, scopes: frozenset[str] = frozenset(),
                 api_url: str | None = None) -> None:
        self.value = value
        self.expires_at = float(expires_at)
        self.scopes = frozenset(scopes)
        self.api_url = api_url

    def expiring(self, now: float, leeway: float = RENEW_LEEWAY_S) -> bool:
        return now >= self.expires_at - leeway

    def __repr__(self) -> str:
        return f"AccessToken(<redacted>, expires_at={self.expires_at:.0f}, scopes={len(self.scopes)})"

    __str__ = __repr__


class TokenProvider(Protocol):
    def get_token(self) -> AccessToken: ...
    def invalidate(self, token: AccessToken) -> None: ...


class TokenEndpoint:
    """POSTs to Zoom's token endpoint with Basic client auth; retries only transient failures."""

    def __init__(self, oauth_url: str, client_id: str, client_secret: str, *, timeout: float = 30.0,
                 on_request: Callable[[], None] | None = None, backoff_base: float = 0.5,
                 backoff_max: float = 8.0, attempts: int = TOKEN_ENDPOINT_ATTEMPTS) -> None:
        if not client_id or not client_secret:
            raise ZoomAuthError("the Zoom connection needs a client id (login) and a client secret (password)")
        self.oauth_url = oauth_url or DEFAULT_OAUTH_URL
        self.client_id = client_id
        self._client_secret = client_secret
        self.timeout = timeout
        self.on_request = on_request
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.attempts = max(1, attempts)

    def __repr__(self) -> str:
        return f"TokenEndpoint({self.oauth_url!r}, client_id={self.client_id!r})"

    def _basic(self) -> str:
        raw = f"{self.client_id}:{self._client_secret}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")

    def post(self, form: dict[str, str], *, secrets: tuple[str | None, ...] = ()) -> dict[str, Any]:
        """The token response as a dict; ZoomAuthError on refusal or persistent failure.

        A 200 without a usable token (:func:`~zoom_sam.zoom.shapes.token_problem`) is a
        ZoomMalformedResponse. Account credentials are asked again like after a 5xx (a proxy may
        garble one answer); a refresh token or authorization code never is: Zoom may have spent it
        on the answer that was garbled, and replaying it would hide that behind a refusal."""
        secrets = (self._client_secret, *secrets)
        last: str = ""
        status: int | None = None
        malformed: ZoomMalformedResponse | None = None
        for attempt in range(self.attempts):
            if self.on_request:
                self.on_request()
            try:
                resp = requests.post(
                    self.oauth_url,
                    data=form,
                    headers={"Authorization": self._basic(), "Accept": "application/json",
                             "Content-Type": "application/x-www-form-urlencoded"},
                    timeout=self.timeout,
                )
            except requests.RequestException as exc:
                last = f"{type(exc).__name__}"
                status = None
                log.warning("Zoom token endpoint %s unreachable (%s), attempt %d/%d",
                            self.oauth_url, last, attempt + 1, self.attempts)
            else:
                status = resp.status_code
                if status == 200:
                    data, problem = _token_answer(resp)
                    if problem is None:
                        return data
                    malformed = ZoomMalformedResponse("POST", self.oauth_url, problem, retries=attempt,
                                                      hint=_MALFORMED_TOKEN_HINT)
                    if form.get("grant_type") != "account_credentials":
                        raise malformed  # the refresh token it answered may already be spent: never replay it
                    last = f"malformed answer: {problem}"
                    log.warning("Zoom token endpoint %s: %s, attempt %d/%d", self.oauth_url, last,
                                attempt + 1, self.attempts)
                elif status == 429 or status >= 500:
                    detail = _error_detail(resp, secrets)
                    last = f"HTTP {status}: {detail}"
                    log.warning("Zoom token endpoint %s answered %s, attempt %d/%d",
                                self.oauth_url, last, attempt + 1, self.attempts)
                else:
                    reason = _error_detail(resp, secrets)
                    raise ZoomAuthError(
                        f"Zoom refused the token request at {self.oauth_url} (HTTP {status}): {reason}",
                        status=status, reason=reason,
                        reauthorize=form.get("grant_type") in {"refresh_token", "authorization_code"},
                    )
            if attempt + 1 < self.attempts:
                time.sleep(backoff_delay(attempt, self.backoff_base, self.backoff_max))
        if malformed is not None and status == 200:
            raise malformed
        raise ZoomAuthError(
            f"Zoom token endpoint {self.oauth_url} failed after {self.attempts} attempts: {last}", status=status)


def _token_answer(resp: requests.Response) -> tuple[Any, str | None]:
    """(body, None) for a usable token answer, else (None, what is wrong with it)."""
    try:
        body = resp.json()
    except ValueError:
        return None, "the body is empty" if not resp.content else "the body is not JSON"
    return body, token_problem(body)


def _error_detail(resp: requests.Response, secrets: tuple[str | None, ...]) -> str:
    try:
        body = resp.json()
    except ValueError:
        body = None
    parts = []
    if isinstance(body, dict):
        for k in ("code", "error", "reason", "message", "error_description"):
            if body.get(k) not in (None, ""):
                parts.append(f"{k}={body[k]}")
    text = ", ".join(parts) if parts else (resp.reason or "")
    return _scrub(str(text)[:300], secrets)


def _token_from_response(data: dict[str, Any], now: float) -> AccessToken:
    try:
        expires_in = float(data.get("expires_in") or 3600)
    except (TypeError, ValueError):
        expires_in = 3600.0
    return AccessToken(str(data["access_token"]), now + expires_in,
                       parse_scope_string(data.get("scope")), data.get("api_url"))


@dataclass
class _CacheEntry:
    lock: threading.Lock = field(default_factory=threading.Lock)
    token: AccessToken | None = None
    bad_value_fp: str | None = None  # fingerprint of an access token Zoom rejected (401/124)


_CACHE: dict[tuple, _CacheEntry] = {}
_CACHE_LOCK = threading.Lock()


def _entry(key: tuple) -> _CacheEntry:
    with _CACHE_LOCK:
        e = _CACHE.get(key)
        if e is None:
            e = _CACHE[key] = _CacheEntry()
        return e


def clear_token_cache() -> None:
    """Forget every cached access token in this process (tests; credential rotation)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def _cached_token(e: _CacheEntry, usable: Callable[[AccessToken | None], bool],
                  obtain: Callable[[], AccessToken]) -> AccessToken:
    """Double-checked renewal: threads read a usable cached token without the lock; when it is
    expiring, exactly one of them obtains the next one while the others wait for it."""
    tok = e.token
    if usable(tok):
        return tok
    with e.lock:
        tok = e.token
        if usable(tok):
            return tok
        e.token = tok = obtain()
        return tok


def _forget(e: _CacheEntry, token: AccessToken) -> None:
    """Drop ``token`` from the cache if it is still the cached one (a 401 said it is dead)."""
    if e.token is not None and e.token.value == token.value:
        e.token = None


class AccountCredentialsAuth:
    """Server-to-Server OAuth: one cached token per account in the process, thread-safe."""

    def __init__(self, endpoint: TokenEndpoint, account_id: str, *, clock: Callable[[], float] = time.time,
                 leeway: float = RENEW_LEEWAY_S, mask: MaskFn | None = None) -> None:
        if not account_id:
            raise ZoomAuthError("Server-to-Server OAuth needs the Zoom account id (connection extra account_id)")
        self.endpoint = endpoint
        self.account_id = account_id
        self.clock = clock
        self.leeway = leeway
        self.mask = mask
        self.key = ("s2s", endpoint.oauth_url, account_id, endpoint.client_id,
                    fingerprint(endpoint._client_secret))

    def __repr__(self) -> str:
        return f"AccountCredentialsAuth(account_id={self.account_id!r}, oauth_url={self.endpoint.oauth_url!r})"

    def get_token(self) -> AccessToken:
        return _cached_token(_entry(self.key), self._usable, self._request)

    def _usable(self, tok: AccessToken | None) -> bool:
        return tok is not None and not tok.expiring(self.clock(), self.leeway)

    def _request(self) -> AccessToken:
        log.info("Requesting a Zoom access token (account_credentials) for account %s", self.account_id)
        data = self.endpoint.post({"grant_type": "account_credentials", "account_id": self.account_id})
        tok = _token_from_response(data, self.clock())
        if self.mask:
            self.mask(tok.value)
        return tok

    def invalidate(self, token: AccessToken) -> None:
        e = _entry(self.key)
        with e.lock:
            _forget(e, token)


# ---------------------------------------------------------------------------------------------
# Refresh-token storage
# ---------------------------------------------------------------------------------------------


class StoredTokens:
    """What the store keeps per account. ``repr`` hides the tokens."""

    __slots__ = ("refresh_token", "access_token", "expires_at", "scope", "api_url", "seed_fp", "updated_at")

    def __init__(self, refresh_token: str, access_token: str | None = None, expires_at: float = 0.0,
                 scope: str = "", api_url: str | None = None, seed_fp: str | None = None,
                 updated_at: float | None = None) -> None:
        self.refresh_token = refresh_token
        self.access_token = access_token
        self.expires_at = float(expires_at or 0.0)
        self.scope = scope or ""
        self.api_url = api_url
        self.seed_fp = seed_fp
        self.updated_at = time.time() if updated_at is None else float(updated_at)

    def to_dict(self) -> dict[str, Any]:
        return {"version": 1, **{k: getattr(self, k) for k in self.__slots__}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StoredTokens:
        return cls(**{k: d.get(k) for k in cls.__slots__ if k in d})

    def __repr__(self) -> str:
        return f"StoredTokens(<redacted>, expires_at={self.expires_at:.0f}, updated_at={self.updated_at:.0f})"


class RefreshTokenStore(Protocol):
    """Persistent storage of rotated tokens, keyed by account (see :func:`store_key`)."""

    def load(self, key: str) -> StoredTokens | None: ...
    def save(self, key: str, tokens: StoredTokens) -> None: ...
    def lock(self, key: str) -> contextlib.AbstractContextManager[None]: ...


class Cipher(Protocol):
    def encrypt(self, msg: bytes) -> bytes: ...
    def decrypt(self, msg: bytes) -> bytes: ...


class MemoryRefreshTokenStore:
    """In-process store (tests, one-off scripts). Not shared across processes."""

    def __init__(self) -> None:
        self._data: dict[str, dict[str, Any]] = {}
        self._locks: dict[str, threading.RLock] = {}
        self._guard = threading.Lock()

    def load(self, key: str) -> StoredTokens | None:
        d = self._data.get(key)
        return StoredTokens.from_dict(d) if d else None

    def save(self, key: str, tokens: StoredTokens) -> None:
        self._data[key] = tokens.to_dict()

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        with self._guard:
            lk = self._locks.setdefault(key, threading.RLock())
        with lk:
            yield

    @property
    def ident(self) -> str:
        return f"memory:{id(self)}"

    def __repr__(self) -> str:
        return f"MemoryRefreshTokenStore({len(self._data)} accounts)"


def default_token_dir() -> Path:
    """``$ZOOM_SAM_TOKEN_DIR``, else ``$AIRFLOW_HOME/zoom_sam/oauth_tokens`` (AIRFLOW_HOME default ~/airflow)."""
    explicit = os.environ.get("ZOOM_SAM_TOKEN_DIR")
    if explicit:
        return Path(explicit)
    home = os.environ.get("AIRFLOW_HOME") or os.path.join(os.path.expanduser("~"), "airflow")
    return Path(home) / "zoom_sam" / "oauth_tokens"


_ENC_PREFIX = b"fernet:"


class FileRefreshTokenStore:
    """One JSON file per account (mode 0600, directory 0700), replaced atomically and fsynced.

    ``lock`` is an exclusive ``flock`` on a sibling ``.lock`` file, so refreshes are serialised
    across processes on one machine (and across threads: each acquisition opens its own file
    description). With a ``cipher`` (e.g. Airflow's Fernet) the file content is encrypted.
    """

    def __init__(self, directory: str | os.PathLike[str] | None = None, *, cipher: Cipher | None = None) -> None:
        self.directory = Path(directory) if directory else default_token_dir()
        self.cipher = cipher

    @property
    def ident(self) -> str:
        return f"file:{self.directory.resolve()}"

    def __repr__(self) -> str:
        return f"FileRefreshTokenStore({str(self.directory)!r}, encrypted={self.cipher is not None})"

    def _ensure_dir(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    def path(self, key: str) -> Path:
        return self.directory / (hashlib.sha256(key.encode("utf-8")).hexdigest()[:32] + ".json")

    def load(self, key: str) -> StoredTokens | None:
        p = self.path(key)
        try:
            raw = p.read_bytes()
        except FileNotFoundError:
            return None
        if raw.startswith(_ENC_PREFIX):
            if self.cipher is None:
                raise ZoomAuthError(f"the token store file {p} is encrypted but no Fernet key is configured")
            try:
                raw = self.cipher.decrypt(raw[len(_ENC_PREFIX):])
            except Exception as exc:  # noqa: BLE001 - cryptography raises InvalidToken
                raise ZoomAuthError(f"cannot decrypt the token store file {p} ({type(exc).__name__}); "
                                    "was the Fernet key changed?", reauthorize=True) from None
        try:
            return StoredTokens.from_dict(json.loads(raw.decode("utf-8")))
        except (ValueError, TypeError) as exc:
            raise ZoomAuthError(f"the token store file {p} is corrupt ({type(exc).__name__})",
                                reauthorize=True) from None

    def save(self, key: str, tokens: StoredTokens) -> None:
        self._ensure_dir()
        payload = json.dumps(tokens.to_dict(), sort_keys=True).encode("utf-8")
        if self.cipher is not None:
            payload = _ENC_PREFIX + self.cipher.encrypt(payload)
        target = self.path(key)
        fd, tmp = tempfile.mkstemp(prefix=".tok-", dir=self.directory)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(payload)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        dfd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        self._ensure_dir()
        lock_path = self.path(key).with_suffix(".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def _store_ident(store: RefreshTokenStore) -> str:
    return str(getattr(store, "ident", None) or f"store:{id(store)}")


def store_key(oauth_url: str | None, client_id: str, account_id: str | None = None) -> str:
    """The store key of one authorized account: token endpoint, app (client id) and account."""
    return f"{oauth_url or DEFAULT_OAUTH_URL}|{client_id}|{account_id or ''}"


class RefreshTokenAuth:
    """Authorization-code app: access tokens from a rotating refresh token kept in a store."""

    def __init__(self, endpoint: TokenEndpoint, store: RefreshTokenStore, key: str, *,
                 seed_refresh_token: str | None = None, clock: Callable[[], float] = time.time,
                 leeway: float = RENEW_LEEWAY_S, mask: MaskFn | None = None) -> None:
        self.endpoint = endpoint
        self.store = store
        self.store_key = key
        self._seed = seed_refresh_token or None
        self.clock = clock
        self.leeway = leeway
        self.mask = mask
        self.key = ("rt", _store_ident(store), key)
        if mask and self._seed:
            mask(self._seed)

    def __repr__(self) -> str:
        return f"RefreshTokenAuth(key={self.store_key!r}, store={self.store!r})"

    def get_token(self) -> AccessToken:
        e = _entry(self.key)

        def obtain() -> AccessToken:
            with self.store.lock(self.store_key):  # other processes; _cached_token serialises threads
                return self._token_locked(e)

        return _cached_token(e, self._usable, obtain)

    def _usable(self, tok: AccessToken | None) -> bool:
        return tok is not None and not tok.expiring(self.clock(), self.leeway)

    def _token_locked(self, e: _CacheEntry) -> AccessToken:
        now = self.clock()
        rec = self.store.load(self.store_key)
        if rec is not None and rec.access_token and now < rec.expires_at - self.leeway \
                and fingerprint(rec.access_token) != e.bad_value_fp:
            # another process (or an earlier run) refreshed already: reuse, do not rotate again
            tok = AccessToken(rec.access_token, rec.expires_at, parse_scope_string(rec.scope), rec.api_url)
            if self.mask:
                self.mask(tok.value)
            return tok
        seed_fp = fingerprint(self._seed)
        if rec is None:
            if not self._seed:
                raise ZoomAuthError(
                    "no refresh token is stored for this Zoom account and the connection has no initial "
                    "refresh_token in its extra", reauthorize=True)
            return self._refresh(self._seed, seed_fp=seed_fp, source="connection seed")
        try:
            return self._refresh(rec.refresh_token, seed_fp=rec.seed_fp, source="token store")
        except ZoomAuthError as exc:
            # the stored chain is dead; an admin may have put a fresh refresh token in the connection
            if exc.status is not None and self._seed and seed_fp != rec.seed_fp:
                log.warning("The stored Zoom refresh token was rejected; trying the connection's refresh_token")
                return self._refresh(self._seed, seed_fp=seed_fp, source="connection seed")
            raise

    def _refresh(self, refresh_token: str, *, seed_fp: str | None, source: str) -> AccessToken:
        log.info("Refreshing the Zoom access token (refresh_token grant, from the %s)", source)
        try:
            data = self.endpoint.post({"grant_type": "refresh_token", "refresh_token": refresh_token},
                                      secrets=(refresh_token,))
        except ZoomAuthError as exc:
            if exc.status is not None and 400 <= exc.status < 500:
                raise ZoomAuthError(
                    f"Zoom rejected the refresh token from the {source} (HTTP {exc.status}: {exc.reason}); "
                    "refresh tokens rotate, so it may have been used already or revoked",
                    status=exc.status, reason=exc.reason, reauthorize=True) from None
            raise
        now = self.clock()
        tok = _token_from_response(data, now)
        new_rt = str(data.get("refresh_token") or refresh_token)
        if self.mask:
            self.mask(tok.value)
            self.mask(new_rt)
        # persist the rotated refresh token BEFORE anyone uses the new access token
        self.store.save(self.store_key, StoredTokens(
            refresh_token=new_rt, access_token=tok.value, expires_at=tok.expires_at,
            scope=" ".join(sorted(tok.scopes)), api_url=tok.api_url, seed_fp=seed_fp, updated_at=now))
        return tok

    def invalidate(self, token: AccessToken) -> None:
        e = _entry(self.key)
        with e.lock:
            _forget(e, token)
            e.bad_value_fp = fingerprint(token.value)


def exchange_authorization_code(
    *,
    code: str,
    redirect_uri: str,
    client_id: str,
    client_secret: str,
    store: RefreshTokenStore,
    key: str,
    oauth_url: str | None = None,
    code_verifier: str | None = None,
    timeout: float = 30.0,
    clock: Callable[[], float] = time.time,
    mask: MaskFn | None = None,
) -> AccessToken:
    """Exchange an authorization code for tokens and store them (the OAuth callback of the UI flow).

    The stored refresh token replaces whatever the store held for ``key``; the next
    :class:`RefreshTokenAuth` with that key uses the new access token, then rotates from there.
    """
    endpoint = TokenEndpoint(oauth_url or DEFAULT_OAUTH_URL, client_id, client_secret, timeout=timeout, attempts=1)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if code_verifier:
        form["code_verifier"] = code_verifier
    with store.lock(key):
        data = endpoint.post(form, secrets=(code,))
        if not data.get("refresh_token"):
            raise ZoomAuthError("Zoom's token response to the authorization code carried no refresh_token")
        now = clock()
        tok = _token_from_response(data, now)
        rt = str(data["refresh_token"])
        if mask:
            mask(tok.value)
            mask(rt)
        store.save(key, StoredTokens(refresh_token=rt, access_token=tok.value, expires_at=tok.expires_at,
                                     scope=" ".join(sorted(tok.scopes)), api_url=tok.api_url,
                                     seed_fp=None, updated_at=now))
    e = _entry(("rt", _store_ident(store), key))
    with e.lock:
        e.token = tok
        e.bad_value_fp = None
    log.info("Stored new Zoom OAuth tokens from an authorization code (%d scopes)", len(tok.scopes))
    return tok


def authorize_url(client_id: str, redirect_uri: str, *, state: str | None = None,
                  base: str = DEFAULT_AUTHORIZE_URL, code_challenge: str | None = None) -> str:
    """The URL an admin opens to authorize the app (step 1 of the authorization-code flow)."""
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri}
    if state:
        params["state"] = state
    if code_challenge:
        params["code_challenge"] = code_challenge
        params["code_challenge_method"] = "S256"
    return f"{base}?{urlencode(params)}"
