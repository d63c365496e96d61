"""ZoomHook: an Airflow connection of type ``zoom`` -> a :class:`zoom_sam.zoom.client.ZoomClient`.

Connection (README, "Connecting a real Zoom account"): host = API base URL (empty: https://api.zoom.us/v2), login = client id,
password = client secret, extra: ``account_id``, ``oauth_url`` (default
https://zoom.us/oauth/token), ``grant_type`` (``account_credentials`` | ``refresh_token``),
``refresh_token`` (starts the connection's refresh-token chain), ``token_store_conn_id`` (the
warehouse connection that holds the chain), ``plan`` (``pro`` | ``business``) or
``rate_limits`` ({"Light": n, "Medium": n, "Heavy": n}), ``max_in_flight``, ``timeout``,
``rate_safety``; every extra and its range in :mod:`zoom_sam.zoom.extras`, which refuses bad and
unknown ones when the client is built.

The refresh-token chain of a connection lives in the warehouse (table ``oauth_token_chain``,
keyed by this connection's id), because the warehouse is what every worker and the API server
reach. Which warehouse: the connection named by extra ``token_store_conn_id``, by default the
project's default warehouse connection ``zoom_sam_warehouse``; when that default does not exist,
the embedded SQLite warehouse, exactly as for a profile (so a one-host install needs nothing
more). A ``token_store_conn_id`` that names a missing connection is an error, never a silent
switch to another store. Tokens are encrypted with Airflow's Fernet key.

No I/O happens in ``__init__``; the connection is read on the first :meth:`get_conn`.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook

from zoom_sam.warehouse.token_chain import WarehouseTokenChain
from zoom_sam.zoom.auth import AccessToken
from zoom_sam.zoom.client import ZoomClient
from zoom_sam.zoom.config import ZoomConfig
from zoom_sam.zoom.errors import ZoomAuthError, ZoomError
from zoom_sam.zoom.extras import GRANT_REFRESH_TOKEN, ZoomConfigError
from zoom_sam.zoom.refresh_chain import exchange_authorization_code
from zoom_sam.zoom.token_endpoint import TokenEndpoint
from zoom_sam.zoom.validate import DEFAULT_REQUIRED, ValidationReport, validate_client

if TYPE_CHECKING:
    from airflow.sdk.crypto import FernetProtocol
    from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

DEFAULT_TOKEN_STORE_CONN_ID = "zoom_sam_warehouse"  # the project's default warehouse connection


def mask_secret(value: str) -> None:
    """Register a runtime secret (a token, an authorization code) with Airflow's log maskers.

    Both of them: the task SDK's, for task logs, and the core one, which Airflow's API server uses
    for its own log lines and for the query strings of its access log (a code arrives in one).
    """
    if not value:
        return
    try:
        from airflow.sdk.log import mask_secret as sdk_mask
    except ImportError:  # pragma: no cover - older task SDK layout
        try:
            from airflow.sdk.execution_time.secrets_masker import mask_secret as sdk_mask  # type: ignore[no-redef]
        except ImportError:
            sdk_mask = None
    try:
        from airflow._shared.secrets_masker import mask_secret as core_mask
    except ImportError:  # pragma: no cover - a worker without Airflow core
        core_mask = None
    for mask in (sdk_mask, core_mask):
        if mask is None:
            continue
        try:
            mask(value)
        except Exception:  # noqa: BLE001 - masking must never break a call
            log.debug("could not register a secret with Airflow's masker", exc_info=True)


def _airflow_fernet() -> FernetProtocol:
    """Airflow's Fernet; refresh tokens are never stored in clear, so no key means no chain."""
    from airflow.sdk.crypto import get_fernet

    try:
        fernet = get_fernet()
    except Exception as exc:  # noqa: BLE001 - AirflowException for a malformed or unresolved key
        fernet, why = None, f"{type(exc).__name__}: {exc}"
    else:
        why = "no key is configured"
    if fernet is None or not fernet.is_encrypted:
        raise ZoomAuthError(
            f"the refresh-token chain is stored encrypted with Airflow's Fernet key, and Airflow has none ({why}): "
            "set [core] fernet_key (AIRFLOW__CORE__FERNET_KEY), the same on every worker and the API server")
    return fernet


def _token_store_engine(conn_id: str | None) -> Engine:
    """The warehouse engine that holds chains (see the module docstring), migrated."""
    from airflow.sdk.exceptions import AirflowNotFoundException

    from zoom_sam.warehouse.engine import get_engine
    from zoom_sam.warehouse.migrate import ensure_schema

    if conn_id is not None:
        try:
            BaseHook.get_connection(conn_id)
        except AirflowNotFoundException:
            raise ZoomAuthError(f"extra token_store_conn_id names the warehouse connection {conn_id!r}, which does "
                                "not exist; create it, or remove the extra to use the default warehouse") from None
    engine = get_engine(conn_id or DEFAULT_TOKEN_STORE_CONN_ID)
    ensure_schema(engine)
    return engine


