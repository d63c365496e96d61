"""Connect a Zoom account: start a connection's refresh-token chain from an admin's consent.

One flow, two doors. The Airflow UI's "Connect Zoom account" (``zoom_sam.ui.connect``) sends the
admin's browser to Zoom and takes Zoom's redirect on its callback; on a server without a browser,
``python -m zoom_sam.connect <conn_id>`` prints the authorize URL and reads the address the
browser was sent back to from standard input. Both call :func:`begin` and :func:`finish`, so the
state's checks, its single use and the exchange are the same code whichever door is used.

What the flow guarantees (docs/zoom-auth.md, "Connecting from the Airflow UI, or headless"):

* only a state this server signed, not expired, started by the same person and never used before
  leads to an exchange (:mod:`zoom_sam.zoom.connect_state`, :mod:`zoom_sam.warehouse.connect_state`);
* a refused state or a denied consent changes nothing: the chain is written only by the exchange,
  under the chain's lock, after Zoom answered with a refresh token;
* the key that signs states is derived from Airflow's own secret (``[api_auth] jwt_secret``, else
  ``[api] secret_key``), which every API server worker already shares; it is never logged, and
  neither is a state, a code or a token.
"""
from __future__ import annotations

import argparse
import getpass
import logging
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from airflow.sdk.exceptions import AirflowNotFoundException

from zoom_sam.errors import ConfigurationError, ZoomSamError
from zoom_sam.hooks.zoom import ZoomHook
from zoom_sam.warehouse.connect_state import claim, record_issued
from zoom_sam.zoom.auth import authorize_endpoint, authorize_url
from zoom_sam.zoom.config import ZoomConfig
from zoom_sam.zoom.connect_state import FORGED, OTHER_USER, REPLAYED, ConnectState, StateRefused, StateSigner, code_challenge
from zoom_sam.zoom.extras import GRANT_REFRESH_TOKEN

log = logging.getLogger(__name__)

CALLBACK_PATH = "/connect/callback"  # under the views' prefix, /zoom-sam
DENIED, EXCHANGED = "denied", "exchanged"


class ConsentDenied(ZoomSamError):
    """The admin declined on Zoom's consent page (``error=access_denied``): nothing was connected."""


@dataclass(frozen=True)
class Authorization:
    """Where to send the admin, and the state that will come back."""

    url: str
    state: ConnectState


@dataclass(frozen=True)
class Connected:
    conn_id: str
    alias: str | None
    scopes: frozenset[str]


def server_secret() -> str:
    """The secret states are signed with: one every API server worker has (Airflow's JWT secret)."""
    from airflow.configuration import conf

    for section, key in (("api_auth", "jwt_secret"), ("api", "secret_key")):
        value = conf.get(section, key, fallback=None)
        if value:
            return value
    raise ConfigurationError("connecting a Zoom account signs its OAuth state with Airflow's secret: set "
                             "[api_auth] jwt_secret (AIRFLOW__API_AUTH__JWT_SECRET), the same on every API server")


def refresh_token_hook(conn_id: str) -> tuple[ZoomHook, ZoomConfig]:
    """The connection's hook and settings, if it is one a person connects (the refresh-token grant)."""
    hook = ZoomHook(conn_id)
    config = hook.get_config()
    if config.grant_type != GRANT_REFRESH_TOKEN:
        raise ConfigurationError(
            f"Zoom connection {conn_id!r} uses Server-to-Server OAuth (grant_type account_credentials): it gets "
            f"its tokens from its client id and secret, and there is no account to connect. Set extra grant_type "
            f"to {GRANT_REFRESH_TOKEN!r} for an admin-managed app.")
    return hook, config


def begin(conn_id: str, *, user: str, redirect_uri: str, alias: str | None = None,
          clock: Callable[[], float] = time.time) -> Authorization:
    """Issue and record a state for ``user`` and return the URL of Zoom's consent page."""
    hook, config = refresh_token_hook(conn_id)
    signer = StateSigner(server_secret())
    now = clock()
    state, text = signer.issue(conn_id=conn_id, alias=alias, user=user, redirect_uri=redirect_uri, now=now)
    chain = hook.token_chain(config)
    try:
        record_issued(chain.engine, state, now=now)
    finally:
        chain.engine.dispose()
    log.info("Connect Zoom account: %s started authorizing connection %r (profile %s)", user, conn_id, alias)
    return Authorization(authorize_url(config.client_id, redirect_uri, state=text,
                                       base=authorize_endpoint(config.oauth_url),
                                       code_challenge=code_challenge(signer.code_verifier(state))), state)


