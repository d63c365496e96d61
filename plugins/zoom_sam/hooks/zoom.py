"""ZoomHook: an Airflow connection of type ``zoom`` -> a :class:`zoom_sam.zoom.client.ZoomClient`.

Connection (DESIGN.md): host = API base URL (empty: https://api.zoom.us/v2), login = client id,
password = client secret, extra: ``account_id``, ``oauth_url`` (default
https://zoom.us/oauth/token), ``grant_type`` (``account_credentials`` | ``refresh_token``),
``refresh_token`` (initial seed of the token store), ``plan`` (``pro`` | ``business``) or
``rate_limits`` ({"Light": n, "Medium": n, "Heavy": n}), ``max_in_flight``, ``timeout``,
``rate_safety``; every extra and its range in :mod:`zoom_sam.zoom.extras`, which refuses bad and
unknown ones when the client is built.

No I/O happens in ``__init__``; the connection is read on the first :meth:`get_conn`.
"""
from __future__ import annotations

import logging
from typing import Any

from airflow.sdk import BaseHook

from zoom_sam.zoom.auth import FileRefreshTokenStore, RefreshTokenStore
from zoom_sam.zoom.client import ZoomClient, ZoomConfig
from zoom_sam.zoom.errors import ZoomError
from zoom_sam.zoom.validate import DEFAULT_REQUIRED, ValidationReport, validate_client

log = logging.getLogger(__name__)


def _airflow_mask_secret(value: str) -> None:
    """Register a runtime secret (access / refresh token) with Airflow's log masker."""
    if not value:
        return
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:  # pragma: no cover - older task SDK layout
        try:
            from airflow.sdk.execution_time.secrets_masker import mask_secret  # type: ignore[no-redef]
        except ImportError:
            return
    try:
        mask_secret(value)
    except Exception:  # noqa: BLE001 - masking must never break a call
        log.debug("could not register a secret with Airflow's masker", exc_info=True)


def _airflow_fernet():
    """Airflow's Fernet when a fernet key is configured, else None (the token file stays plain, 0600)."""
    try:
        from airflow.sdk.crypto import get_fernet

        fernet = get_fernet()
    except Exception:  # noqa: BLE001 - no key configured or no Airflow config
        return None
    return fernet if getattr(fernet, "is_encrypted", False) else None


class ZoomHook(BaseHook):
    """Interact with the Zoom REST API v2 (Software Asset Management calls).

    :param zoom_conn_id: Airflow connection id of conn_type ``zoom``.
    :param token_store: where rotated refresh tokens live (``refresh_token`` grant); default a
        file store under ``$AIRFLOW_HOME/zoom_sam/oauth_tokens``, Fernet-encrypted when Airflow has
        a fernet key.
    :param config_overrides: ZoomConfig fields that win over the connection (tests, benchmarks).
    """

    conn_name_attr = "zoom_conn_id"
    default_conn_name = "zoom_default"
    conn_type = "zoom"
    hook_name = "Zoom"

    def __init__(self, zoom_conn_id: str = default_conn_name, *, token_store: RefreshTokenStore | None = None,
                 config_overrides: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.zoom_conn_id = zoom_conn_id
        self._token_store = token_store
        self._overrides = dict(config_overrides or {})
        self._client: ZoomClient | None = None

    def __repr__(self) -> str:
        return f"ZoomHook(zoom_conn_id={self.zoom_conn_id!r})"

    def get_config(self) -> ZoomConfig:
        conn = self.get_connection(self.zoom_conn_id)
        if conn.password:
            _airflow_mask_secret(conn.password)
        extra = conn.extra_dejson or {}
        if extra.get("refresh_token"):
            _airflow_mask_secret(str(extra["refresh_token"]))
        try:
            return ZoomConfig.from_connection_fields(host=conn.host, login=conn.login, password=conn.password,
                                                     extra=extra, **self._overrides)
        except ValueError as exc:
            raise ValueError(f"Zoom connection {self.zoom_conn_id!r} is misconfigured: {exc}") from None

    def token_store(self) -> RefreshTokenStore:
        if self._token_store is None:
            self._token_store = FileRefreshTokenStore(cipher=_airflow_fernet())
        return self._token_store

    def get_conn(self) -> ZoomClient:
        """The connection's ZoomClient (created once per hook; limiters and tokens are process-wide)."""
        if self._client is None:
            config = self.get_config()
            store = self.token_store() if config.grant_type == "refresh_token" else None
            self._client = ZoomClient(config, token_store=store, mask=_airflow_mask_secret)
        return self._client

    @property
    def client(self) -> ZoomClient:
        return self.get_conn()

    def validate(self, required: tuple[str, ...] = DEFAULT_REQUIRED) -> ValidationReport:
        """Read-only checks (token, users, settings, meetings, webinars) and which processes the scopes allow."""
        return validate_client(self.get_conn(), required=required)

    def test_connection(self) -> tuple[bool, str]:
        """Airflow's Test button / ``airflow connections test``: (ok, message); never raises."""
        try:
            report = self.validate()
        except (ZoomError, ValueError) as exc:
            return False, f"Zoom connection failed: {exc}"
        except Exception as exc:  # noqa: BLE001 - the UI needs a message, not a traceback
            return False, f"Zoom connection failed: {type(exc).__name__}: {exc}"
        return report.ok, report.summary()