class ZoomHook(BaseHook):
    """Interact with the Zoom REST API v2 (Software Asset Management calls).

    :param zoom_conn_id: Airflow connection id of conn_type ``zoom``.
    :param config_overrides: ZoomConfig fields that win over the connection (tests, benchmarks).
    """

    conn_name_attr = "zoom_conn_id"
    default_conn_name = "zoom_default"
    conn_type = "zoom"
    hook_name = "Zoom"

    def __init__(self, zoom_conn_id: str = default_conn_name, *, config_overrides: dict[str, Any] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.zoom_conn_id = zoom_conn_id
        self._overrides = dict(config_overrides or {})
        self._client: ZoomClient | None = None

    def __repr__(self) -> str:
        return f"ZoomHook(zoom_conn_id={self.zoom_conn_id!r})"

    def get_config(self) -> ZoomConfig:
        """The client config of this Airflow connection; its secrets registered with Airflow's log masker.

        A connection the client cannot use raises :class:`~zoom_sam.zoom.extras.ZoomConfigError`
        (a ConfigurationError: no retry fixes it) naming the connection and every problem.
        """
        conn = self.get_connection(self.zoom_conn_id)
        if conn.password:
            mask_secret(conn.password)
        extra = conn.extra_dejson or {}
        if extra.get("refresh_token"):
            mask_secret(str(extra["refresh_token"]))
        try:
            return ZoomConfig.from_connection_fields(host=conn.host, login=conn.login, password=conn.password,
                                                     extra=extra, **self._overrides)
        except ZoomConfigError as exc:
            raise ZoomConfigError(exc.problems, conn_id=self.zoom_conn_id) from None

    def token_chain(self, config: ZoomConfig) -> WarehouseTokenChain:
        """This connection's refresh-token chain in the warehouse."""
        return WarehouseTokenChain(_token_store_engine(config.token_store_conn_id), self.zoom_conn_id,
                                   _airflow_fernet())

    def _client_for(self, config: ZoomConfig, chain: WarehouseTokenChain | None) -> ZoomClient:
        return ZoomClient(config, token_chain=chain, mask=mask_secret)

    def get_conn(self) -> ZoomClient:
        """The connection's ZoomClient (created once per hook; limiters and tokens are process-wide)."""
        if self._client is None:
            config = self.get_config()
            chain = self.token_chain(config) if config.grant_type == GRANT_REFRESH_TOKEN else None
            self._client = self._client_for(config, chain)
        return self._client

    def seed_from_authorization_code(self, code: str, redirect_uri: str, *, code_verifier: str | None = None,
                                     chain: WarehouseTokenChain | None = None) -> AccessToken:
        """Start (or replace) this connection's refresh-token chain from an authorization code.

        ``chain``: the caller's handle on the chain (it keeps its engine); without one, the hook
        opens the chain and closes it again, so a long-lived API server keeps no pool per connect.
        """
        config = self.get_config()
        mask_secret(code)
        endpoint = TokenEndpoint(config.oauth_url, config.client_id, config.client_secret, timeout=config.timeout)
        target = chain or self.token_chain(config)
        try:
            return exchange_authorization_code(endpoint, target, code=code, redirect_uri=redirect_uri,
                                               code_verifier=code_verifier, mask=mask_secret)
        finally:
            if chain is None:
                target.engine.dispose()

    def validate(self, required: tuple[str, ...] = DEFAULT_REQUIRED) -> ValidationReport:
        """Read-only checks (token, users, settings, meetings, webinars) and which processes the scopes allow."""
        return validate_client(self.get_conn(), required=required)

    def test_report(self) -> ValidationReport:
        """What a connection test finds (Airflow's Test button, the views' "Validate connection").

        A test uses the connection's chain but never starts one from the ``refresh_token`` extra:
        the UI's synchronous Test runs the hook under a temporary connection id, and a chain
        started there would use up the refresh token the connection's own chain needs. Raises
        what reading the connection raises; Zoom's answers are in the report.
        """
        chain = client = None
        try:
            config = self.get_config()
            if config.grant_type == GRANT_REFRESH_TOKEN:
                chain = self.token_chain(config)
                config = replace(config, refresh_token=None)
            client = self._client_for(config, chain)
            return validate_client(client)
        finally:  # the API server lives long: keep no idle HTTP or warehouse connection
            if client is not None:
                client.close()
            if chain is not None:
                chain.engine.dispose()

    def test_connection(self) -> tuple[bool, str]:
        """Airflow's Test button / ``airflow connections test``: (ok, message); never raises."""
        try:
            report = self.test_report()
        except (ZoomError, ValueError) as exc:
            return False, f"Zoom connection failed: {exc}"
        except Exception as exc:  # noqa: BLE001 - the UI needs a message, not a traceback
            return False, f"Zoom connection failed: {type(exc).__name__}: {exc}"
        return report.ok, report.summary()