def finish(state_text: str, *, user: str, code: str | None = None, error: str | None = None,
           allowed: Callable[[ConnectState], None] | None = None, clock: Callable[[], float] = time.time) -> Connected:
    """Act on Zoom's redirect: check the state, use it once, exchange the code, start the chain.

    ``allowed`` is the caller's last word on the checked state before it is used (the UI asks the
    auth manager whether the user may still edit that connection) and raises to refuse it.
    Raises :class:`~zoom_sam.zoom.connect_state.StateRefused` (forged, expired, another person's,
    used already), :class:`ConsentDenied`, or what the exchange raises (``ZoomAuthError``); in
    every one of those cases the chain is as it was.
    """
    signer = StateSigner(server_secret())
    now = clock()
    state = signer.read(state_text, now=now)
    if state.user != user:
        raise StateRefused(OTHER_USER, f"this authorization was started by {state.user}, not by {user}: only "
                                       "the person who started it can complete it (a command started from a "
                                       "shell takes the address pasted into it).")
    if allowed is not None:
        allowed(state)
    if not (code or error):
        raise StateRefused(FORGED, "the redirect carried neither an authorization code nor an error, so it did not "
                                   "come from Zoom's consent page.")
    hook, config = refresh_token_hook(state.conn_id)
    chain = hook.token_chain(config)
    try:
        if not claim(chain.engine, state, outcome=DENIED if error else EXCHANGED, now=now):
            raise StateRefused(REPLAYED, "this authorization was completed already (a state works once): start "
                                         "again for a new one.")
        if error:
            log.info("Connect Zoom account: consent for connection %r was declined (%r)", state.conn_id, error[:100])
            why = "the admin did not allow the app" if error == "access_denied" else "Zoom did not authorize the app"
            raise ConsentDenied(f"Zoom reported {error[:100]!r}: {why}, so connection {state.conn_id!r} was left "
                                "as it was.")
        token = hook.seed_from_authorization_code(code, state.redirect_uri, code_verifier=signer.code_verifier(state),
                                                  chain=chain)
    finally:
        chain.engine.dispose()
    log.info("Connect Zoom account: %s started the refresh-token chain of connection %r (%d scopes granted)",
             user, state.conn_id, len(token.scopes))
    return Connected(state.conn_id, state.alias, token.scopes)


def _cli_user() -> str:
    return f"cli:{getpass.getuser()}@{socket.gethostname()}"


def configured_redirect() -> str | None:
    """The callback's URL from Airflow's ``[api] base_url``, which knows the public address behind a
    proxy; None when it is not set."""
    from airflow.configuration import conf

    from zoom_sam.ui.plugin import URL_PREFIX

    base = (conf.get("api", "base_url", fallback="") or "").rstrip("/")
    return f"{base}{URL_PREFIX}{CALLBACK_PATH}" if base.startswith(("http://", "https://")) else None


def main(argv: list[str] | None = None, *, stdin=None, stdout=None) -> int:
    """``python -m zoom_sam.connect <conn_id>``: the flow for a server without a browser."""
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    parser = argparse.ArgumentParser(prog="python -m zoom_sam.connect", description=__doc__.split("\n")[0])
    parser.add_argument("conn_id", help="the Airflow connection (conn_type zoom, grant_type refresh_token)")
    parser.add_argument("--redirect-uri", help="the redirect URL registered with the Zoom app (default: "
                                               "[api] base_url + /zoom-sam/connect/callback)")
    parser.add_argument("--alias", help="the profile this connection serves (recorded with the state)")
    args = parser.parse_args(argv)
    redirect_uri = args.redirect_uri or configured_redirect()
    if not redirect_uri:
        parser.error("--redirect-uri is needed when Airflow's [api] base_url is not set")
    user = _cli_user()
    try:
        started = begin(args.conn_id, user=user, redirect_uri=redirect_uri, alias=args.alias)
        print(f"1. Open this address in a browser where an admin of the Zoom account can sign in:\n\n"
              f"   {started.url}\n\n"
              f"2. Allow the app. Zoom then sends the browser to {redirect_uri}; that page need not load.\n"
              f"3. Paste here the whole address the browser ended on, and press Enter:", file=stdout, flush=True)
        query = parse_qs(urlsplit(stdin.readline().strip()).query)
        first = {name: values[0] for name, values in query.items()}
        done = finish(first.get("state", ""), user=user, code=first.get("code"), error=first.get("error"))
    except (ZoomSamError, ValueError, AirflowNotFoundException) as exc:  # a refusal, no such connection
        print(f"not connected: {exc}", file=sys.stderr)
        return 1
    print(f"Connected: the refresh-token chain of connection {done.conn_id!r} started, "
          f"{len(done.scopes)} scopes granted. Check it with: airflow connections test {done.conn_id}", file=stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
