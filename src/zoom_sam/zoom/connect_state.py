"""The ``state`` of "Connect Zoom account": signed, expiring, bound to a connection and a person.

The authorization-code flow sends the admin's browser to Zoom and takes the ``code`` back on a
callback anyone could call. The state Zoom hands back unchanged is what makes that callback safe:

* **signed** with an HMAC key the server keeps (derived from Airflow's own secret, never the secret
  itself), so nobody can make one up, nor change the connection, profile or person it names;
* **expiring** after :data:`STATE_TTL_S`, longer than Zoom's 5-minute code but short enough that a
  stale link in a browser history is useless;
* **bound to whoever started it** (an Airflow user, or the headless command), so a code obtained
  by someone else's state cannot be planted in another person's session;
* **single-use**: its nonce is recorded when issued and claimed once (the warehouse does that, see
  :mod:`zoom_sam.warehouse.connect_state`); this module has no storage and no Airflow.

PKCE comes free: the code verifier is derived from the key and the nonce, so the callback can
recompute it and nothing secret is stored or sent before the exchange.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import asdict, dataclass

from zoom_sam.errors import ConfigurationError, ZoomSamError

STATE_TTL_S = 600
_CONTEXT = b"zoom-sam connect state v1"


class StateRefused(ZoomSamError):
    """A state that must not be acted on; ``reason`` is one of the words below, ``str`` says why."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


FORGED, EXPIRED, REPLAYED, OTHER_USER = "forged", "expired", "replayed", "other_user"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class ConnectState:
    """What a state says: which connection (and profile), who started it, where Zoom sends back to."""

    nonce: str
    conn_id: str
    alias: str | None
    user: str
    redirect_uri: str
    expires_at: int


class StateSigner:
    """Issues and checks states with one key; ``repr`` shows no key."""

    def __init__(self, server_secret: str | bytes) -> None:
        if not server_secret:
            raise ConfigurationError("connecting a Zoom account needs a server secret to sign its state")
        raw = server_secret.encode("utf-8") if isinstance(server_secret, str) else server_secret
        self._key = hmac.new(raw, _CONTEXT, hashlib.sha256).digest()

    def __repr__(self) -> str:
        return "StateSigner(<key>)"

    def _mac(self, purpose: bytes, payload: bytes) -> bytes:
        return hmac.new(self._key, purpose + b"|" + payload, hashlib.sha256).digest()

    def issue(self, *, conn_id: str, alias: str | None, user: str, redirect_uri: str, now: float) -> tuple[ConnectState, str]:
        """A new state and its text (what goes into the authorize URL)."""
        state = ConnectState(secrets.token_urlsafe(24), conn_id, alias, user, redirect_uri, int(now) + STATE_TTL_S)
        payload = json.dumps(asdict(state), separators=(",", ":"), sort_keys=True).encode("utf-8")
        return state, f"{_b64(payload)}.{_b64(self._mac(b'state', payload))}"

    def read(self, text: str, *, now: float) -> ConnectState:
        """The state ``text`` stands for, if this server signed it and it has not expired."""
        body, _, mac = (text or "").partition(".")
        try:
            payload, given = _unb64(body), _unb64(mac)
            good = hmac.compare_digest(given, self._mac(b"state", payload))
            state = ConnectState(**json.loads(payload)) if good else None
        except (ValueError, TypeError):
            state = None
        if state is None:
            raise StateRefused(FORGED, "the state Zoom handed back was not issued by this Airflow (forged, "
                                       "altered or cut short).")
        if state.expires_at <= now:
            raise StateRefused(EXPIRED, f"this authorization was started more than {STATE_TTL_S // 60} minutes "
                                        "ago and has expired: start again.")
        return state

    def code_verifier(self, state: ConnectState) -> str:
        """PKCE's verifier for ``state``: 43 characters, recomputed at the callback, never stored."""
        return _b64(self._mac(b"pkce", state.nonce.encode("ascii")))


def code_challenge(verifier: str) -> str:
    """PKCE S256: base64url(sha256(verifier)) without padding."""
    return _b64(hashlib.sha256(verifier.encode("ascii")).digest())
